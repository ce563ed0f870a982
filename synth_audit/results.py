"""Frozen result values with an exact JSON round trip (never pickle as an interchange format).

The dictionary form of :class:`AttackResult` is the public "risk object" of ``report.json``: users gate
releases on it, so its keys are a contract (see README, "report.json"):

``value, ci_low, ci_high, confidence_level`` the residual risk, clipped to [0, 1], and its CI;
``residual, error``                         the unclipped residual and its propagated error;
``attack_rate, baseline_rate, control_rate`` Wilson-centre success rates (control is null without a
                                            control set) with ``*_ci`` pairs beside them;
``n_attacks``                               attacks made against training records (the denominator);
``counts``                                  successes and totals of all three attacks;
``warnings``                                list of ``{"code", "message"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.stats import RiskEstimate, SuccessRate

__all__ = ["UNMEASURABLE", "AttackResult", "AuditWarning", "jsonable"]

#: Warning code of a criterion that could not be measured (for example: too few singling-out
#: predicates could be generated). Such a result is shown, but stays out of headlines, ``gate`` and
#: frontiers unless the user asks for it (see :attr:`AttackResult.measurable`).
UNMEASURABLE = "unmeasurable"


@dataclass(frozen=True)
class AuditWarning:
    """A typed warning: ``code`` is stable (for filters), ``message`` is for people."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditWarning:
        return cls(str(d["code"]), str(d["message"]))

    def __str__(self) -> str:
        return self.message


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return str(obj)


def _rate_to_dict(r: SuccessRate) -> dict[str, Any]:
    return {"value": r.value, "error": r.error, "n_success": r.n_success, "n_total": r.n_total}


def _rate_from_dict(d: Mapping[str, Any]) -> SuccessRate:
    return SuccessRate(
        float(d["value"]), float(d["error"]), float(d["n_success"]), int(d["n_total"])
    )


@dataclass(frozen=True)
class AttackResult:
    """One attack's outcome: risk with CI, the three rates, counts, settings, seed and warnings.

    ``per_record`` (one row per attacked real record, train and control) is kept out of equality and
    of :meth:`to_dict`; reports write it as a separate table.
    """

    attack: str
    risk: RiskEstimate
    attack_rate: SuccessRate
    baseline_rate: SuccessRate
    control_rate: SuccessRate | None
    engine: str
    seed: int | None
    params: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[AuditWarning, ...] = ()
    per_record: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def value(self) -> float:
        return self.risk.value

    @property
    def n_attacks(self) -> int:
        return self.attack_rate.n_total

    @property
    def measurable(self) -> bool:
        """False when the attack carries an ``unmeasurable`` warning (its CI says nothing)."""
        return not any(w.code == UNMEASURABLE for w in self.warnings)

    @property
    def beats_baseline(self) -> bool:
        return self.attack_rate.value > self.baseline_rate.value

    def to_dict(self) -> dict[str, Any]:
        ctrl = self.control_rate
        d: dict[str, Any] = {
            "attack": self.attack,
            "value": self.risk.value,
            "ci_low": self.risk.ci_low,
            "ci_high": self.risk.ci_high,
            "confidence_level": self.risk.confidence_level,
            "residual": self.risk.residual,
            "error": self.risk.error,
            "attack_rate": self.attack_rate.value,
            "attack_rate_ci": list(self.attack_rate.ci),
            "baseline_rate": self.baseline_rate.value,
            "baseline_rate_ci": list(self.baseline_rate.ci),
            "control_rate": None if ctrl is None else ctrl.value,
            "control_rate_ci": None if ctrl is None else list(ctrl.ci),
            "n_attacks": self.n_attacks,
            "counts": {
                "attack": _rate_to_dict(self.attack_rate),
                "baseline": _rate_to_dict(self.baseline_rate),
                "control": None if ctrl is None else _rate_to_dict(ctrl),
            },
            "engine": self.engine,
            "seed": self.seed,
            "params": dict(self.params),
            "warnings": [w.to_dict() for w in self.warnings],
            "measurable": self.measurable,
        }
        return jsonable(d)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AttackResult:
        counts = d["counts"]
        risk = RiskEstimate(
            value=float(d["value"]),
            ci_low=float(d["ci_low"]),
            ci_high=float(d["ci_high"]),
            residual=float(d["residual"]),
            error=float(d["error"]),
            confidence_level=float(d["confidence_level"]),
        )
        return cls(
            attack=str(d["attack"]),
            risk=risk,
            attack_rate=_rate_from_dict(counts["attack"]),
            baseline_rate=_rate_from_dict(counts["baseline"]),
            control_rate=None
            if counts.get("control") is None
            else _rate_from_dict(counts["control"]),
            engine=str(d["engine"]),
            seed=None if d.get("seed") is None else int(d["seed"]),
            params=dict(d.get("params", {})),
            warnings=tuple(AuditWarning.from_dict(w) for w in d.get("warnings", ())),
        )
