"""Generators by name: built-ins, third-party plugins (entry points) and explicit registrations.

* Built-ins are listed here as import paths and imported on first use; importing :mod:`generators`
  registers nothing and imports no modelling library.
* Third-party packages add generators through the entry-point group ``synth_audit.generators``
  (``name = "package.module:factory"``). Entry points are read once, on the first registry call; one
  that cannot be loaded, or that reuses a built-in name, is skipped with a warning, never a crash.
* :func:`register_generator` adds a factory in-process and refuses a name that is taken unless
  ``replace=True``.

The registry is one :class:`synth_audit.registry.Registry`. A factory is any callable that takes keyword parameters and returns a :class:`~generators.base.Generator`
(usually the class itself). :func:`make_generator` checks parameter names before calling it (unknown
names are a ConfigError that lists the valid ones) and, for :class:`~generators.base.BaseGenerator`
subclasses, the values too, so a study spec fails when it is loaded, not hours into a run.
"""

from __future__ import annotations

import difflib
import inspect
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import entry_points
from typing import Any

from synth_audit.errors import ConfigError
from synth_audit.registry import Entry, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "GeneratorInfo",
    "GeneratorPluginWarning",
    "available_generators",
    "generator_factory",
    "make_generator",
    "register_generator",
    "unregister_generator",
]

ENTRY_POINT_GROUP = "synth_audit.generators"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")

BUILTINS: dict[str, str] = {
    "copy": "generators.baselines:CopyGenerator",
    "leaky": "generators.baselines:LeakyGenerator",
    "independent_marginals": "generators.baselines:IndependentMarginalsGenerator",
    "gaussian_copula": "generators.sdv_adapter:GaussianCopulaGenerator",
    "ctgan": "generators.sdv_adapter:CTGANGenerator",
    "tvae": "generators.sdv_adapter:TVAEGenerator",
    "copula_gan": "generators.sdv_adapter:CopulaGANGenerator",
    "synthcity": "generators.synthcity_adapter:SynthcityGenerator",
    "privbayes": "generators.synthcity_adapter:PrivBayesGenerator",
    "dpgan": "generators.synthcity_adapter:DPGANGenerator",
}


class GeneratorPluginWarning(UserWarning):
    """A third-party generator (entry point) could not be registered; it is skipped."""


@dataclass(frozen=True)
class GeneratorInfo:
    """What a user needs to choose a generator."""

    name: str
    description: str
    needs_holdout: bool
    has_epsilon: bool
    source: str  # "built-in", "entry point 'pkg.mod:obj'", "registered"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _callable(obj: Any) -> Any:
    if not callable(obj):
        raise TypeError(f"it is a {type(obj).__name__}, not a callable")
    return obj


_registry = Registry(
    "generator",
    group=ENTRY_POINT_GROUP,
    builtins=BUILTINS,
    discover=lambda: entry_points(group=ENTRY_POINT_GROUP),  # looked up when called
    plugin_conflicts="skip",
    eager=True,
    adapt=_callable,
)
_lock = threading.RLock()
#: Plugins read from the entry points; None until read (setting it to None re-reads them).
_plugins: dict[str, Entry] | None = None


def _load_plugins() -> dict[str, Entry]:
    global _plugins
    with _lock:
        if _plugins is not None:
            return _plugins
        _registry.invalidate()
        found = _registry.plugins()
        for p in _registry.problems:
            where = f"entry point {p.value!r}"
            if p.reason == "duplicate":
                by = "a built-in generator" if p.name in BUILTINS else "another plugin"
                text = (
                    f"Generator plugin {p.name!r} ({where}) is skipped: the name is already taken "
                    f"by {by}. Rename it in the package's '{ENTRY_POINT_GROUP}' entry points."
                )
            else:
                text = (
                    f"Generator plugin {p.name!r} ({where}) could not be loaded and is skipped: "
                    f"{p.detail}. Reinstall or fix the package that provides it."
                )
            warnings.warn(text, GeneratorPluginWarning, stacklevel=3)
        _plugins = found
        return found


def _entries() -> dict[str, Entry]:
    with _lock:
        _load_plugins()
        return _registry.entries()


def register_generator(name: str, factory: Callable[..., Any], *, replace: bool = False) -> None:
    """Make ``make_generator(name, **params)`` call ``factory(**params)``.

    A name that is taken (built-in, plugin or registered) is refused unless ``replace=True``.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"A generator name must be a str of letters, digits, '_', '.' or '-' that starts with "
            f"a letter. Got {name!r}."
        )
    if not callable(factory):
        raise ConfigError(
            f"The factory registered for generator {name!r} must be callable (a class or a "
            f"function returning a generator). Got {type(factory).__name__}."
        )
    with _lock:
        _load_plugins()
        _registry.register(name, factory, replace=replace)


def unregister_generator(name: str) -> None:
    """Remove a generator added with :func:`register_generator` (built-ins stay)."""
    with _lock:
        _registry.unregister(name)


def _unknown_name(name: Any, known: list[str]) -> ConfigError:
    hint = difflib.get_close_matches(str(name), known, n=1)
    return ConfigError(
        f"Unknown generator {name!r}."
        + (f" Did you mean {hint[0]!r}?" if hint else "")
        + f" Known generators: {', '.join(repr(k) for k in known)}."
    )


def generator_factory(name: str) -> Callable[..., Any]:
    """The factory registered under ``name`` (ConfigError listing the known names if none)."""
    entries = _entries()
    if name not in entries:
        raise _unknown_name(name, sorted(entries))
    return _registry.resolve(entries[name])  # type: ignore[no-any-return]


def _param_names(factory: Callable[..., Any]) -> list[str] | None:
    """The keyword parameters ``factory`` accepts; None when it accepts any (``**kwargs``)."""
    getter = getattr(factory, "_get_param_names", None)
    if inspect.isclass(factory) and callable(getter):
        return list(getter())
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    names = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.append(p.name)
    return names


def make_generator(name: str, **params: Any) -> Any:
    """A new, unfitted generator ``name`` with ``params``.

    Unknown names and unknown parameters are ConfigErrors that list what is valid; parameter values
    are checked too where the generator supports it (``validate_params``).
    """
    factory = generator_factory(name)
    valid = _param_names(factory)
    if valid is not None:
        unknown = sorted(set(params) - set(valid))
        if unknown:
            hints = []
            for u in unknown:
                close = difflib.get_close_matches(u, valid, n=1)
                if close:
                    hints.append(f"{u!r} -> {close[0]!r}?")
            raise ConfigError(
                f"Generator {name!r} has no parameter(s) {', '.join(repr(u) for u in unknown)}."
                + (f" Did you mean: {'; '.join(hints)}" if hints else "")
                + f" Valid parameters: {', '.join(repr(v) for v in sorted(valid)) or '(none)'}."
            )
    try:
        generator = factory(**params)
    except ConfigError:
        raise
    except TypeError as exc:
        raise ConfigError(
            f"Generator {name!r} could not be created with {params!r}: {exc}."
        ) from None
    validate = getattr(generator, "validate_params", None)
    if callable(validate):
        validate()
    return generator


def available_generators() -> dict[str, GeneratorInfo]:
    """Every generator by name: description, whether it needs a holdout, whether it has an ε."""
    out: dict[str, GeneratorInfo] = {}
    for name, entry in sorted(_entries().items()):
        try:
            factory = _registry.resolve(entry)
        except Exception as exc:  # a broken built-in module would be a bug; say so, don't crash
            out[name] = GeneratorInfo(
                name, f"(cannot be imported: {exc})", False, False, entry.source
            )
            continue
        description = getattr(factory, "description", "") or _first_doc_line(factory)
        out[name] = GeneratorInfo(
            name=name,
            description=str(description),
            needs_holdout=bool(getattr(factory, "needs_holdout", False)),
            has_epsilon=bool(getattr(factory, "has_epsilon", False)),
            source=entry.source,
        )
    return out


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
