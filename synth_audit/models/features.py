"""A small, JSON-describable feature encoder: numeric columns standardised, categorical columns
one-hot. Its state is plain JSON (``to_dict`` / ``from_dict``), so a torch MLP can be stored as a
safetensors state dict plus a JSON config without pickle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import DataValidationError, format_names

__all__ = ["TabularEncoder", "split_label"]


def split_label(
    data: pd.DataFrame, label: str | None, *, where: str = "the data"
) -> tuple[pd.DataFrame, pd.Series]:
    """``(features, label column)``; a DataValidationError names the missing label column."""
    if label is None:
        raise DataValidationError(
            f"No label column was given for {where}. Set 'label' (the column the classifier "
            "predicts) in the target's parameters."
        )
    if label not in data.columns:
        raise DataValidationError(
            f"The label column {label!r} is not in {where}; its columns are "
            f"{format_names(data.columns)}. Set 'label' to one of them."
        )
    return data.drop(columns=[label]), data[label]


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


class TabularEncoder:
    """Standardise numeric columns, one-hot encode the others (unknown categories: all zeros)."""

    def __init__(self) -> None:
        self.numeric_: dict[str, tuple[float, float]] = {}
        self.categorical_: dict[str, list[str]] = {}
        self.columns_: list[str] = []

    def fit(self, X: pd.DataFrame) -> TabularEncoder:
        self.columns_ = [str(c) for c in X.columns]
        self.numeric_, self.categorical_ = {}, {}
        for c in X.columns:
            s = X[c]
            if _is_numeric(s):
                v = s.astype(float).to_numpy()
                mean = float(np.nanmean(v)) if np.isfinite(v).any() else 0.0
                std = float(np.nanstd(v)) if np.isfinite(v).any() else 1.0
                self.numeric_[str(c)] = (mean, std if std > 0 else 1.0)
            else:
                self.categorical_[str(c)] = sorted({str(x) for x in s.dropna().unique()})
        return self

    @property
    def n_features(self) -> int:
        return len(self.numeric_) + sum(len(v) for v in self.categorical_.values())

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise DataValidationError(
                f"The model was trained on the columns {format_names(self.columns_)}; the data "
                f"lacks {format_names(missing)}. Give records with the same columns."
            )
        parts: list[np.ndarray] = []
        for c in self.columns_:
            if c in self.numeric_:
                mean, std = self.numeric_[c]
                v = pd.to_numeric(X[c], errors="coerce").astype(float).to_numpy()
                v = np.where(np.isfinite(v), (v - mean) / std, 0.0)
                parts.append(v[:, None])
            else:
                cats = self.categorical_[c]
                codes = pd.Categorical(X[c].astype(str), categories=cats).codes
                onehot = np.zeros((len(X), len(cats)))
                ok = codes >= 0
                onehot[np.flatnonzero(ok), codes[ok]] = 1.0
                parts.append(onehot)
        if not parts:
            return np.zeros((len(X), 0), dtype=np.float32)
        return np.hstack(parts).astype(np.float32)

    def fit_transform(self, X: pd.DataFrame) -> np.ndarray:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns_),
            "numeric": {k: [m, s] for k, (m, s) in self.numeric_.items()},
            "categorical": {k: list(v) for k, v in self.categorical_.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "the model config") -> TabularEncoder:
        enc = cls()
        try:
            enc.columns_ = [str(c) for c in d["columns"]]
            enc.numeric_ = {str(k): (float(v[0]), float(v[1])) for k, v in d["numeric"].items()}
            enc.categorical_ = {str(k): [str(x) for x in v] for k, v in d["categorical"].items()}
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataValidationError(
                f"{source}: the 'encoder' entry is malformed ({type(exc).__name__}: {exc}). It "
                "needs 'columns', 'numeric' ({column: [mean, std]}) and 'categorical' ({column: "
                "[categories]}), as ClassifierTarget.save_torch writes it."
            ) from None
        unknown = set(enc.columns_) - set(enc.numeric_) - set(enc.categorical_)
        if unknown:
            raise DataValidationError(
                f"{source}: the encoder lists the columns {format_names(unknown)} under 'columns' "
                "but neither under 'numeric' nor 'categorical'. Describe every column."
            )
        return enc


def class_index(y: Sequence[Any] | pd.Series, classes: Sequence[Any]) -> np.ndarray:
    """Position of each label in ``classes`` (compared as text); -1 for a label not in it."""
    lookup = {str(c): i for i, c in enumerate(classes)}
    return np.array([lookup.get(str(v), -1) for v in list(y)], dtype=np.int64)
