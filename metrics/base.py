"""The one protocol every utility metric follows, and the frozen value it returns.

A metric *declares* its direction (``"maximize"`` or ``"minimize"``) and its bounds, so the frontier,
the report and :func:`metrics.utility_score` can put any metric on a common 0-to-1, higher-is-better
axis with :meth:`MetricResult.normalized` and need no special case per metric (the habit of SDMetrics'
``goal`` / ``min_value`` / ``max_value``).

A metric may also declare an ``ideal`` value inside its bounds: the value at which the release is as
good as it gets. ML efficacy is the example: its value is a ratio bounded by ``(0, 1.5)`` (synthetic
data can beat the real data by chance), but a ratio of 1 is already ideal, so 1.0 and 1.3 both
normalise to 1. Without ``ideal`` the best bound is the ideal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from synth_audit.errors import ConfigError
from synth_audit.results import AuditWarning, jsonable
from synth_audit.schema import Schema

__all__ = ["DIRECTIONS", "Direction", "Metric", "MetricResult", "normalize"]

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[Direction, ...] = ("maximize", "minimize")


@runtime_checkable
class Metric(Protocol):
    """A utility metric: compares the release (``synthetic``) with the real ``train`` data.

    Implementations need not inherit from this class. ``compute`` must be deterministic for a given
    ``random_state``, must not modify its inputs and receives the frames as
    :func:`synth_audit.data.prepare_inputs` returns them (identical columns; numeric columns float,
    datetime columns tz-aware ``datetime64``, categorical and boolean columns ``str`` or NaN).
    Unknown keyword ``params`` are a :class:`~synth_audit.errors.ConfigError`.
    """

    name: str
    direction: Direction
    bounds: tuple[float, float]
    description: str

    def compute(
        self,
        train: pd.DataFrame,
        synthetic: pd.DataFrame,
        control: pd.DataFrame | None = None,
        *,
        schema: Schema,
        random_state: int | None = None,
        **params: Any,
    ) -> MetricResult: ...


def normalize(
    value: float,
    direction: Direction,
    bounds: tuple[float, float],
    ideal: float | None = None,
) -> float:
    """Map ``value`` to [0, 1] with 1 = best, using the declared direction, bounds and ideal.

    ``maximize``: ``(min(value, ideal) − low) / (ideal − low)`` with ``ideal`` defaulting to ``high``;
    ``minimize``: ``(high − max(value, ideal)) / (high − ideal)`` with ``ideal`` defaulting to ``low``.
    Values outside the bounds are clipped. Infinite bounds cannot be normalised (ConfigError).
    """
    low, high = float(bounds[0]), float(bounds[1])
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ConfigError(
            f"Cannot normalise a metric with bounds {bounds!r}: both bounds must be finite and "
            f"low < high."
        )
    if direction == "maximize":
        best = high if ideal is None else float(ideal)
        score = (min(value, best) - low) / (best - low)
    elif direction == "minimize":
        best = low if ideal is None else float(ideal)
        score = (high - max(value, best)) / (high - best)
    else:
        raise ConfigError(
            f"A metric's direction must be 'maximize' or 'minimize'. Got {direction!r}."
        )
    return float(min(1.0, max(0.0, score)))


def _opt_float(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class MetricResult:
    """One metric's outcome: value, declared direction/bounds, optional CI, details and provenance.

    ``details`` holds per-column / per-pair scores and whatever explains the value; ``params`` the
    resolved parameters (defaults included); ``seed`` the integer seed actually used (drawn and
    recorded when ``random_state`` was None). Both dictionaries are converted to plain JSON types on
    construction, so ``MetricResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r`` exactly.
    ``ci_low``/``ci_high`` are None where the metric has no cheap spread estimate.
    """

    name: str
    value: float
    direction: Direction
    bounds: tuple[float, float]
    ci_low: float | None = None
    ci_high: float | None = None
    confidence_level: float | None = None
    ideal: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    warnings: tuple[AuditWarning, ...] = ()

    def __post_init__(self) -> None:
        value = float(self.value)
        if not math.isfinite(value):
            raise ValueError(
                f"MetricResult {self.name!r}: value must be finite. Got {self.value!r}."
            )
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"MetricResult {self.name!r}: direction must be 'maximize' or 'minimize'. "
                f"Got {self.direction!r}."
            )
        set_ = object.__setattr__
        set_(self, "value", value)
        set_(self, "bounds", (float(self.bounds[0]), float(self.bounds[1])))
        set_(self, "ci_low", _opt_float(self.ci_low))
        set_(self, "ci_high", _opt_float(self.ci_high))
        set_(self, "confidence_level", _opt_float(self.confidence_level))
        set_(self, "ideal", _opt_float(self.ideal))
        set_(self, "details", jsonable(dict(self.details)))
        set_(self, "params", jsonable(dict(self.params)))
        set_(self, "seed", None if self.seed is None else int(self.seed))
        set_(self, "warnings", tuple(self.warnings))

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_low, self.ci_high)

    def normalized(self) -> float:
        """The value on [0, 1] with 1 = best (see :func:`normalize`)."""
        return normalize(self.value, self.direction, self.bounds, self.ideal)

    def normalized_ci(self) -> tuple[float, float] | None:
        """The CI on the normalised scale (ends swapped for ``minimize`` metrics), or None."""
        if self.ci is None:
            return None
        a = normalize(self.ci[0], self.direction, self.bounds, self.ideal)
        b = normalize(self.ci[1], self.direction, self.bounds, self.ideal)
        return (min(a, b), max(a, b))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "direction": self.direction,
            "bounds": list(self.bounds),
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence_level": self.confidence_level,
            "ideal": self.ideal,
            "details": self.details,
            "params": self.params,
            "seed": self.seed,
            "warnings": [w.to_dict() for w in self.warnings],
        }
        out: dict[str, Any] = jsonable(d)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MetricResult:
        bounds = d["bounds"]
        return cls(
            name=str(d["name"]),
            value=float(d["value"]),
            direction=d["direction"],
            bounds=(float(bounds[0]), float(bounds[1])),
            ci_low=_opt_float(d.get("ci_low")),
            ci_high=_opt_float(d.get("ci_high")),
            confidence_level=_opt_float(d.get("confidence_level")),
            ideal=_opt_float(d.get("ideal")),
            details=dict(d.get("details", {})),
            params=dict(d.get("params", {})),
            seed=None if d.get("seed") is None else int(d["seed"]),
            warnings=tuple(AuditWarning.from_dict(w) for w in d.get("warnings", ())),
        )
