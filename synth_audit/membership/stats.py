"""Scoring statistics shared by every membership-inference attack.

Every attack, whatever its target, ends with one score per record for records known to be
**members** (label 1, in the training data) and records known to be **non-members** (label 0, the
holdout / control). A *higher* score means "more likely a member". The functions here turn those
scores into evidence: the ROC curve, the AUC with a confidence interval, the true-positive rate at a
fixed false-positive rate with exact binomial intervals, and an empirical lower bound on the
differential-privacy parameter ε.

Conventions, fixed once for the whole package:

* A threshold ``t`` flags a record as a member when ``score >= t``. The threshold ``+inf`` flags no
  record (the operating point FPR = TPR = 0).
* "Members" are the positives: TPR = tp / n_members, FPR = fp / n_nonmembers.
* Confidence intervals are two-sided at ``confidence`` (equal tails) unless stated otherwise.

Statistical choices (also stated where they are made):

* AUC = the Mann–Whitney probability P(S_member > S_nonmember) + ½ P(tie).
* AUC interval, default ``method="newcombe"``: Newcombe's (2006) score-type interval built on the
  Hanley–McNeil (1982) variance with the two sample sizes symmetrised (his "Method 5"). It stays
  inside [0, 1], is never empty at AUC = 0 or 1 or when every score is tied, and is mirror-symmetric:
  the interval for ``-scores`` is ``1 -`` the interval for ``scores``. ``method="delong"`` gives the
  distribution-free DeLong et al. (1988) Wald interval (mid-ranks for ties), clipped to [0, 1]; it
  collapses to a point at AUC = 0 or 1, which is why it is not the default.
* Rates at a threshold: exact Clopper–Pearson intervals.
* ε lower bound: Jagielski et al. (2020) / Nasr et al. (2021), with one-sided Clopper–Pearson upper
  bounds on FPR and FNR, each at level 1 − α/2 (Bonferroni split of α = 1 − confidence), so both hold
  together with probability ≥ ``confidence``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special
from scipy import stats as sps

from synth_audit.errors import ConfigError, DataValidationError

__all__ = [
    "EpsilonBound",
    "TprAtFpr",
    "auc",
    "auc_ci",
    "check_scores_labels",
    "clopper_pearson",
    "downsample_roc",
    "epsilon_lower_bound",
    "epsilon_lower_bound_from_scores",
    "roc_curve",
    "tpr_at_fpr",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Alternative = Literal["two-sided", "less", "greater"]
AucCiMethod = Literal["newcombe", "delong"]

_AUC_CI_METHODS = ("newcombe", "delong")


# --------------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------------


def _check_confidence(confidence: float, func: str, name: str = "confidence") -> float:
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise ConfigError(
            f"The {name!r} parameter of {func} must be a number strictly between 0 and 1. "
            f"Got {confidence!r} of type {type(confidence).__name__}."
        ) from None
    if not 0.0 < value < 1.0:
        raise ConfigError(
            f"The {name!r} parameter of {func} must be strictly between 0 and 1 "
            f"(for example 0.95). Got {confidence!r}."
        )
    return value


def _check_delta(delta: float, func: str) -> float:
    try:
        value = float(delta)
    except (TypeError, ValueError):
        raise ConfigError(
            f"The 'delta' parameter of {func} must be a number in [0, 1). Got {delta!r} of type "
            f"{type(delta).__name__}."
        ) from None
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"The 'delta' parameter of {func} must be in [0, 1). Got {delta!r}.")
    return value


def _first_indices(mask: NDArray[np.bool_], limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    if idx.size > limit:
        shown += f" and {idx.size - limit} more"
    return shown


def check_scores_labels(
    scores: ArrayLike,
    labels: ArrayLike,
    *,
    func: str = "membership scoring",
    scores_name: str = "scores",
    labels_name: str = "labels",
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Validate membership scores and labels; return ``(float64 scores, bool is_member)``.

    Requirements: both 1-D and of the same length; labels only 0/1 (or booleans); at least one
    member and one non-member; every score finite. Violations raise
    :class:`~synth_audit.errors.DataValidationError` naming the argument, the problem, the first
    offending positions and what to do.
    """
    s = np.asarray(scores)
    y = np.asarray(labels)
    if s.ndim != 1:
        raise DataValidationError(
            f"{func}: {scores_name!r} must be a 1-D array with one score per record. "
            f"Got an array of shape {s.shape}; flatten it or pass one score per record."
        )
    if y.ndim != 1:
        raise DataValidationError(
            f"{func}: {labels_name!r} must be a 1-D array with one 0/1 label per record. "
            f"Got an array of shape {y.shape}."
        )
    if s.shape[0] != y.shape[0]:
        raise DataValidationError(
            f"{func}: {scores_name!r} and {labels_name!r} must have the same length. "
            f"Got {s.shape[0]} scores and {y.shape[0]} labels."
        )
    if s.dtype == np.bool_ or not (
        np.issubdtype(s.dtype, np.integer) or np.issubdtype(s.dtype, np.floating)
    ):
        raise DataValidationError(
            f"{func}: {scores_name!r} must be numeric (higher = more likely a member). "
            f"Got dtype {s.dtype}."
        )
    s = s.astype(np.float64, copy=False)
    nan = np.isnan(s)
    if nan.any():
        raise DataValidationError(
            f"{func}: {scores_name!r} contains {int(nan.sum())} NaN value(s) (at positions "
            f"{_first_indices(nan)}). Every record needs a finite score; drop those records or fix "
            "the attack that produced them."
        )
    inf = np.isinf(s)
    if inf.any():
        raise DataValidationError(
            f"{func}: {scores_name!r} contains {int(inf.sum())} infinite value(s) (at positions "
            f"{_first_indices(inf)}). Scores must be finite; clip them (e.g. a log-likelihood "
            "ratio) to a large finite value."
        )
    if y.dtype == np.bool_:
        is_member = y.astype(bool)
    else:
        if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
            raise DataValidationError(
                f"{func}: {labels_name!r} must contain only 0 (non-member) and 1 (member). "
                f"Got dtype {y.dtype}."
            )
        bad = ~np.isin(y, (0, 1))
        if bad.any():
            values = sorted({repr(v) for v in y[bad].tolist()})
            shown = ", ".join(values[:5]) + (
                f" and {len(values) - 5} more" if len(values) > 5 else ""
            )
            raise DataValidationError(
                f"{func}: {labels_name!r} must contain only 0 (non-member) and 1 (member). "
                f"Got {shown} (at positions {_first_indices(bad)})."
            )
        is_member = y == 1
    n_members = int(is_member.sum())
    n_nonmembers = int(is_member.size - n_members)
    if n_members == 0 or n_nonmembers == 0:
        raise DataValidationError(
            f"{func}: {labels_name!r} must contain both members (1) and non-members (0); got "
            f"{n_members} member(s) and {n_nonmembers} non-member(s). Membership can only be "
            "measured against known non-members (the holdout / control records)."
        )
    return s, is_member


# --------------------------------------------------------------------------------------------------
# Clopper–Pearson
# --------------------------------------------------------------------------------------------------


def _check_counts(k: ArrayLike, n: ArrayLike, func: str) -> tuple[FloatArray, FloatArray]:
    ka = np.asarray(k, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    if not (np.all(np.isfinite(ka)) and np.all(np.isfinite(na))):
        raise DataValidationError(f"{func}: the counts 'k' and 'n' must be finite integers.")
    if np.any(ka != np.round(ka)) or np.any(na != np.round(na)):
        raise DataValidationError(f"{func}: the counts 'k' and 'n' must be whole numbers.")
    if np.any(na < 1):
        raise DataValidationError(
            f"{func}: the number of trials 'n' must be at least 1; a rate over zero records has "
            "no confidence interval."
        )
    if np.any(ka < 0) or np.any(ka > na):
        raise DataValidationError(f"{func}: the successes 'k' must satisfy 0 <= k <= n.")
    ka, na = np.broadcast_arrays(ka, na)
    return ka, na


def clopper_pearson(
    k: ArrayLike,
    n: ArrayLike,
    confidence: float = 0.95,
    *,
    alternative: Alternative = "two-sided",
) -> tuple[FloatArray, FloatArray]:
    """Exact (Clopper–Pearson) confidence interval for a binomial proportion ``k / n``.

    Vectorised: ``k`` and ``n`` broadcast; the result has their broadcast shape (0-d inputs give
    numpy ``float64`` scalars, which are ``float`` instances).

    ``alternative`` follows :func:`scipy.stats.binomtest`:

    * ``"two-sided"``: equal tails, each (1 − confidence) / 2;
    * ``"less"``: one-sided upper bound at level ``confidence``; the lower end is 0;
    * ``"greater"``: one-sided lower bound at level ``confidence``; the upper end is 1.

    The edges are exact in closed form: with ``k = 0`` the lower end is 0 and the upper end
    ``1 − tail ** (1 / n)``; with ``k = n`` the upper end is 1 and the lower end ``tail ** (1 / n)``
    (``tail`` is the probability in the bounded tail).
    """
    func = "clopper_pearson"
    conf = _check_confidence(confidence, func)
    if alternative not in ("two-sided", "less", "greater"):
        raise ConfigError(
            f"The 'alternative' parameter of {func} must be one of 'two-sided', 'less', "
            f"'greater'. Got {alternative!r}."
        )
    ka, na = _check_counts(k, n, func)
    tail = (1.0 - conf) / 2.0 if alternative == "two-sided" else 1.0 - conf

    low = np.zeros(ka.shape, dtype=np.float64)
    high = np.ones(ka.shape, dtype=np.float64)
    if alternative in ("two-sided", "greater"):
        inner = (ka > 0) & (ka < na)
        low[inner] = sps.beta.ppf(tail, ka[inner], na[inner] - ka[inner] + 1)
        full = ka == na
        low[full] = tail ** (1.0 / na[full])
    if alternative in ("two-sided", "less"):
        inner = (ka > 0) & (ka < na)
        high[inner] = sps.beta.ppf(1.0 - tail, ka[inner] + 1, na[inner] - ka[inner])
        zero = ka == 0
        # 1 - tail**(1/n), computed without cancellation for large n.
        high[zero] = -np.expm1(np.log(tail) / na[zero])
    return low[()], high[()]


# --------------------------------------------------------------------------------------------------
# ROC and AUC
# --------------------------------------------------------------------------------------------------


def _roc_counts(
    s: FloatArray, is_member: NDArray[np.bool_]
) -> tuple[IntArray, IntArray, FloatArray]:
    """Cumulative (fp, tp) at every distinct threshold, highest first, starting at ``+inf``."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = is_member[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s_sorted.size - 1]
    tps = np.cumsum(y_sorted, dtype=np.int64)[last_of_run]
    fps = (last_of_run + 1).astype(np.int64) - tps
    zero = np.zeros(1, dtype=np.int64)
    return (
        np.concatenate([zero, fps]),
        np.concatenate([zero, tps]),
        np.concatenate([[np.inf], s_sorted[last_of_run]]),
    )


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Exact empirical ROC curve: ``(fpr, tpr, thresholds)``.

    One point per distinct score (ties are one operating point, never split), ordered by decreasing
    threshold; ``thresholds[i]`` flags ``score >= thresholds[i]``. The first point is
    ``(0, 0, +inf)`` and the last ``(1, 1, min(score))``. No intermediate point is dropped (as
    scikit-learn's ``roc_curve(..., drop_intermediate=False)``).
    """
    s, m = check_scores_labels(scores, labels, func="roc_curve")
    fps, tps, thresholds = _roc_counts(s, m)
    return fps / float(fps[-1]), tps / float(tps[-1]), thresholds


def _mann_whitney_auc(s: FloatArray, m: NDArray[np.bool_]) -> float:
    ranks = sps.rankdata(s)  # mid-ranks for ties
    n1 = int(m.sum())
    n0 = m.size - n1
    u = float(ranks[m].sum()) - n1 * (n1 + 1) / 2.0
    return u / (n1 * n0)


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: P(member score > non-member score) + ½ P(tie).

    Computed from mid-ranks (Mann–Whitney U / (n_members · n_nonmembers)), O(n log n). Equal to
    the trapezoidal area under :func:`roc_curve`. 1 = every member outscores every non-member,
    0.5 = no separation, 0 = the scores are oriented the wrong way.
    """
    s, m = check_scores_labels(scores, labels, func="auc")
    return _mann_whitney_auc(s, m)


def _newcombe_bracket(theta: float, n1: int, n0: int) -> float:
    """V(θ) / (θ(1 − θ)): positive on [0, 1] (at least (N + 1) / 2 / (n1 n0))."""
    n_star = (n1 + n0) / 2.0
    return ((2.0 * n_star - 1.0) - 3.0 * (n_star - 1.0) / ((2.0 - theta) * (1.0 + theta))) / (
        n1 * n0
    )


def _newcombe_interval(a: float, n1: int, n0: int, z: float) -> tuple[float, float]:
    z2 = z * z

    def f(theta: float) -> float:
        return (a - theta) ** 2 - z2 * theta * (1.0 - theta) * _newcombe_bracket(theta, n1, n0)

    # At the boundaries the root at θ = a is trivial; divide it out, leaving one sign change.
    def g_one(theta: float) -> float:  # a == 1: f(θ) / (1 − θ)
        return (1.0 - theta) - z2 * theta * _newcombe_bracket(theta, n1, n0)

    def g_zero(theta: float) -> float:  # a == 0: f(θ) / θ
        return theta - z2 * (1.0 - theta) * _newcombe_bracket(theta, n1, n0)

    tol = {"xtol": 1e-14, "rtol": 1e-14}
    if a >= 1.0:
        return float(optimize.brentq(g_one, 0.0, 1.0, **tol)), 1.0
    if a <= 0.0:
        return 0.0, float(optimize.brentq(g_zero, 0.0, 1.0, **tol))
    # 0 < a < 1: f(a) < 0 while f(0) = a² > 0 and f(1) = (1 − a)² > 0, one root on each side.
    low = float(optimize.brentq(f, 0.0, a, **tol))
    high = float(optimize.brentq(f, a, 1.0, **tol))
    return min(low, a), max(high, a)


def _delong_interval(
    s: FloatArray, m: NDArray[np.bool_], a: float, z: float
) -> tuple[float, float]:
    ranks = sps.rankdata(s)
    x, y = s[m], s[~m]
    n1, n0 = x.size, y.size
    # Structural components via mid-ranks (Sun & Xu 2014): the share of the other class beaten.
    v10 = (ranks[m] - sps.rankdata(x)) / n0
    v01 = 1.0 - (ranks[~m] - sps.rankdata(y)) / n1
    var = 0.0
    if n1 > 1:
        var += float(np.var(v10, ddof=1)) / n1
    if n0 > 1:
        var += float(np.var(v01, ddof=1)) / n0
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, a - half), min(1.0, a + half)


def auc_ci(
    scores: ArrayLike,
    labels: ArrayLike,
    confidence: float = 0.95,
    *,
    method: AucCiMethod = "newcombe",
) -> tuple[float, float, float]:
    """AUC and its two-sided confidence interval: ``(auc, low, high)``.

    ``method="newcombe"`` (default): Newcombe (2006, *Stat. Med.* 25:559, "Method 5"), the
    score-type interval that solves ``(A − θ)² = z² V(θ)`` with the Hanley–McNeil variance under the
    exponential model, sample sizes symmetrised to ``N = (n_members + n_nonmembers) / 2``::

        V(θ) = θ(1 − θ) / (n1 n0) · [(2N − 1) − 3(N − 1) / ((2 − θ)(1 + θ))]

    Like a Wilson interval it stays in [0, 1], contains the estimate, is not degenerate at
    AUC = 0 or 1 or with all scores tied, and at θ = ½ its variance equals the exact null variance
    of the Mann–Whitney statistic, (n1 + n0 + 1) / (12 n1 n0).

    ``method="delong"``: DeLong, DeLong & Clarke-Pearson (1988) distribution-free variance from
    mid-rank structural components, Wald interval clipped to [0, 1]; degenerate (zero width) when the
    classes are perfectly separated or all scores are tied.
    """
    func = "auc_ci"
    conf = _check_confidence(confidence, func)
    if method not in _AUC_CI_METHODS:
        raise ConfigError(
            f"The 'method' parameter of {func} must be one of 'newcombe', 'delong'. Got {method!r}."
        )
    s, m = check_scores_labels(scores, labels, func=func)
    a = _mann_whitney_auc(s, m)
    z = float(special.ndtri(0.5 + conf / 2.0))
    n1 = int(m.sum())
    n0 = m.size - n1
    if method == "newcombe":
        low, high = _newcombe_interval(a, n1, n0, z)
    else:
        low, high = _delong_interval(s, m, a, z)
    return a, low, high


def downsample_roc(
    fpr: ArrayLike, tpr: ArrayLike, max_points: int = 200
) -> tuple[FloatArray, FloatArray]:
    """Thin an ROC curve for storage and plotting, keeping what matters.

    1. Collinear intermediate points are dropped (exact: the piecewise-linear curve is unchanged).
    2. If more than ``max_points`` remain, points are kept at a grid of FPR values, half
       log-spaced from the smallest positive FPR (the low-FPR region that membership inference
       is judged on) and half linear; at each grid value both the highest operating point with
       FPR ≤ value and the first with FPR ≥ value are kept, so vertical steps stay vertical.

    The first and last points are always kept; at most ``max_points`` points are returned.
    """
    if max_points < 4:
        raise ConfigError(
            f"The 'max_points' parameter of downsample_roc must be an int >= 4. Got {max_points!r}."
        )
    f = np.asarray(fpr, dtype=np.float64)
    t = np.asarray(tpr, dtype=np.float64)
    if f.ndim != 1 or f.shape != t.shape or f.size == 0:
        raise DataValidationError(
            "downsample_roc: 'fpr' and 'tpr' must be non-empty 1-D arrays of the same length."
        )
    if f.size > 2:
        d2f = np.diff(f, 2)
        d2t = np.diff(t, 2)
        keep = np.r_[True, np.logical_or(d2f != 0, d2t != 0), True]
        f, t = f[keep], t[keep]
    if f.size <= max_points:
        return f, t
    n_grid = (max_points - 2) // 2
    n_log = n_grid // 2
    positive = f[f > 0]
    lo = float(positive.min()) if positive.size else 1.0
    grid = np.r_[
        np.geomspace(lo, 1.0, n_log) if lo < 1.0 else np.ones(0),
        np.linspace(0.0, 1.0, n_grid - n_log),
    ]
    top = np.clip(np.searchsorted(f, grid, side="right") - 1, 0, f.size - 1)
    first = np.clip(np.searchsorted(f, grid, side="left"), 0, f.size - 1)
    idx = np.unique(np.r_[0, f.size - 1, top, first])
    if idx.size > max_points:  # cannot happen with the budget above; keep the guarantee anyway
        inner = idx[1:-1]
        pick = np.round(np.linspace(0, inner.size - 1, max_points - 2)).astype(np.int64)
        idx = np.r_[idx[0], inner[pick], idx[-1]]
    return f[idx], t[idx]


# --------------------------------------------------------------------------------------------------
# TPR at a fixed FPR
# --------------------------------------------------------------------------------------------------


def _min_nonmembers(target_fpr: float) -> int:
    """Smallest n with n · target_fpr >= 1, i.e. one false positive fits under the target."""
    return max(1, math.ceil(1.0 / target_fpr - 1e-9))


@dataclass(frozen=True)
class TprAtFpr:
    """The best operating point whose *realised* FPR does not exceed ``target_fpr``.

    ``threshold``: records with ``score >= threshold`` are flagged as members (``+inf``: none).
    ``tpr_ci`` is Clopper–Pearson on ``tp / n_members``; ``fpr_ci`` on ``fp / n_nonmembers``. The
    threshold is chosen on these same non-members, so ``fpr_ci`` describes the realised rate, not an
    independent estimate of the FPR the threshold would have on fresh data.

    ``resolvable`` is False when ``target_fpr < 1 / n_nonmembers``: then no false positive fits under
    the target, the realised FPR is 0 and the number says nothing about the target itself;
    ``min_nonmembers`` is the smallest number of non-members that can resolve it.
    """

    target_fpr: float
    tpr: float
    tpr_ci: tuple[float, float]
    realised_fpr: float
    fpr_ci: tuple[float, float]
    threshold: float
    tp: int
    fp: int
    n_members: int
    n_nonmembers: int
    confidence_level: float
    resolvable: bool
    min_nonmembers: int

    @property
    def warning(self) -> str | None:
        """Why this operating point cannot be trusted, or None."""
        if self.resolvable:
            return None
        return (
            f"TPR at {self.target_fpr:g} FPR cannot be resolved with {self.n_nonmembers} "
            f"non-members (the smallest non-zero FPR is 1/{self.n_nonmembers} = "
            f"{1.0 / self.n_nonmembers:.3g}); the realised FPR is 0. At least "
            f"{self.min_nonmembers} non-members are needed."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_fpr": self.target_fpr,
            "tpr": self.tpr,
            "tpr_ci": [self.tpr_ci[0], self.tpr_ci[1]],
            "realised_fpr": self.realised_fpr,
            "fpr_ci": [self.fpr_ci[0], self.fpr_ci[1]],
            "threshold": _encode_float(self.threshold),
            "tp": self.tp,
            "fp": self.fp,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "confidence_level": self.confidence_level,
            "resolvable": self.resolvable,
            "min_nonmembers": self.min_nonmembers,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TprAtFpr:
        return cls(
            target_fpr=float(d["target_fpr"]),
            tpr=float(d["tpr"]),
            tpr_ci=(float(d["tpr_ci"][0]), float(d["tpr_ci"][1])),
            realised_fpr=float(d["realised_fpr"]),
            fpr_ci=(float(d["fpr_ci"][0]), float(d["fpr_ci"][1])),
            threshold=_decode_float(d["threshold"]),
            tp=int(d["tp"]),
            fp=int(d["fp"]),
            n_members=int(d["n_members"]),
            n_nonmembers=int(d["n_nonmembers"]),
            confidence_level=float(d["confidence_level"]),
            resolvable=bool(d["resolvable"]),
            min_nonmembers=int(d["min_nonmembers"]),
        )


def _check_target_fpr(target_fpr: float, func: str) -> float:
    try:
        value = float(target_fpr)
    except (TypeError, ValueError):
        raise ConfigError(
            f"The 'target_fpr' parameter of {func} must be a number in (0, 1]. Got "
            f"{target_fpr!r} of type {type(target_fpr).__name__}."
        ) from None
    if not 0.0 < value <= 1.0:
        raise ConfigError(
            f"The 'target_fpr' parameter of {func} must be in (0, 1] (0.01 means 1 % FPR). "
            f"Got {target_fpr!r}."
        )
    return value


def _tpr_at_fpr_from_counts(
    fps: IntArray,
    tps: IntArray,
    thresholds: FloatArray,
    target: float,
    confidence: float,
) -> TprAtFpr:
    n1 = int(tps[-1])
    n0 = int(fps[-1])
    # fps is non-decreasing: the last index whose count fits under the target has the highest TPR.
    # Compare counts, not rates, so 1/n0 == 0.01 is not lost to rounding.
    max_fp = math.floor(target * n0 + 1e-9)
    while max_fp > 0 and max_fp / n0 > target:  # never let rounding push the realised FPR above
        max_fp -= 1
    i = int(np.searchsorted(fps, max_fp, side="right")) - 1
    # Among points with that TPR take the one with the fewest false positives (highest threshold).
    i = int(np.searchsorted(tps, tps[i], side="left"))
    tp, fp = int(tps[i]), int(fps[i])
    tlo, thi = clopper_pearson(tp, n1, confidence)
    flo, fhi = clopper_pearson(fp, n0, confidence)
    return TprAtFpr(
        target_fpr=target,
        tpr=tp / n1,
        tpr_ci=(float(tlo), float(thi)),
        realised_fpr=fp / n0,
        fpr_ci=(float(flo), float(fhi)),
        threshold=float(thresholds[i]),
        tp=tp,
        fp=fp,
        n_members=n1,
        n_nonmembers=n0,
        confidence_level=confidence,
        resolvable=max_fp >= 1,
        min_nonmembers=_min_nonmembers(target),
    )


def tpr_at_fpr(
    scores: ArrayLike,
    labels: ArrayLike,
    target_fpr: float,
    *,
    confidence: float = 0.95,
) -> TprAtFpr:
    """True-positive rate at the best threshold whose realised FPR is ``<= target_fpr``.

    Only operating points a threshold can actually realise are considered (tied scores are never
    split and nothing is interpolated), so the realised FPR never exceeds the target; among those
    the one with the highest TPR is returned, and among equal TPRs the one with the lowest FPR
    (the highest threshold). Intervals are exact
    Clopper–Pearson at ``confidence``. When ``target_fpr < 1 / n_nonmembers`` the result is flagged
    ``resolvable=False`` (see :class:`TprAtFpr`).
    """
    func = "tpr_at_fpr"
    target = _check_target_fpr(target_fpr, func)
    conf = _check_confidence(confidence, func)
    s, m = check_scores_labels(scores, labels, func=func)
    fps, tps, thresholds = _roc_counts(s, m)
    return _tpr_at_fpr_from_counts(fps, tps, thresholds, target, conf)


# --------------------------------------------------------------------------------------------------
# Empirical ε lower bound
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpsilonBound:
    """Empirical lower bound on ε of (ε, δ)-differential privacy from one membership test.

    ``epsilon``: the bound (0 = no evidence against any ε). ``ceiling``: the largest bound these
    sample sizes could certify at all (a perfect attack: every member flagged, no non-member); when
    ``epsilon == ceiling`` the test was too small to say more. ``fpr_upper`` / ``fnr_upper``: the
    one-sided Clopper–Pearson bounds used, each at 1 − (1 − confidence_level)/2.

    ``threshold_selection``: ``"counts"`` (counts given directly, no threshold), ``"same-data"``
    (threshold maximised on the very scores evaluated: optimistic, see
    :func:`epsilon_lower_bound_from_scores`) or ``"calibration"`` (threshold chosen on held-out
    scores; the bound is then valid at ``confidence_level``).
    """

    epsilon: float
    ceiling: float
    delta: float
    confidence_level: float
    tp: int
    fn: int
    fp: int
    tn: int
    fpr_upper: float
    fnr_upper: float
    threshold: float | None = None
    threshold_selection: str = "counts"

    @property
    def n_members(self) -> int:
        return self.tp + self.fn

    @property
    def n_nonmembers(self) -> int:
        return self.fp + self.tn

    @property
    def saturated(self) -> bool:
        """True when the bound reached its ceiling: more records are needed to certify more."""
        return self.ceiling > 0.0 and self.epsilon >= self.ceiling * (1.0 - 1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "ceiling": self.ceiling,
            "delta": self.delta,
            "confidence_level": self.confidence_level,
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "tn": self.tn,
            "fpr_upper": self.fpr_upper,
            "fnr_upper": self.fnr_upper,
            "threshold": None if self.threshold is None else _encode_float(self.threshold),
            "threshold_selection": self.threshold_selection,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EpsilonBound:
        thr = d.get("threshold")
        return cls(
            epsilon=float(d["epsilon"]),
            ceiling=float(d["ceiling"]),
            delta=float(d["delta"]),
            confidence_level=float(d["confidence_level"]),
            tp=int(d["tp"]),
            fn=int(d["fn"]),
            fp=int(d["fp"]),
            tn=int(d["tn"]),
            fpr_upper=float(d["fpr_upper"]),
            fnr_upper=float(d["fnr_upper"]),
            threshold=None if thr is None else _decode_float(thr),
            threshold_selection=str(d.get("threshold_selection", "counts")),
        )


def _eps_arrays(
    tp: ArrayLike, fn: ArrayLike, fp: ArrayLike, tn: ArrayLike, delta: float, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised core: (eps_lb, fpr_upper, fnr_upper)."""
    tp_a, fn_a, fp_a, tn_a = (np.asarray(v, dtype=np.float64) for v in (tp, fn, fp, tn))
    one_sided = 1.0 - (1.0 - confidence) / 2.0  # Bonferroni: α/2 for each rate
    _, fpr_hi = clopper_pearson(fp_a, fp_a + tn_a, one_sided, alternative="less")
    _, fnr_hi = clopper_pearson(fn_a, tp_a + fn_a, one_sided, alternative="less")
    fpr_hi = np.asarray(fpr_hi, dtype=np.float64)
    fnr_hi = np.asarray(fnr_hi, dtype=np.float64)
    # Both upper bounds are > 0 for finite n, so the ratios are finite.
    r1 = (1.0 - delta - fnr_hi) / fpr_hi
    r2 = (1.0 - delta - fpr_hi) / fnr_hi
    best = np.maximum(np.maximum(r1, r2), 1.0)
    return np.log(best), fpr_hi, fnr_hi


def _check_count(value: Any, name: str, func: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DataValidationError(
            f"The {name!r} parameter of {func} must be a non-negative int. Got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value < 0:
        raise DataValidationError(
            f"The {name!r} parameter of {func} must be a non-negative int. Got {value!r}."
        )
    return int(value)


def epsilon_lower_bound(
    tp: int,
    fn: int,
    fp: int,
    tn: int,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> EpsilonBound:
    """Empirical ε lower bound from one membership test's confusion counts.

    Jagielski, Ullman & Oprea (2020) / Nasr et al. (2021): for any (ε, δ)-DP mechanism and any
    test, ``FPR + e^ε FNR >= 1 − δ`` and ``FNR + e^ε FPR >= 1 − δ``. With one-sided Clopper–Pearson
    upper bounds ``FPR_hi`` (on ``fp / (fp + tn)``) and ``FNR_hi`` (on ``fn / (tp + fn)``), each at
    level ``1 − α/2`` with ``α = 1 − confidence`` (Bonferroni, so both hold together with probability
    ≥ ``confidence``)::

        eps_lb = max(log((1 − δ − FNR_hi) / FPR_hi), log((1 − δ − FPR_hi) / FNR_hi), 0)

    With probability ≥ ``confidence`` the mechanism's true ε is at least ``eps_lb`` (for a test
    fixed before seeing these counts). ``ceiling`` is the bound a perfect test (``fn = fp = 0``)
    would give with the same numbers of members and non-members.
    """
    func = "epsilon_lower_bound"
    conf = _check_confidence(confidence, func)
    d = _check_delta(delta, func)
    tp_i, fn_i, fp_i, tn_i = (
        _check_count(v, name, func) for v, name in ((tp, "tp"), (fn, "fn"), (fp, "fp"), (tn, "tn"))
    )
    if tp_i + fn_i == 0 or fp_i + tn_i == 0:
        raise DataValidationError(
            f"{func}: needs at least one member (tp + fn >= 1) and one non-member (fp + tn >= 1). "
            f"Got tp={tp_i}, fn={fn_i}, fp={fp_i}, tn={tn_i}."
        )
    eps, fpr_hi, fnr_hi = _eps_arrays(tp_i, fn_i, fp_i, tn_i, d, conf)
    ceiling, _, _ = _eps_arrays(tp_i + fn_i, 0, 0, fp_i + tn_i, d, conf)
    return EpsilonBound(
        epsilon=float(eps),
        ceiling=float(ceiling),
        delta=d,
        confidence_level=conf,
        tp=tp_i,
        fn=fn_i,
        fp=fp_i,
        tn=tn_i,
        fpr_upper=float(fpr_hi),
        fnr_upper=float(fnr_hi),
    )


def _best_threshold_index(fps: IntArray, tps: IntArray, delta: float, confidence: float) -> int:
    """Index of the ROC point with the largest ε bound (exact, without evaluating every point).

    Ties (in practice: all bounds 0) go to the largest TPR − FPR, then to the highest threshold.

    The bound is non-decreasing in tp and non-increasing in fp, so only ROC "corners" can win: the
    last point of a run of equal fp and the first of a run of equal tp. Among those, the plug-in
    value (point estimates instead of Clopper–Pearson upper bounds) is an upper bound of the exact
    one, because a one-sided upper bound at level > ½ is at least the point estimate. Corners are
    evaluated in decreasing plug-in order until the plug-in falls below the best exact value, which
    gives the same maximum as the full sweep at a fraction of the ``beta.ppf`` calls.
    """
    n0, n1 = int(fps[-1]), int(tps[-1])
    corner = np.ones(fps.size, dtype=bool)
    corner[:-1] &= fps[1:] > fps[:-1]
    corner[1:] &= tps[1:] > tps[:-1]
    cand = np.flatnonzero(corner)
    tp_c, fp_c = tps[cand], fps[cand]
    fpr = fp_c / n0
    fnr = (n1 - tp_c) / n1
    num1 = 1.0 - delta - fnr
    num2 = 1.0 - delta - fpr
    r1 = np.divide(num1, fpr, out=np.full(cand.size, np.inf), where=fpr > 0)
    r2 = np.divide(num2, fnr, out=np.full(cand.size, np.inf), where=fnr > 0)
    r1[num1 <= 0] = 0.0
    r2[num2 <= 0] = 0.0
    plug_in = np.log(np.maximum(np.maximum(r1, r2), 1.0))
    youden = tp_c / n1 - fpr

    order = np.argsort(-plug_in, kind="stable")
    exact = np.full(cand.size, -np.inf)
    best = 0.0
    start, chunk = 0, 256
    while start < order.size and plug_in[order[start]] >= best - 1e-12:
        sel = order[start : start + chunk]
        eps, _, _ = _eps_arrays(
            tp_c[sel], n1 - tp_c[sel], fp_c[sel], n0 - fp_c[sel], delta, confidence
        )
        exact[sel] = eps
        best = max(best, float(eps.max()))
        start += chunk
        chunk *= 2
    if best <= 0.0:
        # Nothing certified anywhere: every corner ties at 0.
        return int(cand[int(np.argmax(youden))])
    winners = np.flatnonzero(exact >= best)
    return int(cand[winners[int(np.argmax(youden[winners]))]])


def epsilon_lower_bound_from_scores(
    scores: ArrayLike,
    labels: ArrayLike,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    threshold_from: tuple[ArrayLike, ArrayLike] | None = None,
) -> EpsilonBound:
    """ε lower bound from membership scores, at the best threshold.

    Without ``threshold_from`` every distinct threshold of ``scores`` is tried and the largest
    bound is returned with its threshold (``threshold_selection="same-data"``). **This is
    optimistic**: the maximum over thresholds is taken on the same data, while the confidence level
    only accounts for binomial error at the chosen threshold; treat it as indicative.

    With ``threshold_from=(calibration_scores, calibration_labels)``, a separate split of scores
    from the same attack, the threshold is chosen on that split and the bound is computed once on
    ``scores`` at that threshold (``threshold_selection="calibration"``); the confidence level then
    holds as stated. Ties in the bound (e.g. all 0) are broken by the largest TPR − FPR, then by the
    highest threshold.
    """
    func = "epsilon_lower_bound_from_scores"
    conf = _check_confidence(confidence, func)
    d = _check_delta(delta, func)
    s, m = check_scores_labels(scores, labels, func=func)
    n1 = int(m.sum())
    n0 = m.size - n1
    ceiling, _, _ = _eps_arrays(n1, 0, 0, n0, d, conf)

    if threshold_from is None:
        fps, tps, thresholds = _roc_counts(s, m)
        i = _best_threshold_index(fps, tps, d, conf)
        threshold = float(thresholds[i])
        tp, fp = int(tps[i]), int(fps[i])
        selection = "same-data"
    else:
        if not isinstance(threshold_from, Sequence) or len(threshold_from) != 2:
            raise ConfigError(
                f"The 'threshold_from' parameter of {func} must be a pair "
                "(calibration_scores, calibration_labels). Got "
                f"{type(threshold_from).__name__}."
            )
        cs, cm = check_scores_labels(
            threshold_from[0],
            threshold_from[1],
            func=func,
            scores_name="threshold_from[0] (calibration scores)",
            labels_name="threshold_from[1] (calibration labels)",
        )
        cfps, ctps, cthresholds = _roc_counts(cs, cm)
        i = _best_threshold_index(cfps, ctps, d, conf)
        threshold = float(cthresholds[i])
        flagged = s >= threshold
        tp = int(np.count_nonzero(flagged & m))
        fp = int(np.count_nonzero(flagged & ~m))
        selection = "calibration"

    eps, fpr_hi, fnr_hi = _eps_arrays(tp, n1 - tp, fp, n0 - fp, d, conf)
    return EpsilonBound(
        epsilon=float(eps),
        ceiling=float(ceiling),
        delta=d,
        confidence_level=conf,
        tp=tp,
        fn=n1 - tp,
        fp=fp,
        tn=n0 - fp,
        fpr_upper=float(fpr_hi),
        fnr_upper=float(fnr_hi),
        threshold=threshold,
        threshold_selection=selection,
    )


# --------------------------------------------------------------------------------------------------
# JSON helpers for non-finite floats
# --------------------------------------------------------------------------------------------------


def _encode_float(x: float) -> float | str | None:
    """Strict-JSON form of a float: NaN → None, ±inf → "inf" / "-inf"."""
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def _decode_float(x: float | str | None) -> float:
    if x is None:
        return math.nan
    return float(x)
