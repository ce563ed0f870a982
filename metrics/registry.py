"""Where metrics are found by name: built-ins, entry-point plugins and explicit registrations.

Nothing is registered at import time. The first lookup (``get_metric``, ``available_metrics`` or
``register_metric``) registers the built-in metrics, then every plugin advertised in the entry-point
group ``synth_audit.metrics``. A plugin's entry point may name a metric instance, a class whose
no-argument constructor returns one, or any callable that does::

    [project.entry-points."synth_audit.metrics"]
    my_metric = "my_package.metrics:MyMetric"

Names are unique: registering a name twice is refused unless ``replace=True``; a plugin that reuses
a built-in's name is skipped (and logged), never silently preferred. A plugin that fails to load is
skipped with a logged warning and named in the error for an unknown metric.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable, Iterable
from typing import Any

from metrics.base import DIRECTIONS, Metric
from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError
from synth_audit.registry import Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "MetricRegistry",
    "available_metrics",
    "default_registry",
    "get_metric",
    "register_metric",
    "unregister_metric",
]

ENTRY_POINT_GROUP = "synth_audit.metrics"
logger = get_logger("synth_audit.metrics.registry")


def _builtin_metrics() -> list[Metric]:
    from metrics.tabular import Detection, Marginals, MLEfficacy, Pairwise

    return [Marginals(), Pairwise(), Detection(), MLEfficacy()]


def _validate(metric: Any) -> Metric:
    """Check the declared attributes; collect every problem and raise once."""
    problems = []
    name = getattr(metric, "name", None)
    label = repr(name) if isinstance(name, str) else type(metric).__name__
    if not isinstance(name, str) or not name.strip():
        problems.append(f"'name' must be a non-empty str (got {name!r})")
    direction = getattr(metric, "direction", None)
    if direction not in DIRECTIONS:
        problems.append(f"'direction' must be 'maximize' or 'minimize' (got {direction!r})")
    bounds = getattr(metric, "bounds", None)
    try:
        lo, hi = (float(b) for b in bounds)  # type: ignore[union-attr]
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(
            f"'bounds' must be a pair of floats (low, high) with low < high (got {bounds!r})"
        )
    if not isinstance(getattr(metric, "description", None), str):
        problems.append("'description' must be a str")
    if not callable(getattr(metric, "compute", None)):
        problems.append("it must have a compute(train, synthetic, control, *, schema, ...) method")
    if problems:
        raise ConfigError(f"Metric {label} cannot be registered: {'; '.join(problems)}.")
    return metric  # type: ignore[no-any-return]


def _as_metric(obj: Any) -> Metric:
    """An entry point's object as a metric: an instance, or a class / callable that returns one."""
    metric = obj() if isinstance(obj, type) or not hasattr(obj, "compute") else obj
    return _validate(metric)


class MetricRegistry:
    """Name → metric instance. ``default_registry`` is the one the engine uses.

    One :class:`synth_audit.registry.Registry` underneath: built-ins, then the entry-point group
    (plugins keyed by their metric's ``name``), then registrations.
    """

    def __init__(
        self,
        *,
        builtins: Callable[[], Iterable[Metric]] | None = _builtin_metrics,
        entry_point_group: str | None = ENTRY_POINT_GROUP,
    ) -> None:
        self._builtins = builtins
        self._group = entry_point_group
        self._reg: Registry | None = None
        self._plugin_errors: dict[str, str] = {}

    # -- loading -------------------------------------------------------------------------------------
    def _registry(self) -> Registry:
        if self._reg is not None:
            return self._reg
        builtins = {}
        if self._builtins is not None:
            for m in self._builtins():
                m = _validate(m)
                builtins[m.name] = m
        group = self._group
        reg = Registry(
            "metric",
            group=group,
            builtins=builtins,
            discover=(lambda: importlib.metadata.entry_points(group=group)) if group else list,
            plugin_conflicts="skip",
            eager=True,
            adapt=_as_metric,
            name_of=lambda metric, _ep: str(metric.name),
        )
        self._reg = reg  # set first: a plugin that looks metrics up while loading must not recurse
        reg.plugins()
        for p in reg.problems:
            ep = p.entry_point or p.name
            if p.reason == "duplicate":
                self._plugin_errors[ep] = f"name {p.name!r} is already registered"
                logger.warning(
                    "Metric plugin %r (%s) was skipped: a metric named %r is already registered.",
                    ep,
                    p.value,
                    p.name,
                )
            else:
                self._plugin_errors[ep] = p.detail
                logger.warning("Metric plugin %r (%s) failed to load: %s", ep, p.value, p.detail)
        return reg

    # -- public --------------------------------------------------------------------------------------
    def register(self, metric: Metric, *, replace: bool = False) -> Metric:
        """Add ``metric`` (an instance following :class:`~metrics.base.Metric`); returns it."""
        reg = self._registry()
        metric = _validate(metric)
        reg.register(metric.name, metric, replace=replace)
        return metric

    def unregister(self, name: str) -> None:
        """Remove a metric added with :meth:`register` (ConfigError for another name)."""
        reg = self._registry()
        if name not in reg:
            raise ConfigError(self._unknown_message(name))
        reg.unregister(name)

    def get(self, name: str) -> Metric:
        reg = self._registry()
        if not isinstance(name, str) or name not in reg:
            raise ConfigError(self._unknown_message(name))
        return reg.get(name)  # type: ignore[no-any-return]

    def names(self) -> list[str]:
        return self._registry().names()

    @property
    def plugin_errors(self) -> dict[str, str]:
        """Entry points that were skipped, with the reason."""
        self._registry()
        return dict(self._plugin_errors)

    def _unknown_message(self, name: object) -> str:
        known = ", ".join(repr(n) for n in self.names()) or "(none)"
        msg = f"Unknown metric {name!r}. Known metrics: {known}."
        if self._plugin_errors:
            broken = ", ".join(repr(n) for n in sorted(self._plugin_errors))
            msg += f" Plugin(s) that failed to load: {broken} (see the log)."
        return msg


default_registry = MetricRegistry()


def register_metric(metric: Metric, *, replace: bool = False) -> Metric:
    """Register ``metric`` under ``metric.name``; a taken name is refused unless ``replace=True``."""
    return default_registry.register(metric, replace=replace)


def unregister_metric(name: str) -> None:
    default_registry.unregister(name)


def get_metric(name: str) -> Metric:
    """The metric registered as ``name``; ConfigError listing the known names otherwise."""
    return default_registry.get(name)


def available_metrics() -> list[str]:
    """Sorted names of every registered metric (built-ins and plugins)."""
    return default_registry.names()
