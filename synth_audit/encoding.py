"""One mixed-type encoding and one Gower-like distance, written once.

Distance between two records over columns C (Gower 1971, as used by anonymeter)::

    d(a, b) = (1/|C|) · Σ_c d_c(a_c, b_c)
    numeric / datetime   d_c = |a - b| / range_c      range over every frame the encoder was fitted on
    categorical/boolean  d_c = 0 if equal else 1
    missing values       d_c = 0 if both are missing, 1 if exactly one is (the maximum)

(anonymeter counts two missing values as distance 1 and leaves one-sided NaNs undefined; here
missing == missing, as for any other category.)

The distance is exactly an L1 distance in an embedding, which lets exact k-nearest-neighbour search
run on a KD-tree (:func:`nearest_neighbors`; the embedding is one-hot, so it suits columns with few
categories). :func:`nearest_gower` (1-NN on frames) compares categories as integer codes instead and
has no such limit. The embedding:

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

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synth_audit.partition import partitioned
from synth_audit.schema import ColumnKind, Schema

__all__ = [
    "MixedEncoder",
    "distinct_rows",
    "embedding_width",
    "gower_matrix",
    "knn_gower",
    "nearest_gower",
    "nearest_gower_multi",
    "nearest_neighbors",
]


def _numeric_values(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.astype("int64").to_numpy(dtype=float) / 1e9
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


_MISSING_KEY = "\x00<missing>"


def _category_keys(s: pd.Series) -> np.ndarray:
    """Object array of str keys; missing becomes a sentinel that cannot collide with data."""
    return s.astype(object).where(s.notna(), _MISSING_KEY).astype(str).to_numpy()


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
    algorithm: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest candidates of each query row under L1 / ``n_columns`` (the Gower distance).

    Returns ``(distances, indices)`` of shape (n_query, k). Brute force for small searches, else a
    KD-tree for low dimensions and a ball tree for more (``algorithm`` forces one); all exact. Ties
    are broken by the algorithm's order (deterministic for the same inputs). Split over query rows
    inside :func:`synth_audit.partition.partition_queries`.
    """
    k = min(n_neighbors, len(candidates))
    if len(query) == 0:
        return np.zeros((0, k)), np.zeros((0, k), dtype=np.int64)
    dims = candidates.shape[1]
    if dims == 0:
        return np.zeros((len(query), k)), np.tile(np.arange(k), (len(query), 1))
    if algorithm is None:
        if len(query) * len(candidates) <= 4_000_000:
            algorithm = "brute"
        elif dims <= 24:
            algorithm = "kd_tree"
        else:
            algorithm = "ball_tree"
    # The algorithm is chosen for the whole search, so that every slice breaks ties alike.
    split = partitioned(
        nearest_neighbors, query, candidates, n_neighbors, n_columns=n_columns, algorithm=algorithm
    )
    if split is not None:
        return split  # type: ignore[no-any-return]
    if algorithm == "brute":
        dist, idx = _brute_l1(query, candidates, k)
    else:
        nn = NearestNeighbors(n_neighbors=k, algorithm=algorithm, metric="manhattan", n_jobs=n_jobs)
        nn.fit(candidates)
        dist, idx = nn.kneighbors(query, return_distance=True)
    return dist / max(n_columns, 1), idx.astype(np.int64)


def _brute_l1(
    query: np.ndarray, candidates: np.ndarray, k: int, block_cells: int = 1 << 22
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest candidates under L1 by brute force, in blocks of query rows; among equal
    distances the lowest candidate row comes first, whichever other queries are searched with it
    (scikit-learn's brute force breaks ties by its chunking, which depends on the number of
    queries)."""
    from sklearn.metrics.pairwise import manhattan_distances

    step = max(1, block_cells // max(len(candidates), 1))
    dist = np.empty((len(query), k))
    idx = np.empty((len(query), k), dtype=np.int64)
    for lo in range(0, len(query), step):
        d = manhattan_distances(query[lo : lo + step], candidates)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        idx[lo : lo + step] = order
        dist[lo : lo + step] = np.take_along_axis(d, order, axis=1)
    return dist, idx


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
    """Integer codes of one column in both frames: equal codes iff equal category keys."""
    qs, cs = query[col], cand[col]
    fast = True
    parts = []
    for ser in (qs, cs):
        # Factorise the values first and turn only the distinct ones into keys. Exact when hash
        # equality is string equality: integers, booleans, or objects that are all str (1 == 1.0
        # == True would merge keys "1", "1.0" and "True"; floats merge 0.0 and -0.0).
        codes, uniques = pd.factorize(ser, use_na_sentinel=True)
        uniq = np.asarray(uniques, dtype=object)
        if ser.dtype.kind not in "iub" and not all(isinstance(u, str) for u in uniq):
            fast = False
            break
        keys = np.append(_category_keys(pd.Series(uniq, dtype=object)), _MISSING_KEY)
        parts.append(keys[codes])  # code -1 (missing) picks the sentinel at the end
    if not fast:
        parts = [_category_keys(qs), _category_keys(cs)]
    joint, _ = pd.factorize(np.concatenate(parts))
    return joint[: len(query)], joint[len(query) :]


# Normalised numeric values are clipped to this magnitude so that +-inf compares equal to itself and
# far from everything else instead of producing inf - inf = NaN inside the search.
_CLIP = 1e6


def _unique_rows(cat: np.ndarray, num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: first row of each distinct (codes, values) row, and each row's class.

    NaN equals NaN here (missing == missing, as in the distance). Classes are numbered by first
    occurrence, so ``first`` is increasing and a class is represented by its lowest row. Hash-based
    (one factorisation per column), linear in rows x columns.
    """
    n = len(cat)
    key = np.zeros(n, dtype=np.int64)
    n_keys = 1
    for block in (cat, num):
        for j in range(block.shape[1]):
            codes, uniques = pd.factorize(block[:, j], use_na_sentinel=False)
            key, kept = pd.factorize(key * len(uniques) + codes)
            n_keys = len(kept)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.full(n_keys, n, dtype=np.int64)
    np.minimum.at(first, key, np.arange(n))
    return first, key.astype(np.int64)


def _group_columns(codes: np.ndarray, max_groups: int) -> list[int]:
    """Categorical columns (indices into ``codes``) whose value combinations group the candidates.

    Columns are taken by increasing number of distinct values while the candidates form at most
    ``max_groups`` distinct combinations; high-cardinality columns stay out (they are compared
    row by row) so they never multiply the number of groups.
    """
    if codes.shape[1] == 0 or max_groups < 1:
        return []
    card = [len(np.unique(codes[:, j])) for j in range(codes.shape[1])]
    chosen: list[int] = []
    key = np.zeros(len(codes), dtype=np.int64)
    radix = 1
    for j in sorted(range(codes.shape[1]), key=lambda j: card[j]):
        width = int(codes[:, j].max(initial=0)) + 1
        if radix * width > 2**62:
            break
        trial = key * width + codes[:, j]
        if len(np.unique(trial)) > max_groups:
            break
        chosen.append(j)
        key, radix = trial, radix * width
    return chosen


def _gower_codes(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    cat_cols: Sequence[str],
    num_cols: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Both frames stacked (query rows first) as integer category codes and scaled numbers.

    Equal codes iff equal category keys; numbers scaled by the encoder's ranges, NaN kept. Gower
    distance times the number of columns is then ``sum(codes differ) + sum(numeric terms)`` with
    the numeric term ``|x - y|`` when both are present, 1 when one is missing, 0 when both are.
    """
    nq, nc = len(query), len(candidates)
    cat = np.empty((nq + nc, len(cat_cols)), dtype=np.int32)
    for j, c in enumerate(cat_cols):
        qc, cc = _factorize_pair(query, candidates, c)
        cat[:nq, j], cat[nq:, j] = qc, cc
    num = np.empty((nq + nc, len(num_cols)))
    for j, c in enumerate(num_cols):
        v = np.concatenate([_numeric_values(query[c]), _numeric_values(candidates[c])])
        rng = encoder._ranges[c]
        x = (v - encoder._mins[c]) / rng if rng > 0 else np.where(np.isnan(v), np.nan, 0.0)
        num[:, j] = np.clip(x, -_CLIP, _CLIP)  # NaN stays NaN
    return cat, num


def embedding_width(encoder: MixedEncoder, columns: Sequence[str]) -> int:
    """Number of coordinates :meth:`MixedEncoder.transform` gives for ``columns`` (known values)."""
    width = 0
    for c in columns:
        if encoder.schema.kind(c).is_numeric:
            width += 3 if encoder._has_nan.get(c, False) else 1
        else:
            width += len(encoder._categories.get(c, {}))
    return width


def distinct_rows(
    df: pd.DataFrame, encoder: MixedEncoder, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of ``df`` on ``columns`` (Gower distance 0 apart),
    without building the embedding (so a column with 10,000 categories costs one integer column)."""
    cols = list(columns)
    cat_cols = [c for c in cols if not encoder.schema.kind(c).is_numeric]
    num_cols = [c for c in cols if encoder.schema.kind(c).is_numeric]
    cat, num = _gower_codes(df.iloc[:0], df, encoder, cat_cols, num_cols)
    return _unique_rows(cat, num)


def knn_gower(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    columns: Sequence[str],
    n_neighbors: int,
    *,
    n_jobs: int | None = None,
    block_cells: int = 1 << 22,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest candidates (Gower over ``columns``): ``(distances, indices)``, (n_query, k).

    One neighbour is :func:`nearest_gower`. More are found by a brute force over integer codes in
    blocks of at most ``block_cells`` query x candidate cells (32 MiB of distances), so memory stays
    bounded and no one-hot embedding is built: the path for columns with many categories, where
    the embedding would be as wide as the number of categories. Neighbours are ordered by distance;
    ties are broken deterministically (same inputs, same neighbours).
    """
    cols = list(columns)
    k = min(int(n_neighbors), len(candidates))
    nq = len(query)
    if nq == 0 or k == 0:
        return np.zeros((nq, k)), np.zeros((nq, k), dtype=np.int64)
    if k == 1:
        d, i = nearest_gower(query, candidates, encoder, cols, n_jobs=n_jobs)
        return d[:, None], i[:, None]
    split = partitioned(
        knn_gower, query, candidates, encoder, cols, n_neighbors, block_cells=block_cells
    )
    if split is not None:
        return split  # type: ignore[no-any-return]
    cat_cols = [c for c in cols if not encoder.schema.kind(c).is_numeric]
    num_cols = [c for c in cols if encoder.schema.kind(c).is_numeric]
    cat, num = _gower_codes(query, candidates, encoder, cat_cols, num_cols)
    qcat, ccat, qnum, cnum = cat[:nq], cat[nq:], num[:nq], num[nq:]
    nc = len(candidates)
    step = max(1, block_cells // max(nc, 1))
    dist_out = np.empty((nq, k))
    idx_out = np.empty((nq, k), dtype=np.int64)
    cand_pos = np.arange(nc)
    for lo in range(0, nq, step):
        hi = min(nq, lo + step)
        d = np.zeros((hi - lo, nc))
        for j in range(ccat.shape[1]):
            d += qcat[lo:hi, j, None] != ccat[None, :, j]
        for j in range(cnum.shape[1]):
            a, b = qnum[lo:hi, j, None], cnum[None, :, j]
            term = np.abs(a - b)
            miss_a, miss_b = np.isnan(a), np.isnan(b)
            term = np.where(miss_a | miss_b, np.where(miss_a & miss_b, 0.0, 1.0), term)
            d += term
        part = (
            np.argpartition(d, k - 1, axis=1)[:, :k] if k < nc else np.tile(cand_pos, (hi - lo, 1))
        )
        pd_ = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, pd_), axis=1)
        idx_out[lo:hi] = np.take_along_axis(part, order, axis=1)
        dist_out[lo:hi] = np.take_along_axis(pd_, order, axis=1)
    return dist_out / max(len(cols), 1), idx_out


def _pair_sums(
    cat: np.ndarray, num: np.ndarray, qrows: np.ndarray, crows: np.ndarray, skip: int = -1
) -> np.ndarray:
    """Gower sums (distance x columns) of the pairs ``(qrows[i], crows[i])`` of stacked codes, in
    one fixed order (categorical columns, then numeric ones), leaving out column ``skip`` (an
    index into the categorical columns followed by the numeric ones). Every search reports its
    distances through this, so two searches that pick the same neighbour report the same bits."""
    total = np.zeros(len(qrows))
    n_cat = cat.shape[1]
    for j in range(n_cat):
        if j != skip:
            total += cat[qrows, j] != cat[crows, j]
    for j in range(num.shape[1]):
        if n_cat + j == skip:
            continue
        a, b = num[qrows, j], num[crows, j]
        miss_a, miss_b = np.isnan(a), np.isnan(b)
        total += np.where(miss_a | miss_b, np.where(miss_a & miss_b, 0.0, 1.0), np.abs(a - b))
    return total


@dataclass
class _Plan:
    """Stacked codes of one search and the sorted, de-duplicated arrays the kernels read."""

    nq: int
    cat: np.ndarray
    num: np.ndarray
    q_inv: np.ndarray
    q_order: np.ndarray
    c_map: np.ndarray  # caller row of each sorted unique candidate
    internal: list[int]  # kernel column t -> index into (categorical, numeric) columns
    has_pivot: bool
    pivot_t: int  # kernel column of the pivot, -1 without one
    args: tuple[np.ndarray, ...]
    #: the inverted index of high-cardinality columns (``rpos, rrows, roff, rbase, cgroup``)
    rargs: tuple[np.ndarray, ...]

    @property
    def n_unique(self) -> int:
        return len(self.q_order)


def _plan(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    cat_cols: list[str],
    num_cols: list[str],
    max_groups: int,
) -> _Plan:
    nq = len(query)
    cat, num = _gower_codes(query, candidates, encoder, cat_cols, num_cols)

    # Identical rows are searched once.
    q_first, q_inv = _unique_rows(cat[:nq], num[:nq])
    c_first, c_inv = _unique_rows(cat[nq:], num[nq:])
    del c_inv
    qcat_all, qnum_all = cat[:nq][q_first], num[:nq][q_first]
    ccat_all, cnum_all = cat[nq:][c_first], num[nq:][c_first]
    n_cu = len(c_first)

    # Group columns, remaining categorical columns (most often mismatching first), pivot column.
    limit = max(1, min(max_groups, n_cu // 4))
    gcols = _group_columns(ccat_all, limit)
    rcols = [j for j in range(len(cat_cols)) if j not in gcols]

    def mismatch(j: int) -> float:
        _, counts = np.unique(ccat_all[:, j], return_counts=True)
        share = counts / counts.sum()
        return float(1.0 - (share**2).sum())

    rcols.sort(key=mismatch, reverse=True)

    def spread(j: int) -> float:
        # How far apart the pivot sorts candidates: the mean deviation among present values. A
        # query whose pivot is missing scans its group's missing candidates without bound, so
        # a mostly missing column makes a poor pivot: weighted by the share present, squared.
        x = cnum_all[:, j]
        present = x[~np.isnan(x)]
        share = len(present) / max(len(x), 1)
        dev = float(np.abs(present - np.median(present)).mean()) if present.size else 0.0
        return dev * share * share

    ncols_sorted = sorted(range(len(num_cols)), key=spread, reverse=True)
    if ncols_sorted:
        pivot, nrest = ncols_sorted[0], ncols_sorted[1:]
        cpiv_all, qpiv_all = cnum_all[:, pivot], qnum_all[:, pivot]
        piv_internal = [len(cat_cols) + pivot]
    else:
        nrest = []
        cpiv_all, qpiv_all = np.zeros(n_cu), np.zeros(len(q_first))
        piv_internal = []

    # Candidates sorted by group, then pivot (missing pivot values last in their group).
    gcodes = ccat_all[:, gcols]
    g_first, g_of = _unique_rows(gcodes, np.zeros((n_cu, 0)))
    gkey = gcodes[g_first]
    piv_missing = np.isnan(cpiv_all)
    c_order = np.lexsort((np.where(piv_missing, 0.0, cpiv_all), piv_missing, g_of))
    g_sorted = g_of[c_order]
    gstart = np.searchsorted(g_sorted, np.arange(len(gkey) + 1)).astype(np.int64)
    gnan = (gstart[:-1] + np.add.reduceat(~piv_missing[c_order], gstart[:-1])).astype(np.int64)
    empty = gstart[:-1] == gstart[1:]
    gnan[empty] = gstart[:-1][empty]

    # Queries sorted by their group-column values, so consecutive queries share group orders.
    qg = np.ascontiguousarray(qcat_all[:, gcols])
    q_order = np.lexsort(qg.T[::-1]) if gcols else np.arange(len(q_first))
    c_map = np.ascontiguousarray(c_first[c_order]).astype(np.int64)
    args = (
        np.ascontiguousarray(qg[q_order]),
        np.ascontiguousarray(qcat_all[q_order][:, rcols]),
        np.ascontiguousarray(qnum_all[q_order][:, nrest]),
        np.ascontiguousarray(qpiv_all[q_order]),
        np.ascontiguousarray(gkey.astype(np.int32)),
        gstart,
        gnan,
        np.ascontiguousarray(ccat_all[c_order][:, rcols]),
        np.ascontiguousarray(cnum_all[c_order][:, nrest]),
        np.ascontiguousarray(cpiv_all[c_order]),
        c_map,  # ties go to the lowest caller row
    )
    internal = [*gcols, *rcols, *piv_internal, *[len(cat_cols) + j for j in nrest]]
    k_piv = len(gcols) + len(rcols)
    pivot_t = k_piv if piv_internal else -1
    rargs = _value_index(args[1], args[7], gstart)
    return _Plan(
        nq, cat, num, q_inv, q_order, c_map, internal, bool(piv_internal), pivot_t, args, rargs
    )


#: A remaining categorical column is indexed by value when a query's bucket (the candidates with
#: its value) holds on average at most this share of the candidates.
INDEX_BUCKET_SHARE = 1 / 64
#: ... and when there are at least this many distinct candidates (below, a scan is as cheap).
INDEX_MIN_CANDIDATES = 256


def _value_index(qcat: np.ndarray, ccat: np.ndarray, gstart: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kernels' inverted index (see :mod:`synth_audit._gower_kernel`): the remaining
    categorical columns whose value buckets are small for the queries, each candidate's rows by
    value, and each sorted candidate's group."""
    n_c = len(ccat)
    pos: list[int] = []
    rows: list[np.ndarray] = []
    offs: list[np.ndarray] = []
    if n_c >= INDEX_MIN_CANDIDATES and len(qcat):
        for t in range(ccat.shape[1]):
            n_codes = int(max(ccat[:, t].max(initial=-1), qcat[:, t].max(initial=-1))) + 1
            counts = np.bincount(ccat[:, t], minlength=n_codes)
            if counts[qcat[:, t]].mean() > INDEX_BUCKET_SHARE * n_c:
                continue
            order = np.argsort(ccat[:, t], kind="stable")
            pos.append(t)
            rows.append(order.astype(np.int64))
            offs.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
    rbase = np.concatenate([[0], np.cumsum([len(o) for o in offs])]).astype(np.int64)
    cgroup = np.repeat(np.arange(len(gstart) - 1, dtype=np.int64), np.diff(gstart))
    return (
        np.asarray(pos, dtype=np.int64),
        np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
        np.concatenate(offs) if offs else np.zeros(0, dtype=np.int64),
        rbase,
        cgroup,
    )


def _run_chunks(n_uq: int, n_jobs: int | None, run: Callable[[int, int], None]) -> None:
    """``run(lo, hi)`` over slices of the sorted unique queries, in threads (the kernels release
    the GIL and write disjoint slices)."""
    workers = _default_threads() if n_jobs is None or n_jobs < 0 else max(1, n_jobs)
    n_chunks = 1 if workers == 1 or n_uq < 256 else min(8 * workers, n_uq // 32)
    bounds = [int(b) for b in np.linspace(0, n_uq, n_chunks + 1)]
    spans = [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
    if n_chunks == 1:
        run(0, n_uq)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda span: run(*span), spans))


def nearest_gower(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    columns: Sequence[str],
    *,
    max_groups: int = 4096,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest candidate (Gower over ``columns``) of every query row: ``(distances, indices)``.

    Gower distance times the number of columns is ``L1(numeric part) + (number of categorical
    mismatches)``. Each column is coded once (categories as integers, numbers scaled by the
    encoder's ranges); identical rows are searched once. Candidates are grouped by their
    combination of low-cardinality categorical values (at most ``max_groups`` groups, and at most
    a quarter of the distinct candidates); inside a group they are sorted by one numeric "pivot"
    column. For each query, groups are visited by increasing number m of mismatching group columns
    and a group is skipped once m exceeds the best distance found; inside a group the scan walks
    outward from the query's pivot value and stops where the pivot difference alone exceeds the
    best distance; a candidate's remaining columns are added until the sum exceeds it. Every skip
    uses a lower bound, so the result is exact: the same distances as a brute-force search.

    Ties are canonical: distances (times the number of columns) within 1e-9 of each other are
    equal, and among equal distances the lowest candidate row wins, so the neighbour does not
    depend on the search order, on ``n_jobs``, or on :func:`nearest_gower_multi` serving the
    search instead. (Purely numeric columns go to a KD-tree, whose ties are its own.) Compiled
    with numba; queries are split over ``n_jobs`` threads (default: the cores, or
    ``OMP_NUM_THREADS`` when a worker set it).
    """
    cols = list(columns)
    n_cols = max(len(cols), 1)
    if len(query) == 0 or len(candidates) == 0:
        return np.zeros(len(query)), np.zeros(len(query), dtype=np.int64)
    split = partitioned(nearest_gower, query, candidates, encoder, cols, max_groups=max_groups)
    if split is not None:
        return split  # type: ignore[no-any-return]
    cat_cols = [c for c in cols if not encoder.schema.kind(c).is_numeric]
    num_cols = [c for c in cols if encoder.schema.kind(c).is_numeric]
    if not cat_cols:
        # Purely numeric: a KD-tree on at most 3 coordinates per column is exact and sub-linear.
        eq, ec = encoder.transform_pair(query, candidates, cols)
        d, i = nearest_neighbors(eq, ec, 1, n_columns=n_cols, n_jobs=n_jobs)
        return d[:, 0], i[:, 0]

    plan = _plan(query, candidates, encoder, cat_cols, num_cols, max_groups)
    n_uq = plan.n_unique
    best = np.full(n_uq, np.inf)
    arg = np.full(n_uq, -1, dtype=np.int64)
    from synth_audit._gower_kernel import scan

    def run(lo: int, hi: int) -> None:
        scan(lo, hi, *plan.args, *plan.rargs, best, arg)

    _run_chunks(n_uq, n_jobs, run)
    # Back to the caller's rows: sorted unique query -> unique query -> query; same for candidates.
    arg_u = np.empty(n_uq, dtype=np.int64)
    arg_u[plan.q_order] = plan.c_map[arg]
    idx = arg_u[plan.q_inv]
    dist = _pair_sums(plan.cat, plan.num, np.arange(plan.nq), plan.nq + idx)
    return dist / n_cols, idx


def nearest_gower_multi(
    query: pd.DataFrame,
    candidates: pd.DataFrame,
    encoder: MixedEncoder,
    columns: Sequence[str],
    *,
    max_groups: int = 4096,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For every column ``c`` of ``columns`` at once, the nearest candidate of every query row on
    the *other* columns: ``(distances, indices)`` of shape (n_query, n_columns); column ``j`` is
    ``nearest_gower(query, candidates, encoder, [all but columns[j]])``, ties included.

    This is the search behind inference with every column as the secret: one pass instead of one
    per secret. A candidate's sum without column j is at least its sum over any columns minus the
    largest of their terms, so the grouped, pivoted scan of :func:`nearest_gower` runs once with
    that lower bound against the largest best so far, and every candidate that passes updates
    every column's best (with the same canonical ties). The pivot column itself bounds nothing
    when it is left out, so its answer comes from its own :func:`nearest_gower`. When some column's complement is
    purely numeric (fewer than two categorical columns), each column gets its own
    :func:`nearest_gower` instead, so the answers stay those of the per-column search.
    """
    cols = list(columns)
    nq, n = len(query), len(cols)
    if len(candidates):
        split = partitioned(
            nearest_gower_multi, query, candidates, encoder, cols, max_groups=max_groups
        )
        if split is not None:
            return split  # type: ignore[no-any-return]
    cat_cols = [c for c in cols if not encoder.schema.kind(c).is_numeric]
    num_cols = [c for c in cols if encoder.schema.kind(c).is_numeric]
    if nq == 0 or len(candidates) == 0 or n < 2 or len(cat_cols) < 2:
        dist = np.zeros((nq, n))
        idx = np.zeros((nq, n), dtype=np.int64)
        for j, c in enumerate(cols):
            rest = [x for x in cols if x != c]
            if rest:
                dist[:, j], idx[:, j] = nearest_gower(
                    query, candidates, encoder, rest, max_groups=max_groups, n_jobs=n_jobs
                )
        return dist, idx

    plan = _plan(query, candidates, encoder, cat_cols, num_cols, max_groups)
    n_uq = plan.n_unique
    best = np.empty((n_uq, n))
    arg = np.empty((n_uq, n), dtype=np.int64)
    from synth_audit._gower_kernel import scan_multi

    def run(lo: int, hi: int) -> None:
        scan_multi(lo, hi, *plan.args, *plan.rargs, plan.has_pivot, plan.pivot_t, best, arg)

    _run_chunks(n_uq, n_jobs, run)
    split = [*cat_cols, *num_cols]  # the (categorical, numeric) order of the stacked codes
    dist = np.empty((nq, n))
    idx = np.empty((nq, n), dtype=np.int64)
    rows = np.arange(nq)
    for t, j_split in enumerate(plan.internal):
        if t == plan.pivot_t:  # the pivot's column bounds nothing without it: its own search
            j = cols.index(split[j_split])
            rest = cols[:j] + cols[j + 1 :]
            dist[:, j], idx[:, j] = nearest_gower(
                query, candidates, encoder, rest, max_groups=max_groups, n_jobs=n_jobs
            )
            continue
        arg_u = np.empty(n_uq, dtype=np.int64)
        arg_u[plan.q_order] = plan.c_map[arg[:, t]]
        j = cols.index(split[j_split])
        idx[:, j] = arg_u[plan.q_inv]
        sums = _pair_sums(plan.cat, plan.num, rows, nq + idx[:, j], skip=j_split)
        dist[:, j] = sums / (n - 1)
    return dist, idx
