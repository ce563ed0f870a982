"""Risk factors of a classifier: evidence shown beside the attacks, never folded into a score.

The train-test accuracy gap; the training set's size overall and per class; the numbers of
features and classes; where the strongest attack concentrates (AUC per class and per subgroup of
chosen columns); and the influence of sensitive features (how much the members' loss rises when
the feature is shuffled among them: a model that leans on a feature can leak it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.membership.stats import auc
from synth_audit.report.sections import finding, make_section, table

__all__ = ["risk_factors_section"]

MIN_GROUP = 5  # members and non-members a group needs for its AUC


def _group_auc(scores: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float | None:
    m = labels[mask]
    if (m == 1).sum() < MIN_GROUP or (m == 0).sum() < MIN_GROUP:
        return None
    return round(float(auc(scores[mask], m)), 4)


def risk_factors_section(
    target: Any,
    outcome: Any,
    *,
    train_accuracy: float,
    test_accuracy: float,
    subgroups: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    random_state: int = 0,
) -> dict[str, Any]:
    """The ``risk_factors`` section from a :class:`~synth_audit.models.attacks.MembershipOutcome`."""
    challenge: pd.DataFrame = outcome.challenge
    labels: np.ndarray = outcome.labels
    label = target.label
    members = challenge[labels == 1]
    best = max(outcome.results.items(), key=lambda kv: kv[1].auc)
    best_name, best_res = best
    scores = outcome.scores[best_name]
    n_features = challenge.shape[1] - 1
    counts = members[label].astype(str).value_counts()
    findings = [
        finding(
            "accuracy_gap",
            train_accuracy - test_accuracy,
            role="evidence",
            bounds=(-1.0, 1.0),
            reading="Train accuracy minus test accuracy: a large gap is overfitting, which "
            "membership attacks exploit.",
        ),
        finding("n_train", len(members), role="evidence", reading="Training records (members)."),
        finding("n_features", n_features, role="evidence", reading="Features the model reads."),
        finding("n_classes", len(target.classes), role="evidence", reading="Classes predicted."),
        finding(
            "min_class_size",
            int(counts.min()) if len(counts) else 0,
            role="evidence",
            reading="Training records of the smallest class: small classes are memorised first.",
        ),
    ]
    per_class: list[list[Any]] = []
    for c in target.classes:
        mask = (challenge[label].astype(str) == str(c)).to_numpy()
        per_class.append([str(c), int(counts.get(str(c), 0)), _group_auc(scores, labels, mask)])
    tables = [
        table(
            f"Training records and {best_name} AUC per class",
            ["class", "n_train", "auc"],
            per_class,
        )
    ]
    group_rows = []
    for col in subgroups:
        if col not in challenge.columns:
            continue
        values = challenge[col]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
            values = pd.qcut(values, 4, duplicates="drop").astype(str)
        for v in sorted(values.astype(str).unique()):
            mask = (values.astype(str) == v).to_numpy()
            group_rows.append(
                [col, v, int((labels[mask] == 1).sum()), _group_auc(scores, labels, mask)]
            )
    if group_rows:
        tables.append(
            table(
                f"{best_name} AUC per subgroup", ["column", "value", "n_members", "auc"], group_rows
            )
        )
    rng = np.random.default_rng(random_state)
    base_loss = float(np.mean(target.loss(members)))
    infl_rows = []
    for col in sensitive:
        if col not in members.columns or col == label:
            continue
        shuffled = members.copy()
        shuffled[col] = rng.permutation(shuffled[col].to_numpy())
        rise = float(np.mean(target.loss(shuffled))) - base_loss
        infl_rows.append([col, round(rise, 4)])
        findings.append(
            finding(
                f"influence.{col}",
                rise,
                role="evidence",
                reading=f"Rise of the members' mean loss when {col!r} is shuffled among them.",
            )
        )
    if infl_rows:
        tables.append(
            table(
                "Influence of sensitive features (loss rise when shuffled)",
                ["feature", "loss rise"],
                infl_rows,
            )
        )
    aucs = [float(r[2]) for r in per_class if r[2] is not None]
    spread = f" Per class its AUC ranges from {min(aucs):.2f} to {max(aucs):.2f}." if aucs else ""
    return make_section(
        "Risk factors",
        "risk_factors",
        summary=f"Accuracy gap {train_accuracy - test_accuracy:+.1%} on {len(members)} training "
        f"records, {n_features} features, {len(target.classes)} classes. The strongest attack is "
        f"{best_name} (AUC {best_res.auc:.3f}).{spread} Evidence, not a score.",
        findings=findings,
        tables=tables,
        data={"strongest_attack": best_name},
    )
