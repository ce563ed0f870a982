"""Utility metrics behind one protocol: how useful is a release, next to how risky it is?

Every metric follows :class:`~metrics.base.Metric`: a ``name``, a ``direction`` ("maximize" or
"minimize"), ``bounds`` and a ``compute(train, synthetic, control=None, *, schema, random_state=None,
**params)`` that returns a frozen :class:`~metrics.base.MetricResult` with an exact JSON round trip.
Metrics are found by name through the registry (built-ins, then plugins from the entry-point group
``synth_audit.metrics``); importing this package registers nothing.

Built-in tabular metrics (all maximise): ``marginals`` [0, 1], ``pairwise`` [0, 1], ``detection``
[0, 1] and ``ml_efficacy`` [0, 1.5] (ideal 1). :func:`compute_utility` runs several at once and
:func:`utility_score` averages their normalised values.

    >>> from metrics import compute_utility, utility_score
    >>> results = compute_utility(train, synthetic, control, schema=schema, target="income")
    >>> results["detection"].value, utility_score(results)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics.base import Direction, Metric, MetricResult, normalize
from metrics.registry import (
    ENTRY_POINT_GROUP,
    MetricRegistry,
    available_metrics,
    get_metric,
    register_metric,
    unregister_metric,
)
from metrics.utility import (
    DEFAULT_METRICS,
    HEADLINE_METRICS,
    MetricSkippedWarning,
    UtilityResults,
    compute_utility,
    utility_score,
)

if TYPE_CHECKING:
    from metrics.tabular import Detection, Marginals, MLEfficacy, Pairwise

__all__ = [
    "DEFAULT_METRICS",
    "ENTRY_POINT_GROUP",
    "HEADLINE_METRICS",
    "Detection",
    "Direction",
    "MLEfficacy",
    "Marginals",
    "Metric",
    "MetricRegistry",
    "MetricResult",
    "MetricSkippedWarning",
    "Pairwise",
    "UtilityResults",
    "available_metrics",
    "compute_utility",
    "get_metric",
    "normalize",
    "register_metric",
    "unregister_metric",
    "utility_score",
]

_LAZY = {"Detection", "Marginals", "MLEfficacy", "Pairwise"}


def __getattr__(name: str) -> Any:
    # The metric classes pull in scipy; import them only when asked for.
    if name in _LAZY:
        from metrics import tabular

        return getattr(tabular, name)
    raise AttributeError(f"module 'metrics' has no attribute {name!r}")
