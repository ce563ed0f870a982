"""Per-record signals of a classifier's output, each oriented so that higher means "member".

With ``p`` the class probabilities of a record and ``y`` its true class:

=====================  ==================================================================
``loss``               ``log p_y`` (minus the cross-entropy; Yeom et al. 2018)
``confidence``         ``max_k p_k`` (the top probability, label-free)
``entropy``            ``-H(p) = Σ p_k log p_k`` (label-free)
``modified_entropy``   ``-Mentr(p, y)``, ``Mentr = -(1 - p_y) log p_y - Σ_{k≠y} p_k log(1 - p_k)``
                       (Song & Mittal 2021)
``logit_confidence``   ``φ = log(p_y / (1 - p_y))`` (LiRA's logit-scaled confidence)
=====================  ==================================================================

Probabilities are clipped to ``[EPS, 1 - EPS]`` before logs, so every signal is finite.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from synth_audit.errors import DataValidationError

__all__ = ["EPS", "SIGNALS", "compute_signal", "logit_confidence"]

EPS = 1e-12
SIGNALS = ("loss", "confidence", "entropy", "modified_entropy", "logit_confidence")


def _check(p: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    P = np.asarray(p, dtype=np.float64)
    Y = np.asarray(y, dtype=np.int64)
    if P.ndim != 2 or Y.ndim != 1 or P.shape[0] != Y.shape[0]:
        raise DataValidationError(
            f"Signals need probabilities of shape (n, n_classes) and n labels; got {P.shape} and "
            f"{Y.shape}."
        )
    if Y.size and (Y.min() < 0 or Y.max() >= P.shape[1]):
        raise DataValidationError(
            f"Class indices must lie in [0, {P.shape[1] - 1}]; got values from {Y.min()} to "
            f"{Y.max()}. Labels outside the model's classes cannot be scored."
        )
    return np.clip(P, EPS, 1.0 - EPS), Y


def logit_confidence(p: ArrayLike, y: ArrayLike) -> np.ndarray:
    """``φ = log p_y − log(1 − p_y)`` with ``1 − p_y`` computed as the sum of the other classes."""
    P, Y = _check(p, y)
    py = P[np.arange(Y.size), Y]
    rest = np.clip(P.sum(axis=1) - py, EPS, None)
    return np.log(py) - np.log(rest)


def compute_signal(name: str, p: ArrayLike, y: ArrayLike) -> np.ndarray:
    """The signal ``name`` (see the module's table) per record; higher means member."""
    P, Y = _check(p, y)
    rows = np.arange(Y.size)
    py = P[rows, Y]
    if name == "loss":
        return np.log(py)
    if name == "confidence":
        return P.max(axis=1)
    if name == "entropy":
        return np.sum(P * np.log(P), axis=1)
    if name == "modified_entropy":
        other = P * np.log(1.0 - P)
        other[rows, Y] = 0.0
        mentr = -(1.0 - py) * np.log(py) - other.sum(axis=1)
        return -mentr
    if name == "logit_confidence":
        return logit_confidence(P, Y)
    raise DataValidationError(
        f"Unknown signal {name!r}. Known signals: {', '.join(map(repr, SIGNALS))}."
    )
