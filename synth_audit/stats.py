"""Rates, residual risk and their confidence intervals (anonymeter's published semantics).

* A success rate is estimated with the Wilson score interval: the point estimate is the Wilson centre
  ``(s + z²/2) / (n + z²)`` and the error its half-width (Wilson 1927). For the sample sizes of privacy
  attacks the centre is practically ``s / n``; for small ``n`` it is pulled towards 0.5, which keeps
  ``0 < rate < 1`` and makes the residual risk below well defined.
* The residual risk of an attack is ``(attack − control) / (1 − control)``: the share of what the
  attacker could not already learn from the population (the control attack) that the release adds.
  Its error is propagated to first order from both rates' errors.
* The reported risk and its CI are clipped to [0, 1]; the unclipped residual is kept as well so a
  negative residual (control attacked more successfully than train) stays visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from synth_audit.errors import ConfigError

__all__ = ["RiskEstimate", "SuccessRate", "probit", "residual_risk", "wilson_rate"]


def probit(confidence_level: float) -> float:
    """Two-sided z for a confidence level, e.g. 1.96 for 0.95."""
    if not 0.0 < confidence_level < 1.0:
        raise ConfigError(
            f"The 'confidence_level' parameter must be a float in (0, 1). Got {confidence_level!r}."
        )
    return float(norm.ppf(0.5 * (1.0 + confidence_level)))


@dataclass(frozen=True)
class SuccessRate:
    """Estimated success rate of an attack: Wilson centre ± half-width, with the raw counts."""

    value: float
    error: float
    n_success: float  # float: the size-corrected singling-out control count can be fractional
    n_total: int

    @property
    def ci(self) -> tuple[float, float]:
        return (max(0.0, self.value - self.error), min(1.0, self.value + self.error))

    @property
    def raw(self) -> float:
        """The plain share ``n_success / n_total`` (nan when no attack was made)."""
        return self.n_success / self.n_total if self.n_total else math.nan


def wilson_rate(n_success: float, n_total: int, confidence_level: float = 0.95) -> SuccessRate:
    """Wilson score estimate of a Bernoulli success rate.

    With ``n_total == 0`` there is no evidence at all: the rate is 0.5 ± 0.5 (the whole interval).
    """
    if n_total < 0 or n_success < 0 or n_success > n_total:
        raise ValueError(
            f"Need 0 <= n_success <= n_total; got n_success={n_success}, n_total={n_total}."
        )
    z = probit(confidence_level)
    if n_total == 0:
        return SuccessRate(0.5, 0.5, 0.0, 0)
    z2 = z * z
    denom = n_total + z2
    centre = (n_success + 0.5 * z2) / denom
    var = n_success * (n_total - n_success) / n_total
    half = z / denom * math.sqrt(var + 0.25 * z2)
    return SuccessRate(centre, half, n_success, n_total)


@dataclass(frozen=True)
class RiskEstimate:
    """Residual risk: point estimate and CI clipped to [0, 1], and the unclipped residual."""

    value: float
    ci_low: float
    ci_high: float
    residual: float
    error: float
    confidence_level: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def residual_risk(
    attack: SuccessRate, control: SuccessRate | None, confidence_level: float = 0.95
) -> RiskEstimate:
    """``(attack − control) / (1 − control)`` with first-order error propagation.

    Without a control the risk is the attack rate itself (nothing is subtracted).
    """
    if control is None:
        residual, error = attack.value, attack.error
    else:
        if control.value >= 1.0:
            # Wilson centres are < 1 for any finite n, so this only happens with malformed input.
            raise ValueError("The control success rate is 1: the residual risk is undefined.")
        one_minus = 1.0 - control.value
        residual = (attack.value - control.value) / one_minus
        d_attack = 1.0 / one_minus
        d_control = (attack.value - 1.0) / one_minus**2
        error = math.sqrt((attack.error * d_attack) ** 2 + (control.error * d_control) ** 2)
    return RiskEstimate(
        value=_clip(residual),
        ci_low=_clip(residual - error),
        ci_high=_clip(residual + error),
        residual=residual,
        error=error,
        confidence_level=confidence_level,
    )
