"""Attribute inference against a classifier: does the model reveal a sensitive feature of the
people it was trained on?

For a record whose sensitive feature ``s`` is hidden, the attacker knows every other feature and
the label ``y``. Three attacks, on the same records:

* **without the model** (the baseline): a classifier trained on the attacker's population sample
  (the reference data) predicts ``s`` from the other features and ``y``: prior ``q(v | x_-s, y)``;
* **with the model**, on the members: for each candidate value ``v`` the model is queried with
  ``s = v`` and the guess maximises ``log q(v | x_-s, y) + log p_model(y | x_-s, s = v)`` (the
  model's outputs as extra knowledge, in the manner of Fredrikson et al. 2015 and Mehnaz et al.
  2022);
* **control**: the same attack with the model, on non-members.

What the model reveals about its training records is member accuracy with the model minus control
accuracy (``advantage``, role risk); member accuracy with minus without the model is the gain the
model gives an attacker on anyone (``gain``, diagnostic). Numeric features with more than
``max_values`` distinct values are cut into quantile bins of the reference data (a guess counts as
correct when it falls in the true value's bin; candidates are the bins' medians).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import DataValidationError, format_names
from synth_audit.models.features import TabularEncoder, class_index
from synth_audit.report.sections import finding, make_section, table
from synth_audit.stats import wilson_rate

__all__ = ["attribute_inference", "attribute_inference_section"]


def _bins(values: pd.Series, ref: pd.Series, max_values: int) -> tuple[np.ndarray, list[Any]]:
    """(code of each value, candidate values): categories as they are, or quantile bins."""
    numeric = pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref)
    if numeric and ref.nunique() > max_values:
        edges = np.unique(np.quantile(ref.astype(float), np.linspace(0, 1, 6)))
        inner = edges[1:-1]
        ref_codes = np.searchsorted(inner, ref.astype(float), side="right")
        cands = [float(np.median(ref.astype(float)[ref_codes == k])) for k in range(len(inner) + 1)]
        codes = np.searchsorted(inner, values.astype(float), side="right")
        return codes, cands
    cands = sorted(ref.dropna().unique().tolist(), key=str)
    return class_index(values, cands), cands


def _rates(correct: np.ndarray, conf: float) -> dict[str, Any]:
    r = wilson_rate(int(correct.sum()), int(correct.size), conf)
    lo, hi = r.ci
    return {
        "value": float(correct.mean()) if correct.size else None,
        "ci": (lo, hi),
        "n": int(correct.size),
    }


def attribute_inference(
    target: Any,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    reference: pd.DataFrame,
    secret: str,
    *,
    max_values: int = 10,
    confidence_level: float = 0.95,
) -> dict[str, Any]:
    """Accuracies of the three attacks (see the module's docstring) for the feature ``secret``."""
    from sklearn.linear_model import LogisticRegression

    label = target.label
    if secret == label or secret not in members.columns:
        raise DataValidationError(
            f"The sensitive feature {secret!r} is {'the label' if secret == label else 'not a column of the data'}; "
            f"choose one of {format_names(c for c in members.columns if c != label)}."
        )
    ref_codes, cands = _bins(reference[secret], reference[secret], max_values)
    keep = ref_codes >= 0
    if keep.sum() < 10 or len(cands) < 2:
        raise DataValidationError(
            f"The sensitive feature {secret!r} has fewer than 2 values (or 10 known records) in "
            "the reference data; it cannot be inferred. Remove it from 'sensitive'."
        )
    others = [c for c in reference.columns if c != secret]
    enc = TabularEncoder().fit(reference[others])
    prior_model = LogisticRegression(max_iter=500).fit(
        enc.transform(reference[others])[keep], ref_codes[keep]
    )
    classes = list(target.classes)

    def run(frame: pd.DataFrame, with_model: bool) -> np.ndarray:
        codes, _ = _bins(frame[secret], reference[secret], max_values)
        logq = np.full((len(frame), len(cands)), -np.inf)
        proba = prior_model.predict_proba(enc.transform(frame[others]))
        logq[:, prior_model.classes_] = np.log(np.clip(proba, 1e-12, 1.0))
        if with_model:
            y = class_index(frame[label], classes)
            for k, v in enumerate(cands):
                probe = frame.copy()
                probe[secret] = v
                p = target.predict_proba(probe)
                py = np.where(y >= 0, p[np.arange(len(frame)), np.maximum(y, 0)], 1e-12)
                logq[:, k] += np.log(np.clip(py, 1e-12, 1.0))
        guess = np.argmax(logq, axis=1)
        return np.asarray(guess == codes)

    members_model = run(members, True)
    members_plain = run(members, False)
    control_model = run(nonmembers, True)
    out: dict[str, Any] = {
        "secret": secret,
        "candidates": [str(c) for c in cands],
        "members_with_model": _rates(members_model, confidence_level),
        "members_without_model": _rates(members_plain, confidence_level),
        "control_with_model": _rates(control_model, confidence_level),
    }
    out["advantage"] = out["members_with_model"]["value"] - out["control_with_model"]["value"]
    out["gain"] = out["members_with_model"]["value"] - out["members_without_model"]["value"]
    return out


def attribute_inference_section(
    results: Sequence[dict[str, Any]], confidence_level: float
) -> dict[str, Any]:
    """The report section ``attribute_inference`` of these results."""
    findings = []
    rows = []
    for r in results:
        s = r["secret"]
        for key, name, reading in (
            ("members_with_model", "member_accuracy", "members, with the model's outputs"),
            ("members_without_model", "baseline_accuracy", "members, without the model"),
            ("control_with_model", "control_accuracy", "non-members, with the model's outputs"),
        ):
            v = r[key]
            findings.append(
                finding(
                    f"{s}.{name}",
                    v["value"],
                    role="diagnostic",
                    ci=v["ci"],
                    confidence_level=confidence_level,
                    bounds=(0.0, 1.0),
                    reading=f"Share of correct guesses of {s!r}: {reading} ({v['n']} records).",
                )
            )
        findings.append(
            finding(
                f"{s}.advantage",
                r["advantage"],
                role="risk",
                direction="lower_is_better",
                bounds=(-1.0, 1.0),
                reading=f"How much better {s!r} is inferred for members than for non-members "
                "with the model's outputs (what the model reveals about its training records).",
            )
        )
        findings.append(
            finding(
                f"{s}.gain",
                r["gain"],
                role="diagnostic",
                bounds=(-1.0, 1.0),
                reading=f"How much the model's outputs add to inferring {s!r} of members.",
            )
        )
        rows.append(
            [
                s,
                round(r["members_with_model"]["value"], 4),
                round(r["members_without_model"]["value"], 4),
                round(r["control_with_model"]["value"], 4),
                round(r["advantage"], 4),
            ]
        )
    worst = max(results, key=lambda r: r["advantage"]) if results else None
    summary = (
        "No sensitive feature was given ('sensitive' in the audit settings)."
        if worst is None
        else f"The largest member advantage is {worst['advantage']:+.1%} for {worst['secret']!r} "
        "(member accuracy with the model minus non-member accuracy with the model)."
    )
    return make_section(
        "Attribute inference against the model",
        "attribute_inference",
        summary=summary,
        findings=findings,
        tables=[
            table(
                "Accuracy of inferring each sensitive feature",
                [
                    "feature",
                    "members + model",
                    "members, no model",
                    "non-members + model",
                    "advantage",
                ],
                rows,
            )
        ]
        if rows
        else [],
        data={"results": [dict(r) for r in results]},
    )
