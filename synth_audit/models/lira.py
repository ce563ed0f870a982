"""LiRA, the likelihood-ratio attack of Carlini et al. (2022), on the logit-scaled confidence.

For a challenge record x, reference models trained with x ("in") and without it ("out") give the
values of its logit-scaled confidence ``φ`` (:func:`~synth_audit.models.signals.logit_confidence`).
Each set is summarised by a Gaussian (mean and standard deviation); the target model's ``φ(x)`` is
then scored

* **online**: ``log N(φ; μ_in, σ_in) − log N(φ; μ_out, σ_out)``;
* **offline** (only "out" models): ``log Φ((φ − μ_out) / σ_out)``, the one-sided test that the
  target's confidence is above what models that never saw x give.

Variance: **per-example** (``σ`` of each record's own in/out values) or **global** (one ``σ_in``
and one ``σ_out`` for all records: the standard deviation of every value around its own record's
mean, pooled), which is what the paper recommends with few reference models. Higher = member.
Means are arithmetic means (the paper's reference code uses medians; with few models the mean is
the estimator whose behaviour is easy to check by hand).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from synth_audit.errors import DataValidationError

__all__ = ["MIN_STD", "lira_scores"]

MIN_STD = 1e-3  # floor of any standard deviation (identical reference values)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = mask.sum(axis=0)
    s = np.where(mask, values, 0.0).sum(axis=0)
    return np.divide(s, n, out=np.full(values.shape[1], np.nan), where=n > 0)


def _stds(values: np.ndarray, mask: np.ndarray, mean: np.ndarray, per_example: bool) -> np.ndarray:
    resid = np.where(mask, values - mean[None, :], 0.0)
    n = mask.sum(axis=0)
    if per_example:
        var = np.divide(
            (resid**2).sum(axis=0), n, out=np.full(values.shape[1], np.nan), where=n > 0
        )
        return np.maximum(np.sqrt(var), MIN_STD)
    total = int(n.sum())
    if total == 0:
        return np.full(values.shape[1], np.nan)
    pooled = float(np.sqrt((resid**2).sum() / total))
    return np.full(values.shape[1], max(pooled, MIN_STD))


def lira_scores(
    target_phi: ArrayLike,
    reference_phi: ArrayLike,
    in_mask: ArrayLike,
    *,
    online: bool,
    global_variance: bool = False,
) -> np.ndarray:
    """LiRA scores of ``n`` challenge records.

    ``target_phi``: shape (n,), the target model's φ. ``reference_phi``: shape (R, n), each
    reference model's φ of each record. ``in_mask``: shape (R, n), True where a reference model
    trained on the record. Online needs at least one "in" and one "out" value per record, offline
    one "out" value (records without are a DataValidationError naming how many).
    """
    t = np.asarray(target_phi, dtype=np.float64)
    ref = np.asarray(reference_phi, dtype=np.float64)
    inn = np.asarray(in_mask, dtype=bool)
    if ref.ndim != 2 or ref.shape != inn.shape or ref.shape[1] != t.shape[0]:
        raise DataValidationError(
            f"LiRA needs reference values and an in-mask of shape (R, n) with n = {t.shape[0]}; "
            f"got {ref.shape} and {inn.shape}."
        )
    out = ~inn
    for what, m, needed in (("out", out, True), ("in", inn, online)):
        lacking = int((m.sum(axis=0) == 0).sum()) if needed else 0
        if lacking:
            raise DataValidationError(
                f"LiRA: {lacking} record(s) have no reference model trained {what}side them "
                f"({what!r} values). Use more reference models (an even number, so that each "
                "record is in half of them)."
            )
    mu_out = _masked_mean(ref, out)
    sd_out = _stds(ref, out, mu_out, not global_variance)
    if not online:
        return np.asarray(sps.norm.logcdf(t, loc=mu_out, scale=sd_out), dtype=np.float64)
    mu_in = _masked_mean(ref, inn)
    sd_in = _stds(ref, inn, mu_in, not global_variance)
    return np.asarray(
        sps.norm.logpdf(t, loc=mu_in, scale=sd_in) - sps.norm.logpdf(t, loc=mu_out, scale=sd_out),
        dtype=np.float64,
    )
