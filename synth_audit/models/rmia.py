"""RMIA, the robust membership inference attack of Zarifzadeh et al. (2024), offline.

For a challenge record x with true-label probability ``p_θ(x)`` under the target model, and
reference models that never trained on it:

* ``Pr(x) = ½ ((1 + a) · mean_out(x) + (1 − a))``: the average true-label probability over the
  reference ("out") models, linearly corrected by ``a`` for the missing "in" models (the paper's
  offline approximation; ``a = 1`` uses the plain mean);
* the same for population records ``z`` (records of the attacker's population sample that neither
  the target nor any reference model trained on): ``Pr(z)``;
* the likelihood ratio ``LR(x, z) = (p_θ(x) / Pr(x)) / (p_θ(z) / Pr(z))``;
* the score: the fraction of the ``z`` with ``LR(x, z) ≥ γ``. Higher = member.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from synth_audit.errors import ConfigError, DataValidationError

__all__ = ["rmia_scores"]

_TINY = 1e-30


def _pr_offline(ref: np.ndarray, out_mask: np.ndarray, a: float, who: str) -> np.ndarray:
    n = out_mask.sum(axis=0)
    if (n == 0).any():
        raise DataValidationError(
            f"RMIA: {int((n == 0).sum())} {who} record(s) have no reference model trained "
            "without them. Use more reference models."
        )
    mean_out = np.where(out_mask, ref, 0.0).sum(axis=0) / n
    return 0.5 * ((1.0 + a) * mean_out + (1.0 - a))


def rmia_scores(
    target_px: ArrayLike,
    reference_px: ArrayLike,
    out_mask_x: ArrayLike,
    target_pz: ArrayLike,
    reference_pz: ArrayLike,
    *,
    gamma: float = 1.0,
    a: float = 0.3,
) -> np.ndarray:
    """RMIA scores of ``n`` challenge records against ``m`` population records.

    ``target_px`` (n,) and ``target_pz`` (m,): the target's true-label probabilities;
    ``reference_px`` (R, n) and ``reference_pz`` (R, m): each reference model's; ``out_mask_x``
    (R, n): True where the reference model did *not* train on the record (the ``z`` never were
    trained on). Returns the fraction of ``z`` each ``x`` dominates by a factor ``gamma``.
    """
    if isinstance(gamma, bool) or not isinstance(gamma, int | float) or gamma <= 0:
        raise ConfigError(f"The 'gamma' parameter of RMIA must be a number > 0. Got {gamma!r}.")
    if isinstance(a, bool) or not isinstance(a, int | float) or not 0.0 <= a <= 1.0:
        raise ConfigError(f"The 'a' parameter of RMIA must be a number in [0, 1]. Got {a!r}.")
    px = np.asarray(target_px, dtype=np.float64)
    pz = np.asarray(target_pz, dtype=np.float64)
    rx = np.asarray(reference_px, dtype=np.float64)
    rz = np.asarray(reference_pz, dtype=np.float64)
    ox = np.asarray(out_mask_x, dtype=bool)
    if (
        rx.shape != ox.shape
        or rx.ndim != 2
        or rx.shape[1] != px.size
        or rz.shape
        != (
            rx.shape[0],
            pz.size,
        )
    ):
        raise DataValidationError(
            f"RMIA needs reference values of shape (R, n) and (R, m) with n = {px.size}, "
            f"m = {pz.size}; got {rx.shape}, mask {ox.shape} and {rz.shape}."
        )
    if pz.size == 0:
        raise DataValidationError(
            "RMIA needs population records z (the attacker's sample that no model trained on); "
            "got none. Give a larger reference sample."
        )
    ratio_x = px / np.maximum(_pr_offline(rx, ox, float(a), "challenge"), _TINY)
    ratio_z = pz / np.maximum(_pr_offline(rz, np.ones_like(rz, dtype=bool), float(a), "z"), _TINY)
    # LR(x, z) >= gamma  <=>  ratio_x >= gamma * ratio_z: count with a sort, not an n x m matrix.
    thresholds = np.sort(float(gamma) * ratio_z)
    counts = np.searchsorted(thresholds, ratio_x, side="right")
    return counts / float(pz.size)
