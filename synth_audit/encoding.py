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
  mismatch costs ``1/2 + 1/2 = 1``. A category seen only in the frames being compared (not when the
  encoder was fitted) gets its own extra coordinate in ``transform_pair``, so it is at distance 1
  from every other category and 0 from itself.

A column with a constant value has range 0 and contributes nothing (anonymeter divides by 1 instead,
which is the same since all differences are 0 within the fitted frames).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import KDTree, NearestNeighbors

from synth_audit.schema import ColumnKind, Schema

__all__ = ["MixedEncoder", "gower_matrix", "nearest_gower", "nearest_neighbors"]


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


def _default_threads() -> int:
    """Cores, unless a worker limited threads through OMP_NUM_THREADS (study workers use 1)."""
    try:
        limit = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        limit = 0
    return max(1, limit) if limit > 0 else (os.cpu_count() or 1)


def _factorize_pair(
    query: pd.DataFrame, cand: pd.DataFrame, col: str
) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([_category_keys(query[col]), _category_keys(cand[col])])
    codes, _ = pd.factorize(keys)
    return codes[: len(query)], codes[len(query) :]


def _brute_l1(
    q: np.ndarray, c: np.ndarray, budget: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Exact 1-NN under L1 by chunked broadcasting (small groups)."""
    n, g, d = len(q), len(c), max(q.shape[1], 1)
    dist = np.empty(n)
    idx = np.empty(n, dtype=np.int64)
    step = max(1, budget // (g * d))
    for s in range(0, n, step):
        block = np.abs(q[s : s + step, None, :] - c[None, :, :]).sum(axis=2)
        j = block.argmin(axis=1)
        idx[s : s + step] = j
        dist[s : s + step] = block[np.arange(len(j)), j]
    return dist, idx


def nearest_gower(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    columns: Sequence[str],
    *,
    max_groups: int = 2048,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest candidate (Gower over ``columns``) of every query row: ``(distances, indices)``.

    Gower distance times the number of columns is ``L1(numeric part) + (number of categorical
    mismatches)``. Candidates are grouped by their combination of low-cardinality categorical values;
    for each query the group with the same combination is searched first (a KD-tree on the few
    remaining dimensions), then groups that differ in m categories, but only for queries whose best
    distance so far exceeds m: no group can beat a distance it cannot reach. The result is exact (the
    same distances as a brute-force search; among equal distances any one index may be returned) and
    avoids searching a one-hot space of dozens of dimensions, where trees degrade to brute force.
    """
    cols = list(columns)
    n_cols = max(len(cols), 1)
    if len(query) == 0 or len(candidates) == 0:
        return np.zeros(len(query)), np.zeros(len(query), dtype=np.int64)
    cat_cols = [c for c in cols if encoder.schema.kind(c).is_categorical]
    coded = {c: _factorize_pair(query, candidates, c) for c in cat_cols}
    # Mixed-radix integer keys stand for combinations of categories (np.unique on rows is slow).
    group_cols: list[str] = []
    qkey = np.zeros(len(query), dtype=np.int64)
    ckey = np.zeros(len(candidates), dtype=np.int64)
    radix = 1
    for c in sorted(
        cat_cols, key=lambda c: int(max(coded[c][0].max(initial=0), coded[c][1].max(initial=0)))
    ):
        card = int(max(coded[c][0].max(initial=0), coded[c][1].max(initial=0))) + 1
        if radix * card > 2**62:
            break
        trial_c = ckey * card + coded[c][1]
        if len(np.unique(trial_c)) > max_groups:
            break
        group_cols.append(c)
        qkey, ckey, radix = qkey * card + coded[c][0], trial_c, radix * card
    if not group_cols:
        eq, ec = encoder.transform_pair(query, candidates, cols)
        d, i = nearest_neighbors(eq, ec, 1, n_columns=n_cols, n_jobs=n_jobs)
        return d[:, 0], i[:, 0]

    rest = [c for c in cols if c not in group_cols]
    if rest:
        eq, ec = encoder.transform_pair(query, candidates, rest)
    else:
        eq, ec = np.zeros((len(query), 0)), np.zeros((len(candidates), 0))
    uqk, q_inv = np.unique(qkey, return_inverse=True)
    uck, c_inv = np.unique(ckey, return_inverse=True)
    # Decode each distinct key back into its category codes to count mismatches between combos.
    cards = [
        int(max(coded[c][0].max(initial=0), coded[c][1].max(initial=0))) + 1 for c in group_cols
    ]

    def decode(keys: np.ndarray) -> np.ndarray:
        out = np.empty((len(keys), len(cards)), dtype=np.int64)
        rest_k = keys.copy()
        for i in range(len(cards) - 1, -1, -1):
            out[:, i] = rest_k % cards[i]
            rest_k //= cards[i]
        return out

    hamming = (decode(uqk)[:, None, :] != decode(uck)[None, :, :]).sum(axis=2)
    q_order = np.argsort(q_inv, kind="stable")
    q_bounds = np.searchsorted(q_inv[q_order], np.arange(len(uqk) + 1))
    c_order = np.argsort(c_inv, kind="stable")
    c_bounds = np.searchsorted(c_inv[c_order], np.arange(len(uck) + 1))
    best = np.full(len(query), np.inf)
    arg = np.full(len(query), -1, dtype=np.int64)

    def solve(g: int) -> None:
        # Rows of different query combinations are disjoint, so threads never write the same cell.
        rows_all = q_order[q_bounds[g] : q_bounds[g + 1]]
        h_g = hamming[g]
        for m in range(len(group_cols) + 1):
            rows = rows_all[best[rows_all] > m]
            if rows.size == 0:
                break
            hs = np.flatnonzero(h_g == m)
            if hs.size == 0:
                continue
            if hs.size == 1:
                members = c_order[c_bounds[hs[0]] : c_bounds[hs[0] + 1]]
            else:
                members = np.concatenate([c_order[c_bounds[h] : c_bounds[h + 1]] for h in hs])
            if ec.shape[1] == 0:
                d = np.zeros(rows.size)
                j = np.zeros(rows.size, dtype=np.int64)
            elif members.size * rows.size <= 200_000 or members.size < 64:
                d, j = _brute_l1(eq[rows], ec[members])
            else:
                dd, jj = KDTree(ec[members], metric="manhattan").query(eq[rows], k=1)
                d, j = dd[:, 0], jj[:, 0]
            total = d + m
            better = total < best[rows]
            best[rows[better]] = total[better]
            arg[rows[better]] = members[j[better]]

    workers = _default_threads() if n_jobs is None or n_jobs < 0 else max(1, n_jobs)
    order = np.argsort(-(q_bounds[1:] - q_bounds[:-1]), kind="stable")  # big combos first
    if workers > 1 and len(uqk) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(solve, order.tolist()))
    else:
        for g in order.tolist():
            solve(g)
    return best / n_cols, arg
