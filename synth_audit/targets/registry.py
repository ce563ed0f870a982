"""Target kinds by name: the built-ins plus plugins from the entry-point group ``synth_audit.targets``.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."synth_audit.targets"]
    my_model = "my_package.targets:MyModelTarget"

The object named must have a class attribute ``kind`` equal to the entry point's name and the members
of :class:`synth_audit.targets.base.Target`; :func:`synth_audit.testing.check_target` checks the rest.
A name that is already taken is refused (no silent replacement of a built-in). Entry points are read
lazily, on first use, never at import time (one :class:`synth_audit.registry.Registry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synth_audit.errors import ConfigError
from synth_audit.registry import Registry

__all__ = ["ENTRY_POINT_GROUP", "available_targets", "make_target", "target_class"]

ENTRY_POINT_GROUP = "synth_audit.targets"

_BUILTIN = {
    "release": "synth_audit.targets.release:ReleaseTarget",
    "tabular_generator": "synth_audit.targets.generator:GeneratorTarget",
    "classifier": "synth_audit.models.target:ClassifierTarget",
    "causal_lm": "synth_audit.lm.target:CausalLMTarget",
    "timeseries_generator": "synth_audit.timeseries.target:TimeSeriesGeneratorTarget",
    "diffusion": "synth_audit.diffusion.target:DiffusionTarget",
}

_registry = Registry(
    "target kind", group=ENTRY_POINT_GROUP, builtins=_BUILTIN, plugin_conflicts="raise"
)

#: The plugins read from the entry points (kind -> path); None until read. Setting it to None makes
#: the next lookup read the entry points again.
_plugins: dict[str, str] | None = None


def _load_plugins() -> dict[str, str]:
    global _plugins
    if _plugins is None:
        _registry.invalidate()
        _plugins = {name: e.path for name, e in _registry.plugins().items()}
    return _plugins


def available_targets() -> dict[str, str]:
    """Every target kind and the object path that implements it (built-ins first)."""
    return {**_BUILTIN, **_load_plugins()}


def target_class(kind: str) -> Any:
    """The class (or factory) registered for ``kind``; a ConfigError names the known kinds."""
    known = available_targets()
    if kind not in known:
        raise ConfigError(
            f"Unknown target kind {kind!r}. Known kinds: {', '.join(map(repr, sorted(known)))}. "
            f"Plugins register more through the entry-point group {ENTRY_POINT_GROUP!r}."
        )
    obj = _registry.get(kind)
    declared = getattr(obj, "kind", None)
    if declared != kind:
        raise ConfigError(
            f"The target kind {kind!r} is registered to {known[kind]!r}, whose 'kind' attribute is "
            f"{declared!r}. A target class must declare kind = {kind!r}."
        )
    return obj


def make_target(kind: str, name: str, params: Mapping[str, Any]) -> Any:
    """An unfitted target of ``kind`` named ``name`` with ``params`` (what a study run builds).

    ``tabular_generator``: the generator ``name`` from the generator registry, wrapped in a
    :class:`~synth_audit.targets.GeneratorTarget`. Other kinds: the registered class's
    ``from_config(name, params)`` when it has one, else ``cls(**params)``.
    """
    if kind == "tabular_generator":
        from synth_audit.targets.generator import GeneratorTarget

        return GeneratorTarget.from_name(name, **dict(params))
    cls = target_class(kind)
    factory = getattr(cls, "from_config", None)
    if callable(factory):
        return factory(name, dict(params))
    try:
        return cls(**dict(params))
    except TypeError as exc:
        raise ConfigError(
            f"The {kind} target {name!r} does not accept the parameters {dict(params)!r} "
            f"({exc}). Check the study's parameters for it."
        ) from None
