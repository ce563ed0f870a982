"""Convenience entry points: compute several utility metrics at once and summarise them in one number.

``utility_score`` is the *mean of the normalised values* (:meth:`MetricResult.normalized`: 0 to 1,
1 = best, from each metric's declared direction, bounds and ideal) of the headline metrics present in
the results: ``marginals``, ``pairwise``, ``detection`` and ``ml_efficacy``. Each headline metric
weighs the same; a headline metric that was not computed (for instance ML efficacy without a target)
is left out of the mean rather than counted as 0, so compare scores only across runs that computed the
same metrics (the study and frontier code does). Other metrics in ``results`` are ignored unless named
in ``headline``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from metrics.base import MetricResult
from metrics.registry import get_metric
from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError
from synth_audit.results import AuditWarning
from synth_audit.schema import Schema

__all__ = [
    "DEFAULT_METRICS",
    "HEADLINE_METRICS",
    "MetricSkippedWarning",
    "UtilityResults",
    "compute_utility",
    "utility_score",
]

logger = get_logger("synth_audit.metrics.utility")

DEFAULT_METRICS: tuple[str, ...] = ("marginals", "pairwise", "detection", "ml_efficacy")
HEADLINE_METRICS: tuple[str, ...] = ("marginals", "pairwise", "detection", "ml_efficacy")


class MetricSkippedWarning(UserWarning):
    """A requested metric was not computed (e.g. ML efficacy without a target column)."""


class UtilityResults(dict[str, MetricResult]):
    """The results by metric name (a plain ``dict``), plus ``skipped``: the metrics left out and why."""

    skipped: tuple[AuditWarning, ...] = ()


def compute_utility(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame | None = None,
    *,
    schema: Schema,
    metrics: Sequence[str] = DEFAULT_METRICS,
    target: str | None = None,
    random_state: int | None = 0,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> UtilityResults:
    """Compute ``metrics`` (names in the registry) with the same ``random_state``.

    ``target`` is passed to ``ml_efficacy``; without it ML efficacy is skipped with a
    :class:`MetricSkippedWarning` (also recorded in ``result.skipped``). ``params`` maps a metric name
    to extra keyword parameters for it. Each metric gets the same seed, so a result here equals
    ``get_metric(name).compute(..., random_state=random_state)``.
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    params = dict(params or {})
    unknown_params = set(params) - set(metrics)
    if unknown_params:
        raise ConfigError(
            f"compute_utility got parameters for metric(s) that were not requested: "
            f"{', '.join(repr(n) for n in sorted(unknown_params))}. Requested: "
            f"{', '.join(repr(n) for n in metrics)}."
        )
    resolved = [get_metric(name) for name in dict.fromkeys(metrics)]  # unknown names fail first
    out = UtilityResults()
    skipped: list[AuditWarning] = []
    for metric in resolved:
        kwargs: dict[str, Any] = dict(params.get(metric.name, {}))
        if metric.name == "ml_efficacy":
            if target is None and kwargs.get("target") is None:
                w = AuditWarning(
                    "metric_skipped",
                    "ML efficacy was skipped: no target column was given. Pass target='column' "
                    "to measure how well a model trained on the release predicts it.",
                )
                skipped.append(w)
                warnings.warn(w.message, MetricSkippedWarning, stacklevel=2)
                logger.info(w.message)
                continue
            kwargs.setdefault("target", target)
        logger.debug("computing metric %s", metric.name)
        out[metric.name] = metric.compute(
            train, synthetic, control, schema=schema, random_state=random_state, **kwargs
        )
    out.skipped = tuple(skipped)
    return out


def utility_score(
    results: Mapping[str, MetricResult] | Iterable[MetricResult],
    *,
    headline: Sequence[str] = HEADLINE_METRICS,
) -> float:
    """Mean normalised value (0 to 1, 1 = best) of the headline metrics present in ``results``.

    See the module docstring for the definition. Raises ConfigError when none is present.
    """
    items = list(results.values()) if isinstance(results, Mapping) else list(results)
    chosen = [r for r in items if r.name in headline]
    if not chosen:
        present = ", ".join(repr(r.name) for r in items) or "(none)"
        raise ConfigError(
            f"utility_score needs at least one of the headline metrics "
            f"{', '.join(repr(n) for n in headline)}; the results hold {present}."
        )
    return float(sum(r.normalized() for r in chosen) / len(chosen))
