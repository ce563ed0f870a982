"""Document-level membership attacks on a causal LM, each scored as a
:class:`~synth_audit.membership.MembershipResult` (unit ``"document"``; higher score = member).

==============  ===================================================================================
``loss``        ``-NLL``: the mean token log-probability (Yeom et al. 2018)
``zlib``        ``-NLL / zlib bytes``: the loss over the text's zlib-compressed length (Carlini et
                al. 2021), so that texts that are simply easy do not look like members
``lowercase``   ``NLL(lowercased) / NLL(text)``: how much better the model knows the exact casing
                (Carlini et al. 2021)
``min_k``       Min-K%: mean of the k % lowest token log-probabilities (Shi et al. 2024)
``min_k_pp``    Min-K%++: the same over ``(log p(x_t) - mu_t) / sigma_t``, the token's
                log-probability standardised by the model's distribution at that position (Zhang
                et al. 2024)
``reference``   ``NLL_ref - NLL``: the target's loss against a reference model fine-tuned on
                non-member text of the same distribution (Carlini et al. 2021, Mireshghallah et al.
                2022)
==============  ===================================================================================

Min-K% keeps ``ceil(k * n)`` of a text's ``n`` token scores (at least one).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from synth_audit.errors import ConfigError
from synth_audit.lm.logprobs import TokenStats

__all__ = ["ATTACKS", "attack_scores", "check_k", "min_k", "min_k_pp", "n_lowest"]

ATTACKS = ("loss", "zlib", "lowercase", "min_k", "min_k_pp", "reference")


def check_k(k: object, where: str = "min_k") -> float:
    if isinstance(k, bool) or not isinstance(k, int | float) or not 0 < float(k) <= 1:
        raise ConfigError(
            f"The Min-K% fraction {where!r} must be a number in (0, 1] (0.2 = the 20 % lowest "
            f"tokens). Got {k!r}."
        )
    return float(k)


def n_lowest(n: int, k: float) -> int:
    """How many of ``n`` token scores Min-K% keeps: ``ceil(k * n)``, at least 1."""
    return max(1, math.ceil(k * n - 1e-9))


def min_k(logprobs: ArrayLike, k: float) -> float:
    """Min-K%: the mean of the ``ceil(k n)`` lowest token log-probabilities."""
    lp = np.asarray(logprobs, dtype=float)
    if lp.size == 0:
        return float("nan")
    m = n_lowest(lp.size, check_k(k))
    return float(np.sort(lp)[:m].mean())


def min_k_pp(logprobs: ArrayLike, mean: ArrayLike, std: ArrayLike, k: float) -> float:
    """Min-K%++: the mean of the ``ceil(k n)`` lowest ``(log p - mu) / sigma`` (sigma floored at
    1e-12 so that a certain position scores 0 rather than dividing by zero)."""
    lp = np.asarray(logprobs, dtype=float)
    if lp.size == 0:
        return float("nan")
    z = (lp - np.asarray(mean, dtype=float)) / np.maximum(np.asarray(std, dtype=float), 1e-12)
    m = n_lowest(z.size, check_k(k))
    return float(np.sort(z)[:m].mean())


def zlib_bytes(text: str) -> int:
    return len(zlib.compress(text.encode("utf-8")))


def attack_scores(
    texts: Sequence[str],
    stats: Sequence[TokenStats],
    *,
    attacks: Sequence[str],
    k: float = 0.2,
    lower_stats: Sequence[TokenStats] | None = None,
    reference_stats: Sequence[TokenStats] | None = None,
    reference_nll: ArrayLike | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Each attack's score per text (higher = more likely a member). The reference model's loss
    per text comes from ``reference_stats`` or, as a cached fit gives it, ``reference_nll``."""
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown:
        raise ConfigError(
            f"Unknown language-model attack(s) {', '.join(map(repr, unknown))}. Known attacks: "
            f"{', '.join(ATTACKS)}."
        )
    nll = np.array([s.nll for s in stats])
    out: dict[str, NDArray[np.float64]] = {}
    for a in attacks:
        if a == "loss":
            out[a] = -nll
        elif a == "zlib":
            out[a] = -nll / np.array([zlib_bytes(t) for t in texts], dtype=float)
        elif a == "lowercase":
            if lower_stats is None:
                raise ConfigError("The 'lowercase' attack needs the lowercased texts' statistics.")
            out[a] = np.array([s.nll for s in lower_stats]) / np.maximum(nll, 1e-12)
        elif a == "min_k":
            out[a] = np.array([min_k(s.logprobs, k) for s in stats])
        elif a == "min_k_pp":
            out[a] = np.array([min_k_pp(s.logprobs, s.mean, s.std, k) for s in stats])
        elif a == "reference":
            if reference_nll is not None:
                out[a] = np.asarray(reference_nll, dtype=float) - nll
                continue
            if reference_stats is None:
                raise ConfigError(
                    "The 'reference' attack needs a reference model: give reference texts (or a "
                    "reference model directory) in the audit, or leave 'reference' out of attacks."
                )
            out[a] = np.array([s.nll for s in reference_stats]) - nll
    return out
