"""PETs applied to a classifier's training data before it is trained (issue 15, part 2).

:class:`~synth_audit.models.target.ClassifierTarget` runs these when its recipe sets them, so a
search (:mod:`synth_audit.pet.search`) or a study can vary them like any other parameter:

``anonymise_k``        k-anonymise the members over the quasi-identifiers
                       (:func:`synth_audit.pet.anonymise.k_anonymise`, Goldsteen et al. 2021),
                       guided by the predictions of an initial model trained on the original
                       members; the model is then trained on the anonymised members. It is queried
                       with records as they are (the membership attacks ask about the original
                       records). ``None`` or 1: off.
``minimise_accuracy``  data minimisation (:func:`synth_audit.pet.minimise.minimise`, Goldsteen et
                       al. 2022) of the quasi-identifiers to that accuracy of the initial model;
                       the model is trained on the minimised members, and every record it is asked
                       about is generalised the same way first (the deployed system only collects
                       the generalised features). ``None``: off.
``quasi_identifiers``  the columns both act on (default: every feature).

Both together: minimisation first, then k-anonymisation of the minimised members (labels: the
initial model's predictions on the original members). The initial model is the same recipe, trained
with the same seed. Neither is differentially private; DP-SGD's ε would not cover the
data-dependent generalisation before it, so the target refuses the combination.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import DataValidationError, format_names

__all__ = [
    "MINIMISE_CELL_SIZE",
    "MinimisedBackend",
    "TrainingPets",
    "active",
    "apply_training_pets",
]

MINIMISE_CELL_SIZE = 10
"""``cell_size`` of the minimisation tree (records per cell)."""


def active(params: Mapping[str, Any]) -> bool:
    """Whether a recipe asks for a PET on its training data."""
    k = params.get("anonymise_k")
    return (k is not None and int(k) > 1) or params.get("minimise_accuracy") is not None


@dataclass
class TrainingPets:
    """What the PETs did: the features to train on, the minimisation (to apply to queries) and a
    plain summary (recorded in the target's info)."""

    features: pd.DataFrame
    minimisation: Any = None
    summary: dict[str, Any] = field(default_factory=dict)


class MinimisedBackend:
    """A fitted backend whose queries are minimised first (the generalised features replaced by
    their cell's representative values), as the model was trained."""

    def __init__(self, inner: Any, minimisation: Any) -> None:
        self.inner = inner
        self.minimisation = minimisation
        self.classes_ = list(inner.classes_)
        self.privacy = dict(getattr(inner, "privacy", {}) or {})

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.inner.predict_proba(self.minimisation.transform(X)))

    def weight_chunks(self) -> Iterator[bytes]:
        yield from self.inner.weight_chunks()
        reps = self.minimisation._reps
        if reps is not None:
            yield pd.util.hash_pandas_object(reps.astype("string"), index=True).to_numpy().tobytes()


def _tree_seed(seed: int) -> int:
    return int(seed) % (2**32 - 1)


def apply_training_pets(
    params: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    classes: Sequence[Any],
    seed: int,
    *,
    who: str = "the classifier",
) -> TrainingPets:
    """The members' features ``X`` after the recipe's PETs (see the module docstring).

    ``params`` is a checked :class:`~synth_audit.models.target.ClassifierTarget` recipe with at
    least one PET on (:func:`active`)."""
    from synth_audit.models.backends import fit_recipe
    from synth_audit.models.features import class_index
    from synth_audit.pet.anonymise import k_anonymise
    from synth_audit.pet.minimise import minimise

    qi = list(params.get("quasi_identifiers") or X.columns)
    missing = [c for c in qi if c not in X.columns]
    if missing:
        raise DataValidationError(
            f"The quasi-identifier column(s) {format_names(missing)} of {who} are not among the "
            f"features of its training data ({format_names(list(X.columns))}). Fix "
            "quasi_identifiers in its params."
        )
    base = {**params, "anonymise_k": None, "minimise_accuracy": None}
    initial = fit_recipe(base, X, y, classes, seed)
    columns = list(X.columns)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(initial.predict_proba(frame[columns])).argmax(axis=1)

    preds = predict(X)
    summary: dict[str, Any] = {
        "quasi_identifiers": qi,
        "initial_train_accuracy": float(np.mean(class_index(y, classes) == preds)),
    }
    features = X.reset_index(drop=True)
    minimisation = None
    acc = params.get("minimise_accuracy")
    if acc is not None:
        minimisation = minimise(
            features,
            predict,
            features=qi,
            target_accuracy=float(acc),
            cell_size=min(MINIMISE_CELL_SIZE, len(features)),
            random_state=_tree_seed(seed),
            source=f"the training data of {who}",
        )
        features = minimisation.frame
        summary["minimisation"] = {
            k: v for k, v in minimisation.to_dict().items() if k not in ("steps", "method")
        }
    k = params.get("anonymise_k")
    if k is not None and int(k) > 1:
        anon = k_anonymise(
            features,
            k=int(k),
            quasi_identifiers=qi,
            labels=preds,
            random_state=_tree_seed(seed),
            source=f"the training data of {who}",
        )
        features = anon.frame
        summary["anonymisation"] = {"k": anon.k, "min_group": anon.min_group, "cells": anon.n_cells}
    features.index = X.index
    return TrainingPets(features=features, minimisation=minimisation, summary=summary)
