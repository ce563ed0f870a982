"""One registry implementation: names → objects, from built-ins, entry points and registrations.

The target, generator and metric registries are each a :class:`Registry` with their own messages
around it. A registry holds

* **built-ins**, given as ``"module:attr"`` strings (imported on first use, so importing a registry
  imports no modelling library) or as objects;
* **plugins** from one entry-point group, read lazily, once, on the first lookup (never at import
  time; :meth:`Registry.invalidate` makes the next lookup read them again);
* **registrations** made in-process with :meth:`Registry.register`.

Names are unique. A plugin that reuses a taken name is a :class:`PluginProblem` naming both sides;
``plugin_conflicts="raise"`` refuses it (a ConfigError listing every clash), ``"skip"`` leaves it out
and keeps the problem for the caller to warn about. ``register`` refuses a taken name unless
``replace=True``. An unknown name is a ConfigError that lists the known ones; an object that cannot
be imported is a ConfigError naming the name, the import path and the cause.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from synth_audit.errors import ConfigError

__all__ = ["Entry", "PluginProblem", "Registry", "load_path"]


def load_path(path: str) -> Any:
    """The object at ``"module:attr"`` (``attr`` may be dotted)."""
    module, sep, attr = path.partition(":")
    if not sep or not module or not attr:
        raise ImportError(f"{path!r} is not of the form 'module:attr'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class Entry:
    """One registered name: where it comes from, and its object (resolved on first use)."""

    name: str
    source: str  # "built-in", "entry point 'pkg.mod:obj'", "registered"
    path: str = ""  # "module:attr" while not resolved
    obj: Any = None
    resolved: bool = False

    @property
    def where(self) -> str:
        """The source with the import path or the object's name, for messages naming this entry."""
        if self.source.startswith("entry point"):
            return self.source
        if self.path:
            return f"{self.source} {self.path!r}"
        t = self.obj if hasattr(self.obj, "__qualname__") else type(self.obj)
        return f"{self.source} {getattr(t, '__module__', '?')}.{t.__qualname__}"


@dataclass(frozen=True)
class PluginProblem:
    """An entry point left out: its name clashes (``reason="duplicate"``) or it cannot be loaded."""

    name: str
    value: str
    reason: Literal["duplicate", "load"]
    detail: str  # the other entry (duplicate) or "ErrorType: message" (load)
    entry_point: str = ""  # the entry point's own name (a plugin may be keyed by another)

    def message(self, what: str) -> str:
        if self.reason == "duplicate":
            return f"the {what} {self.name!r} ({self.value}) is already registered ({self.detail})"
        return f"the {what} {self.name!r} ({self.value}) cannot be loaded: {self.detail}"


class Registry:
    """Name → object. ``what`` names the kind of thing in messages ("target kind", "generator").

    ``discover()`` returns the entry points of ``group`` (default:
    ``importlib.metadata.entry_points(group=group)``, looked up when called). With ``eager`` a
    plugin's object is loaded when the group is read, and ``name_of(obj, entry_point_name)`` may
    key it by a name of its own (a metric's ``name``); ``adapt(obj)`` turns a loaded object into
    the registered one (e.g. instantiates a class) and may raise to refuse it.
    """

    def __init__(
        self,
        what: str,
        *,
        group: str | None,
        builtins: Mapping[str, Any] | None = None,
        discover: Callable[[], Iterable[Any]] | None = None,
        plugin_conflicts: Literal["raise", "skip"] = "raise",
        eager: bool = False,
        adapt: Callable[[Any], Any] | None = None,
        name_of: Callable[[Any, str], str] | None = None,
    ) -> None:
        self.what = what
        self.group = group
        self._builtins = dict(builtins or {})
        self._discover = discover
        self.plugin_conflicts = plugin_conflicts
        self.eager = eager
        self._adapt = adapt
        self._name_of = name_of
        self._lock = threading.RLock()
        self._plugins: dict[str, Entry] | None = None
        self._problems: list[PluginProblem] = []
        self._registered: dict[str, Entry] = {}
        self._resolved_builtins: dict[str, Entry] = {}

    # -- entry points ---------------------------------------------------------------------------
    def _entry_points(self) -> Iterable[Any]:
        if self._discover is not None:
            return self._discover()
        if self.group is None:
            return []
        return importlib.metadata.entry_points(group=self.group)

    def invalidate(self) -> None:
        """Read the entry points again on the next lookup."""
        with self._lock:
            self._plugins = None
            self._problems = []

    def plugins(self) -> dict[str, Entry]:
        """The plugins of the entry-point group (read once)."""
        with self._lock:
            if self._plugins is not None:
                return self._plugins
            self._plugins = {}  # set first: a plugin that looks names up while loading must not recurse
            found: dict[str, Entry] = {}
            problems: list[PluginProblem] = []
            for ep in sorted(self._entry_points(), key=lambda e: str(e.name)):
                source = f"entry point {ep.value!r}"
                obj: Any = None
                name = str(ep.name)
                if self.eager:
                    try:
                        obj = ep.load()
                        if self._adapt is not None:
                            obj = self._adapt(obj)
                        if self._name_of is not None:
                            name = self._name_of(obj, name)
                    except Exception as exc:  # a broken plugin must not break the built-ins
                        text = str(exc).strip().splitlines()
                        detail = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
                        problems.append(
                            PluginProblem(str(ep.name), str(ep.value), "load", detail, str(ep.name))
                        )
                        continue
                taken = self._builtin_entry(name) or found.get(name) or self._registered.get(name)
                if taken is not None:
                    problems.append(
                        PluginProblem(name, str(ep.value), "duplicate", taken.where, str(ep.name))
                    )
                    continue
                entry = Entry(name, source, path=str(ep.value))
                if self.eager:
                    entry.obj, entry.resolved = obj, True
                found[name] = entry
            self._problems = problems
            if problems and self.plugin_conflicts == "raise":
                self._plugins = None
                what = self.what[:1].upper() + self.what[1:]
                raise ConfigError(
                    f"{what} plugins clash: "
                    + "; ".join(p.message(self.what) for p in problems)
                    + f". Rename the plugin's entry point in the group {self.group!r}, or fix the "
                    "package that provides it."
                )
            self._plugins = found
            return found

    @property
    def problems(self) -> list[PluginProblem]:
        """Entry points left out (``plugin_conflicts="skip"``), with the reason."""
        self.plugins()
        return list(self._problems)

    # -- entries --------------------------------------------------------------------------------
    def _builtin_entry(self, name: str) -> Entry | None:
        if name not in self._builtins:
            return None
        entry = self._resolved_builtins.get(name)
        if entry is None:
            value = self._builtins[name]
            if isinstance(value, str):
                entry = Entry(name, "built-in", path=value)
            else:
                entry = Entry(name, "built-in", obj=value, resolved=True)
            self._resolved_builtins[name] = entry
        return entry

    def entries(self) -> dict[str, Entry]:
        """Every entry by name: built-ins, then plugins, then registrations."""
        with self._lock:
            out = {n: e for n in self._builtins if (e := self._builtin_entry(n)) is not None}
            out.update(self.plugins())
            out.update(self._registered)
            return out

    def names(self) -> list[str]:
        return sorted(self.entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.entries()

    def paths(self) -> dict[str, str]:
        """Name → import path (or the object's qualified name) of every entry."""
        out = {}
        for name, e in self.entries().items():
            if e.path:
                out[name] = e.path
            else:
                t = e.obj if isinstance(e.obj, type) else type(e.obj)
                out[name] = f"{t.__module__}:{t.__qualname__}"
        return out

    def unknown_message(self, name: object, *, hint: bool = True) -> str:
        known = self.names()
        msg = f"Unknown {self.what} {name!r}."
        close = difflib.get_close_matches(str(name), known, n=1) if hint else []
        if close:
            msg += f" Did you mean {close[0]!r}?"
        msg += f" Known: {', '.join(map(repr, known)) or '(none)'}."
        return msg

    def entry(self, name: str) -> Entry:
        entries = self.entries()
        if not isinstance(name, str) or name not in entries:
            raise ConfigError(self.unknown_message(name))
        return entries[name]

    def get(self, name: str) -> Any:
        """The object registered as ``name`` (imported on first use)."""
        return self.resolve(self.entry(name))

    def resolve(self, entry: Entry) -> Any:
        with self._lock:
            if entry.resolved:
                return entry.obj
            try:
                obj = load_path(entry.path)
                if self._adapt is not None:
                    obj = self._adapt(obj)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(
                    f"The {self.what} {entry.name!r} points at {entry.path!r}, which cannot be "
                    f"loaded ({type(exc).__name__}: {exc}). Reinstall the package that provides it."
                ) from None
            entry.obj, entry.resolved = obj, True
            return obj

    # -- registrations --------------------------------------------------------------------------
    def register(self, name: str, obj: Any, *, replace: bool = False) -> None:
        """Add ``obj`` as ``name``; a taken name is refused unless ``replace=True``."""
        with self._lock:
            taken = self.entries().get(name)
            if taken is not None and not replace:
                raise ConfigError(
                    f"A {self.what} named {name!r} is already registered ({taken.where}). Choose "
                    "another name, or pass replace=True to replace it on purpose."
                )
            self._registered[name] = Entry(name, "registered", obj=obj, resolved=True)

    def unregister(self, name: str) -> None:
        """Remove a name added with :meth:`register` (built-ins and plugins stay)."""
        with self._lock:
            if name not in self._registered:
                raise ConfigError(
                    f"No {self.what} named {name!r} was registered in this process; registered: "
                    f"{', '.join(map(repr, sorted(self._registered))) or '(none)'}."
                )
            del self._registered[name]
