"""Rates, residual risk and their confidence intervals (anonymeter's published semantics).

* A success rate is estimated with the Wilson score interval: the point estimate is the Wilson centre
  ``(s + z²/2) / (n + z²)`` and the error its half-width (Wilson 1927). For the sample sizes of privacy
  attacks the centre is practically ``s / n``; for small ``n`` it is pulled towards 0.5, which keeps
  ``0 < rate < 1`` and makes the residual risk below well defined.
* The residual risk of an attack is ``(attack − control) / (1 − control)``: the share of what the
  attacker could not already learn from the population (the control attack) that the release adds.
  Its error is propagated to first order from both rates' errors.
* The reported risk is clipped to [0, 1]; the unclipped residual is kept as well so a negative
  residual (control attacked more successfully than train) stays visible.
* The CI is ``[max(0, residual − error), min(1, max(0, residual) + error)]``. The upper bound starts
  from the clipped estimate rather than from the (possibly negative) residual: when the whole
  unclipped interval lies below 0, clipping it would give ``[0, 0]``, a claim of certainty that zero
  risk was measured. The data only support "no risk detected, to within the measurement's
  resolution ``error``", so the upper bound stays at ``error`` (anonymeter clips to ``[0, 0]``).
  Hence ``ci_high > 0`` whenever ``error > 0``, and ``0 <= ci_low <= value <= ci_high <= 1``.
* Outcomes that are not independent trials (for example univariate singling-out predicates, many of
  which come from one column) widen a rate's error by the square root of a cluster design effect
  (:func:`design_effect`, Kish 1965), so its CI holds for the clusters actually sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from synth_audit.errors import ConfigError

__all__ = [
    "RiskEstimate",
    "SuccessRate",
    "design_effect",
    "paired_residual_error",
    "probit",
    "residual_risk",
    "wilson_rate",
]


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

    def inflated(self, deff: float) -> SuccessRate:
        """The same rate with its error widened by ``sqrt(deff)`` (``deff`` below 1 is taken as 1)."""
        if not math.isfinite(deff) or deff <= 1.0:
            return self
        return SuccessRate(self.value, self.error * math.sqrt(deff), self.n_success, self.n_total)


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


def design_effect(outcomes: np.ndarray, clusters: np.ndarray) -> float:
    """Cluster design effect of the mean of 0/1 ``outcomes``: cluster-robust variance over the
    binomial one (>= 1; 1 when there is no variance or fewer than two clusters to estimate it from).

    The cluster-robust (CR1) variance of a mean is ``G/(G−1) · Σ_g (Σ_{i∈g} (y_i − ȳ))² / n²`` over
    the ``G`` clusters; the binomial variance is ``ȳ(1 − ȳ)/n``. Their ratio is the factor by which
    correlated outcomes inside a cluster inflate the variance (Kish's deff). With a single cluster the
    between-cluster variance cannot be estimated: the outcomes are one trial, and the caller must treat
    the rate as unmeasurable rather than trust this factor.
    """
    y = np.asarray(outcomes, dtype=float)
    n = y.size
    if n < 2:
        return 1.0
    mean = float(y.mean())
    var_iid = mean * (1.0 - mean) / n
    _, groups = np.unique(np.asarray(clusters), return_inverse=True)
    n_groups = int(groups.max()) + 1
    if var_iid <= 0.0 or n_groups < 2:
        return 1.0
    sums = np.bincount(groups.reshape(-1), weights=y - mean, minlength=n_groups)
    var_cr = n_groups / (n_groups - 1) * float(np.sum(sums**2)) / n**2
    return max(1.0, var_cr / var_iid)


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


def paired_residual_error(
    attack_outcomes: np.ndarray,
    control_outcomes: np.ndarray,
    clusters: np.ndarray,
    confidence_level: float = 0.95,
    control_scale: float = 1.0,
) -> float:
    """z × the cluster-robust (CR1) standard error of the residual ``(A − C)/(1 − C)`` when attack
    and control are measured with the *same* trials (singling-out predicates evaluated on train and
    on control), by the delta method on each trial's influence
    ``(a_i − A)/(1 − C) + (c_i − C)(A − 1)/(1 − C)²``.

    Unlike the propagation in :func:`residual_risk`, it keeps the covariance between a trial's two
    outcomes (a predicate that matches one person of the population singles out in train or in
    control, not both: the covariance is negative and widens the difference) and the clustering of
    trials. ``control_scale`` multiplies the control outcomes (the singling-out size correction).
    Returns 0 when it cannot be estimated (fewer than two clusters, or ``C >= 1``).
    """
    a = np.asarray(attack_outcomes, dtype=float)
    c = np.asarray(control_outcomes, dtype=float) * control_scale
    n = a.size
    if n < 2 or c.size != n:
        return 0.0
    big_a, big_c = float(a.mean()), float(c.mean())
    if big_c >= 1.0:
        return 0.0
    psi = (a - big_a) / (1.0 - big_c) + (c - big_c) * (big_a - 1.0) / (1.0 - big_c) ** 2
    _, groups = np.unique(np.asarray(clusters), return_inverse=True)
    n_groups = int(groups.max()) + 1
    if n_groups < 2:
        return 0.0
    sums = np.bincount(groups.reshape(-1), weights=psi, minlength=n_groups)
    var = n_groups / (n_groups - 1) * float(np.sum(sums**2)) / n**2
    return probit(confidence_level) * math.sqrt(max(var, 0.0))


def residual_risk(
    attack: SuccessRate,
    control: SuccessRate | None,
    confidence_level: float = 0.95,
    min_error: float = 0.0,
) -> RiskEstimate:
    """``(attack − control) / (1 − control)`` with first-order error propagation.

    ``min_error`` is a floor for the error (e.g. :func:`paired_residual_error` where attack and control
    share their trials). Without a control the risk is the attack rate itself (nothing is
    subtracted). The CI's upper
    bound is ``max(0, residual) + error`` (clipped to 1), so a residual far below 0 reads as
    "no risk detected, resolution ``error``", never as a zero-width ``[0, 0]``.
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
    error = max(error, min_error)
    value = _clip(residual)
    return RiskEstimate(
        value=value,
        ci_low=min(_clip(residual - error), value),
        ci_high=max(_clip(value + error), value),
        residual=residual,
        error=error,
        confidence_level=confidence_level,
    )
