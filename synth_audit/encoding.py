"""One mixed-type encoding and one Gower-like distance, written once.

Distance between two records over columns C (Gower 1971, as used by anonymeter)::

    d(a, b) = (1/|C|) · Σ_c d_c(a_c, b_c)
    numeric / datetime   d_c = |a - b| / range_c      range over every frame the encoder was fitted on
    categorical/boolean  d_c = 0 if equal else 1
    missing values       d_c = 0 if both are missing, 1 if exactly one is (the maximum)

(anonymeter counts two missing values as distance 1 and leaves one-sided NaNs undefined; here
missing == missing, as for any other category.)

The distance is exactly an L1 distance in an embedding, which lets exact nearest-neighbour search run
on a KD-tree instead of a brute-force numba loop:

* numeric column without missing values: one coordinate ``x = (v - min) / range``;
* numeric column with missing values: three coordinates: present → ``(x/2, (1-x)/2, 0)``,
  missing → ``(0, 0, 1/2)``. Two present values differ by ``|x-y|``; present vs missing by
  ``x/2 + (1-x)/2 + 1/2 = 1``; missing vs missing by 0;
* categorical column: one-hot over the categories seen (missing is a category), scaled by 1/2, so a
  mismatch costs ``1/2 + 1/2 = 1``. Categories seen only in a query frame map to an all-zero vector,
  which is at distance 1/2 + 1/2 = 1 from every known category... (more precisely: 1/2 from the zero
  vector's side plus 1/2 from the candidate's hot coordinate) and 0 from another unseen category; to
  keep "unequal unknowns differ" exact, each frame's unseen categories get their own extra columns.

A column with a constant value has range 0 and contributes nothing (anonymeter divides by 1 instead,
which is the same since all differences are 0 within the fitted frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synth_audit.schema import ColumnKind, Schema

__all__ = ["MixedEncoder", "gower_matrix", "nearest_neighbors"]


def _numeric_values(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.astype("int64").to_numpy(dtype=float) / 1e9
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _category_keys(s: pd.Series) -> np.ndarray:
    """Object array of str keys; missing becomes a sentinel that cannot collide with data."""
    return s.astype(object).where(s.notna(), "\x00<missing>").astype(str).to_numpy()


@dataclass
class MixedEncoder:
    """Fitted on one or more frames; turns frames into the L1 embedding described above."""

    schema: Schema
    columns: list[str] = field(default_factory=list)
    _mins: dict[str, float] = field(default_factory=dict)
    _ranges: dict[str, float] = field(default_factory=dict)
    _has_nan: dict[str, bool] = field(default_factory=dict)
    _categories: dict[str, dict[str, int]] = field(default_factory=dict)

    def fit(
        self, frames: Sequence[pd.DataFrame], columns: Sequence[str] | None = None
    ) -> MixedEncoder:
        self.columns = list(columns) if columns is not None else list(self.schema.used)
        for c in self.columns:
            kind = self.schema.kind(c)
            if kind.is_numeric:
                vals = np.concatenate([_numeric_values(f[c]) for f in frames])
                finite = vals[np.isfinite(vals)]
                lo = float(finite.min()) if finite.size else 0.0
                hi = float(finite.max()) if finite.size else 0.0
                self._mins[c] = lo
                self._ranges[c] = hi - lo
                self._has_nan[c] = bool(np.isnan(vals).any())
            elif kind is not ColumnKind.ID:
                keys = np.concatenate([_category_keys(f[c]) for f in frames])
                uniq = pd.unique(keys)
                self._categories[c] = {str(k): i for i, k in enumerate(uniq)}
        return self

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def transform(self, df: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
        """Embedding of ``df`` restricted to ``columns`` (default: all fitted columns).

        L1 distance between two rows of the result, divided by ``len(columns)``, is the Gower
        distance over those columns.
        """
        cols = list(columns) if columns is not None else self.columns
        blocks: list[np.ndarray] = []
        n = len(df)
        for c in cols:
            kind = self.schema.kind(c)
            if kind.is_numeric:
                v = _numeric_values(df[c])
                rng = self._ranges[c]
                x = (v - self._mins[c]) / rng if rng > 0 else np.zeros(n)
                if self._has_nan[c] or np.isnan(v).any():
                    miss = np.isnan(v)
                    xx = np.where(miss, 0.0, x)
                    blocks.append(
                        np.column_stack(
                            [
                                np.where(miss, 0.0, xx / 2),
                                np.where(miss, 0.0, (1 - xx) / 2),
                                np.where(miss, 0.5, 0.0),
                            ]
                        )
                    )
                else:
                    blocks.append(x[:, None])
            else:
                mapping = self._categories[c]
                keys = _category_keys(df[c])
                codes = pd.Series(keys).map(mapping).to_numpy()
                known = ~pd.isna(codes)
                unseen = pd.unique(keys[~known])
                width = len(mapping) + len(unseen)
                onehot = np.zeros((n, width), dtype=float)
                rows = np.flatnonzero(known)
                onehot[rows, codes[known].astype(int)] = 0.5
                if len(unseen):
                    extra = {k: len(mapping) + i for i, k in enumerate(unseen)}
                    rows_u = np.flatnonzero(~known)
                    onehot[rows_u, [extra[k] for k in keys[~known]]] = 0.5
                blocks.append(onehot)
        if not blocks:
            return np.zeros((n, 0))
        return np.ascontiguousarray(np.hstack(blocks))

    def transform_pair(
        self, query: pd.DataFrame, candidates: pd.DataFrame, columns: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of two frames in the *same* space (unseen categories aligned across both)."""
        both = pd.concat([query, candidates], ignore_index=True)
        emb = self.transform(both, columns)
        return emb[: len(query)], emb[len(query) :]


def nearest_neighbors(
    query: np.ndarray,
    candidates: np.ndarray,
    n_neighbors: int = 1,
    *,
    n_columns: int,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest candidates of each query row under L1 / ``n_columns`` (the Gower distance).

    Returns ``(distances, indices)`` of shape (n_query, k). KD-tree for low dimensions, ball tree for
    more; both exact. Ties are broken by the tree's order (deterministic for the same inputs).
    """
    k = min(n_neighbors, len(candidates))
    if len(query) == 0:
        return np.zeros((0, k)), np.zeros((0, k), dtype=np.int64)
    dims = candidates.shape[1]
    if dims == 0:
        return np.zeros((len(query), k)), np.tile(np.arange(k), (len(query), 1))
    if len(query) * len(candidates) <= 4_000_000:
        algorithm = "brute"
    elif dims <= 24:
        algorithm = "kd_tree"
    else:
        algorithm = "ball_tree"
    nn = NearestNeighbors(n_neighbors=k, algorithm=algorithm, metric="manhattan", n_jobs=n_jobs)
    nn.fit(candidates)
    dist, idx = nn.kneighbors(query, return_distance=True)
    return dist / max(n_columns, 1), idx.astype(np.int64)


def gower_matrix(a: pd.DataFrame, b: pd.DataFrame, schema: Schema) -> np.ndarray:
    """Full Gower distance matrix between two small frames (for tests and small diagnostics)."""
    enc = MixedEncoder(schema).fit([a, b])
    ea, eb = enc.transform_pair(a, b)
    return np.abs(ea[:, None, :] - eb[None, :, :]).sum(axis=2) / max(enc.n_columns, 1)
