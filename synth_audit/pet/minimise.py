"""Data minimisation for a trained model: which features, at what granularity (Goldsteen et al.).

Goldsteen, Ezov, Shmelkin, Moffie, Farkash: "Data minimization for GDPR compliance in machine
learning models", AI and Ethics 2 (2022), arXiv:2008.04113. The features a model is given are
generalised as far as the model's predictions allow:

1. labels: the model's predictions on the data;
2. a decision tree on the features, to those labels, with ``min_samples_leaf = cell_size``: its
   leaves are cells of similar records that the model treats alike;
3. every record's generalised features take the values of its cell's representative (the cell's
   record nearest the cell's median, as in :mod:`synth_audit.pet.anonymise`);
4. start with every feature generalised; while the model's accuracy on the generalised data
   (agreement with its own predictions) is below ``target_accuracy``, restore the feature whose
   restoration raises it most. The features still generalised need only the cell's value: that is
   the granularity the model needs (``n_values`` per feature says how coarse).

:meth:`Minimisation.transform` generalises new records (the cell from the tree, the values of its
representative): what a data controller collects instead of the full record.

IBM's ai-privacy-toolkit implements the method (``apt.minimization.GeneralizeToRepresentative``),
but on the RAND HIE sample (2,000 rows, 15 features) its ``fit`` fails on a missing value (``ValueError:
array must not contain infs or NaNs``) and, with the row dropped, had not finished after 10 minutes
on this machine. Hence this module, with the same steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.pet.anonymise import _is_categorical

__all__ = ["Minimisation", "minimise"]


def _encode(frame: pd.DataFrame, ref: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Features as the tree sees them, encoded on ``ref``: numeric as they are (missing: ref's
    median), categorical one-hot over ref's levels (an unseen level: all zeros)."""
    parts: list[np.ndarray] = []
    for c in features:
        if _is_categorical(ref[c]):
            levels = sorted(ref[c].astype("string").fillna("<NA>").unique().tolist())
            vals = frame[c].astype("string").fillna("<NA>").to_numpy()
            parts.append(np.stack([(vals == lv).astype(float) for lv in levels], axis=1))
        else:
            r = pd.to_numeric(ref[c], errors="coerce").astype(float)
            med = float(r.median()) if r.notna().any() else 0.0
            v = pd.to_numeric(frame[c], errors="coerce").astype(float).fillna(med)
            parts.append(v.to_numpy()[:, None])
    return np.hstack(parts)


@dataclass
class Minimisation:
    frame: pd.DataFrame
    generalised: list[str]
    kept: list[str]
    accuracy: float
    target_accuracy: float
    n_cells: int
    n_values: dict[str, int]
    steps: list[dict[str, Any]] = field(default_factory=list)
    _tree: Any = None
    _features: list[str] = field(default_factory=list)
    _reps: pd.DataFrame | None = None
    _ref: pd.DataFrame | None = None

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` with the generalised features replaced by their cell's representative values."""
        missing = [c for c in self._features if c not in data.columns]
        if missing:
            raise DataValidationError(
                f"The data to minimise lacks the feature column(s) {format_names(missing)}; give "
                "the columns the minimisation was fitted on."
            )
        assert self._tree is not None and self._reps is not None and self._ref is not None
        leaves = self._tree.apply(_encode(data, self._ref, self._features))
        out = data.copy()
        for c in self.generalised:
            out[c] = self._reps.loc[leaves, c].to_numpy()
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "generalised": list(self.generalised),
            "kept": list(self.kept),
            "accuracy": self.accuracy,
            "target_accuracy": self.target_accuracy,
            "n_cells": self.n_cells,
            "n_values": dict(self.n_values),
            "steps": list(self.steps),
            "method": "Goldsteen et al. 2022 (model-guided generalisation to representatives)",
        }


def minimise(
    data: pd.DataFrame,
    predict: Callable[[pd.DataFrame], Sequence[Any] | np.ndarray],
    *,
    features: Sequence[str] | None = None,
    target_accuracy: float = 0.95,
    cell_size: int = 10,
    random_state: int | None = 0,
    source: str = "the data",
) -> Minimisation:
    """Generalise ``features`` of ``data`` as far as ``predict`` keeps ``target_accuracy`` of its
    own predictions (see the module docstring). ``predict`` takes a frame with the columns of
    ``data`` and returns one label per row."""
    if not 0 < target_accuracy <= 1:
        raise ConfigError(f"target_accuracy must be in (0, 1]; got {target_accuracy!r}.")
    if isinstance(cell_size, bool) or not isinstance(cell_size, int) or cell_size < 1:
        raise ConfigError(f"cell_size must be an integer >= 1; got {cell_size!r}.")
    feats = list(data.columns if features is None else features)
    missing = [c for c in feats if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"The feature column(s) {format_names(missing)} are not in {source} (columns: "
            f"{format_names(list(data.columns))}). Fix the features list."
        )
    if len(data) < cell_size:
        raise DataValidationError(
            f"{source} has {len(data)} rows, fewer than cell_size = {cell_size}. Lower cell_size."
        )
    from sklearn.tree import DecisionTreeClassifier

    data = data.reset_index(drop=True)
    labels = pd.Series(np.asarray(predict(data))).astype("string").fillna("<NA>").to_numpy()
    x = _encode(data, data, feats)
    tree = DecisionTreeClassifier(min_samples_leaf=cell_size, random_state=random_state)
    tree.fit(x, labels)
    leaves = tree.apply(x)
    # the representative of every leaf (indexed by leaf id, for transform)
    reps: dict[int, pd.Series] = {}
    zs = {}
    for c in feats:
        if not _is_categorical(data[c]):
            v = pd.to_numeric(data[c], errors="coerce").astype(float)
            sd = float(v.std()) or 1.0
            zs[c] = ((v - float(v.mean())) / sd).to_numpy()
    positions = np.arange(len(data))
    for leaf in np.unique(leaves):
        idx = positions[leaves == leaf]
        dist = np.zeros(len(idx))
        for c in feats:
            if c in zs:
                z = zs[c][idx]
                med = np.nanmedian(z) if np.isfinite(z).any() else 0.0
                dist += np.where(np.isnan(z), 1.0, (z - med) ** 2)
            else:
                vals = data[c].iloc[idx].astype("string").fillna("<NA>")
                dist += (vals.to_numpy() != vals.mode().iloc[0]).astype(float)
        reps[int(leaf)] = data.iloc[int(idx[int(np.argmin(dist))])]
    rep_frame = pd.DataFrame.from_dict(reps, orient="index")[feats]
    general = {c: rep_frame.loc[leaves, c].to_numpy() for c in feats}

    def build(generalised: list[str]) -> pd.DataFrame:
        out = data.copy()
        for c in generalised:
            out[c] = general[c]
        return out

    def accuracy(frame: pd.DataFrame) -> float:
        pred = pd.Series(np.asarray(predict(frame))).astype("string").fillna("<NA>").to_numpy()
        return float(np.mean(pred == labels))

    generalised = list(feats)
    acc = accuracy(build(generalised))
    steps = [{"restored": None, "accuracy": acc}]
    while acc < target_accuracy and generalised:
        best, best_acc = generalised[0], -1.0
        for c in generalised:
            a = accuracy(build([g for g in generalised if g != c]))
            if a > best_acc:
                best, best_acc = c, a
        generalised.remove(best)
        acc = best_acc
        steps.append({"restored": best, "accuracy": acc})
    frame = build(generalised)
    return Minimisation(
        frame=frame,
        generalised=generalised,
        kept=[c for c in feats if c not in generalised],
        accuracy=acc,
        target_accuracy=float(target_accuracy),
        n_cells=len(reps),
        n_values={c: int(frame[c].nunique(dropna=False)) for c in feats},
        steps=steps,
        _tree=tree,
        _features=feats,
        _reps=rep_frame,
        _ref=data,
    )
