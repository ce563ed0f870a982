"""k-anonymisation of training data, model-guided (Goldsteen et al.).

Goldsteen, Ezov, Shmelkin, Moffie, Farkash: "Anonymizing Machine Learning Models", DPM 2021
(arXiv:2007.13086). The quasi-identifiers are generalised along the decision boundaries of the
model that will be trained, so that accuracy is kept where it matters:

1. labels: the predictions of a model trained on the original data (or the true labels);
2. a decision tree is fitted on the quasi-identifiers (categoricals one-hot) to those labels with
   ``min_samples_leaf = k``: every leaf is a cell of at least ``k`` records;
3. the quasi-identifiers of every record of a cell are replaced by those of the cell's
   *representative*: the cell's record closest to the cell's median (standardised numeric columns,
   categorical mismatch counts 1), so released values are real values, not ranges.

Each cell has at least ``k`` records sharing one quasi-identifier tuple, so the result is
k-anonymous with respect to the quasi-identifiers (:func:`min_group_size` checks it).

IBM's ai-privacy-toolkit implements this method (``apt.anonymization.Anonymize``), but with
scikit-learn 1.7.2, as pinned here, it fails as soon as a quasi-identifier is categorical:
``TypeError: OneHotEncoder.__init__() got an unexpected keyword argument 'sparse'`` (the argument
was removed in scikit-learn 1.4; apt 0.2.x still passes it). Hence this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names

__all__ = ["AnonymisedData", "k_anonymise", "min_group_size"]


@dataclass
class AnonymisedData:
    frame: pd.DataFrame
    k: int
    quasi_identifiers: list[str]
    n_cells: int
    min_group: int
    info: dict[str, Any] = field(default_factory=dict)


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def _design(frame: pd.DataFrame, qi: list[str]) -> tuple[np.ndarray, list[bool]]:
    """QI columns as a numeric matrix for the tree: numeric standardised (NaN -> median), categorical
    one-hot (NaN is a level)."""
    parts: list[np.ndarray] = []
    cats: list[bool] = []
    for c in qi:
        s = frame[c]
        if _is_categorical(s):
            d = pd.get_dummies(s.astype("string").fillna("<NA>"), dtype=float).to_numpy()
            parts.append(d)
            cats.append(True)
        else:
            v = pd.to_numeric(s, errors="coerce").astype(float)
            v = v.fillna(v.median() if v.notna().any() else 0.0)
            sd = float(v.std()) or 1.0
            parts.append(((v - float(v.mean())) / sd).to_numpy()[:, None])
            cats.append(False)
    return np.hstack(parts), cats


def k_anonymise(
    data: pd.DataFrame,
    *,
    k: int,
    quasi_identifiers: Sequence[str],
    labels: Sequence[Any] | np.ndarray | pd.Series | None = None,
    target: str | None = None,
    random_state: int | None = 0,
    source: str = "the training data",
) -> AnonymisedData:
    """``data`` with its quasi-identifiers generalised to ``k``-anonymity (see the module docstring).

    ``labels``: the model's predictions on ``data`` (model-guided); else the column ``target``;
    with neither, the tree splits on the quasi-identifiers alone (all records one label: one cell,
    which is k-anonymous but keeps little). Rows and the other columns are kept as they are.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be an integer >= 1; got {k!r}.")
    qi = list(quasi_identifiers)
    if not qi:
        raise ConfigError("Name at least one quasi-identifier column to anonymise.")
    missing = [c for c in qi if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"The quasi-identifier column(s) {format_names(missing)} are not in {source} (columns: "
            f"{format_names(list(data.columns))}). Fix the quasi_identifiers list."
        )
    if target is not None and target in qi:
        raise ConfigError(f"The target {target!r} cannot also be a quasi-identifier.")
    n = len(data)
    if n < k:
        raise DataValidationError(
            f"{source} has {n} rows, fewer than k = {k}: no group of k records can be formed. "
            "Lower k or use more rows."
        )
    from sklearn.tree import DecisionTreeClassifier

    if labels is not None:
        y = np.asarray(labels)
        if len(y) != n:
            raise DataValidationError(
                f"{len(y)} labels were given for {n} rows of {source}; give one per row."
            )
    elif target is not None:
        if target not in data.columns:
            raise DataValidationError(f"The target column {target!r} is not in {source}.")
        y = data[target].astype("string").fillna("<NA>").to_numpy()
    else:
        y = np.zeros(n, dtype=int)
    y = pd.Series(y).astype("string").fillna("<NA>").to_numpy()
    x, _ = _design(data, qi)
    tree = DecisionTreeClassifier(min_samples_leaf=int(k), random_state=random_state)
    tree.fit(x, y)
    leaves = tree.apply(x)
    out = data.copy()
    # distances for the representative: numeric standardised, categorical 0/1 mismatch
    num = [c for c in qi if not _is_categorical(data[c])]
    cat = [c for c in qi if _is_categorical(data[c])]
    zs = {}
    for c in num:
        v = pd.to_numeric(data[c], errors="coerce").astype(float)
        sd = float(v.std()) or 1.0
        zs[c] = ((v - float(v.mean())) / sd).to_numpy()
    positions = np.arange(n)
    for leaf in np.unique(leaves):
        idx = positions[leaves == leaf]
        dist = np.zeros(len(idx))
        for c in num:
            z = zs[c][idx]
            med = np.nanmedian(z) if np.isfinite(z).any() else 0.0
            dist += np.where(np.isnan(z), 1.0, (z - med) ** 2)
        for c in cat:
            vals = data[c].iloc[idx].astype("string").fillna("<NA>")
            mode = vals.mode().iloc[0]
            dist += (vals.to_numpy() != mode).astype(float)
        rep = int(idx[int(np.argmin(dist))])
        for c in qi:
            col = out.columns.get_loc(c)
            out.iloc[idx, col] = data.iloc[rep, col]  # type: ignore[index]
    mg = min_group_size(out, qi)
    return AnonymisedData(
        frame=out,
        k=int(k),
        quasi_identifiers=qi,
        n_cells=len(np.unique(leaves)),
        min_group=mg,
        info={
            "method": "model-guided k-anonymity (Goldsteen et al. 2021)",
            "tree_depth": int(tree.get_depth()),
        },
    )


def min_group_size(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The size of the smallest group of rows sharing one quasi-identifier tuple (NaN is a value)."""
    qi = list(quasi_identifiers)
    if len(frame) == 0:
        return 0
    keys = frame[qi].astype("string").fillna("<NA>")
    return int(keys.groupby(qi, dropna=False).size().min())
