"""The empirical ε of a classifier beside the ε it claims (DP-SGD by opacus).

The members and non-members are split at random in two halves: each attack's threshold is chosen
on the first (the threshold maximising the Clopper–Pearson ε bound) and the bound is computed on
the second (:func:`~synth_audit.membership.stats.epsilon_lower_bound_from_scores` with
``threshold_from``), so its confidence level holds as stated. Over ``k`` attacks the level of each
is ``1 − α/k`` (Bonferroni), so the largest of them is a lower bound at ``1 − α``. The ceiling is
the largest bound these numbers of challenge records could show (a perfect attack): a claimed ε
above it cannot be refuted by this audit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synth_audit.membership.stats import EpsilonBound, epsilon_lower_bound_from_scores
from synth_audit.report.sections import finding, make_section, table

__all__ = ["dp_section", "empirical_epsilon"]


def empirical_epsilon(
    scores: dict[str, np.ndarray],
    labels: np.ndarray,
    *,
    delta: float,
    confidence_level: float,
    random_state: int,
) -> dict[str, EpsilonBound]:
    """Per attack, the ε lower bound on a held-out half (threshold from the other half)."""
    rng = np.random.default_rng(random_state)
    calib = np.zeros(labels.size, dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(labels == cls)
        calib[rng.permutation(idx)[: idx.size // 2]] = True
    per = 1.0 - (1.0 - confidence_level) / max(len(scores), 1)
    out = {}
    for name, s in scores.items():
        out[name] = epsilon_lower_bound_from_scores(
            s[~calib],
            labels[~calib],
            delta=delta,
            confidence=per,
            threshold_from=(s[calib], labels[calib]),
        )
    return out


def dp_section(
    info: Any,
    scores: dict[str, np.ndarray],
    labels: np.ndarray,
    *,
    confidence_level: float,
    random_state: int,
) -> dict[str, Any]:
    """The ``dp`` section: claimed ε/δ (if any) beside the empirical lower bound and its ceiling."""
    claimed = info.epsilon
    delta = info.delta if info.delta is not None else 0.0
    bounds = empirical_epsilon(
        scores, labels, delta=delta, confidence_level=confidence_level, random_state=random_state
    )
    name, best = max(bounds.items(), key=lambda kv: kv[1].epsilon)
    warnings = []
    if claimed is not None and best.epsilon > claimed:
        warnings.append(
            {
                "code": "epsilon_claim_refuted",
                "message": f"The empirical ε lower bound {best.epsilon:.3g} ({name}) exceeds the "
                f"claimed ε = {claimed:g}: the training does not give the privacy it claims.",
            }
        )
    if claimed is not None and best.ceiling < claimed:
        warnings.append(
            {
                "code": "epsilon_unrefutable",
                "message": f"With {best.n_members + best.n_nonmembers} held-out challenge records "
                f"the largest ε this audit can show is {best.ceiling:.3g}, below the claimed "
                f"ε = {claimed:g}: the claim cannot be refuted at this size.",
            }
        )
    findings = [
        finding(
            "epsilon_lower_bound",
            best.epsilon,
            role="diagnostic",
            confidence_level=confidence_level,
            direction="lower_is_better",
            reading=f"Empirical ε lower bound ({name}; threshold chosen on a separate half; "
            "Bonferroni over attacks).",
            ceiling=best.ceiling,
            attack=name,
        ),
        finding(
            "epsilon_ceiling",
            best.ceiling,
            role="evidence",
            reading="The largest ε lower bound these numbers of challenge records could show.",
        ),
        finding(
            "claimed_epsilon",
            claimed,
            role="evidence",
            reading="ε claimed by the training (DP-SGD accountant)"
            if claimed is not None
            else "The model claims no differential privacy.",
            delta=delta,
        ),
    ]
    rows = [
        [a, round(b.epsilon, 4), round(b.ceiling, 4), b.tp, b.fp, b.n_members, b.n_nonmembers]
        for a, b in bounds.items()
    ]
    summary = f"Empirical ε ≥ {best.epsilon:.3g} (ceiling {best.ceiling:.3g})" + (
        f" beside the claimed ε = {claimed:g} (δ = {delta:g})."
        if claimed is not None
        else "; no ε is claimed."
    )
    return make_section(
        "Differential privacy: claimed and empirical ε",
        "dp",
        summary=summary,
        findings=findings,
        tables=[
            table(
                "ε lower bound per attack (held-out half)",
                ["attack", "epsilon_lb", "ceiling", "tp", "fp", "n_members", "n_nonmembers"],
                rows,
            )
        ],
        warnings=warnings,
        data={"bounds": {a: b.to_dict() for a, b in bounds.items()}},
    )
