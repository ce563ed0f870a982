"""The blind baseline: a model-free classifier that tells members from non-members by their text
alone (bag of word n-grams, TF-IDF, logistic regression, cross-validated out-of-fold scores).

Das et al. (2024, "Blind baselines beat membership inference attacks for foundation models") and
Duan et al. (2024, "Do membership inference attacks work on large language models?") found that
published LLM membership benchmarks drew members and non-members from different distributions
(different dates, sources): a classifier that never sees the model then scores as well as the
attacks. When this baseline's AUC CI lies above 0.5 the split itself is distinguishable, and the
report says so (``blind_baseline_separates``); every attack carries the baseline beside it
(:meth:`~synth_audit.membership.MembershipResult.with_baseline`, which adds
``not_better_than_baseline`` when the attack does not beat it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from synth_audit.errors import DataValidationError
from synth_audit.membership import MembershipResult
from synth_audit.results import AuditWarning
from synth_audit.seeding import spawn_seeds

__all__ = ["BLIND_ATTACK", "blind_baseline"]

BLIND_ATTACK = "blind_ngram"


def blind_baseline(
    members: Sequence[str],
    nonmembers: Sequence[str],
    *,
    target: str = "split",
    record_ids: Sequence[Any] | None = None,
    n_splits: int = 5,
    n_repeats: int = 3,
    ngram_range: tuple[int, int] = (1, 2),
    random_state: int = 0,
    confidence_level: float = 0.95,
) -> MembershipResult:
    """Out-of-fold scores of a bag-of-n-grams classifier for ``members`` (label 1) and
    ``nonmembers`` (label 0), as a MembershipResult of attack ``blind_ngram``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    texts = [*members, *nonmembers]
    labels = np.r_[np.ones(len(members), dtype=int), np.zeros(len(nonmembers), dtype=int)]
    folds = min(int(n_splits), len(members), len(nonmembers))
    if folds < 2:
        raise DataValidationError(
            "The blind baseline needs at least 2 member and 2 non-member texts to cross-validate; "
            f"got {len(members)} and {len(nonmembers)}. Give more texts."
        )
    # Out-of-fold scores, standardised within each fold (each fold's classifier has its own
    # offset and scale, which pooled scores would otherwise mistake for signal) and averaged over
    # ``n_repeats`` shuffles of the folds (less variance from one particular partition).
    scores = np.zeros(len(texts))
    arr = np.asarray(texts, dtype=object)
    for rep_seed in spawn_seeds(int(random_state), int(n_repeats)):
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=rep_seed % (2**31))
        for tr, te in cv.split(arr, labels):
            clf = make_pipeline(
                TfidfVectorizer(ngram_range=ngram_range, min_df=1, sublinear_tf=True),
                LogisticRegression(C=1.0, max_iter=1000),
            )
            clf.fit(list(arr[tr]), labels[tr])
            d = clf.decision_function(list(arr[te]))
            scores[te] += (d - d.mean()) / (d.std() or 1.0) / int(n_repeats)
    res = MembershipResult.from_scores(
        scores,
        labels,
        attack=BLIND_ATTACK,
        target=target,
        record_ids=record_ids,
        confidence_level=confidence_level,
        seed=int(random_state),
        params={
            "n_splits": folds,
            "n_repeats": int(n_repeats),
            "ngram_range": list(ngram_range),
            "features": "tfidf words",
        },
        unit="document",
    )
    lo, hi = res.auc_ci
    if lo > 0.5:
        res = dataclasses.replace(
            res,
            warnings=(
                *res.warnings,
                AuditWarning(
                    "blind_baseline_separates",
                    f"A classifier that never sees the model tells members from non-members by "
                    f"their words alone (AUC {res.auc:.3f}, CI [{lo:.3f}, {hi:.3f}]): the split, "
                    "not the model, is being measured. Draw members and non-members from the same "
                    "source and period (an IID split) before reading the attacks.",
                ),
            ),
        )
    return res
