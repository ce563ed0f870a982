"""Compiled kernel of :func:`synth_audit.encoding.nearest_gower` (numba, imported lazily).

Kept in its own module so that ``import synth_audit`` does not pay for numba, and at module level
so that numba's on-disk cache (``cache=True``) serves later processes without compiling again.
``nogil=True``: the caller runs the kernel in plain Python threads, never in a numba threading
layer (OpenMP is not fork-safe and the workqueue layer is not safe for concurrent callers).

Arrays (all C-contiguous): query group codes ``qg`` (int32, n_q x k), remaining categorical codes
``qcat``/``ccat`` (int32), remaining numeric values ``qnum``/``cnum`` (float64, NaN = missing,
scaled by the column range), pivot values ``qpiv``/``cpiv`` (float64), distinct group combinations
``gkey`` (int32, G x k), group bounds ``gstart`` (int64, G + 1; candidates sorted by group, then
pivot) and ``gnan`` (int64, G: first candidate of each group whose pivot is missing), and
``corig`` (int64): the caller's row of each sorted candidate.

Inverted index (``rpos``, ``rrows``, ``roff``, ``rbase``, ``cgroup``): for the remaining categorical
columns ``rpos`` (kernel columns of ``qcat``) with small value buckets, the sorted candidates of each
value (column r's candidates ``rrows[r * n_c + roff[rbase[r] + v] : ... + v + 1]`` hold value v), and
each candidate's group ``cgroup``. The candidates that share a value with the query in one of those
columns are measured first; every other candidate mismatches all of them, so its distance is at
least ``len(rpos)`` more than the group and pivot bounds of the scan. With a few high-cardinality
columns (tail numbers, flight numbers) that bound prunes what the pivot alone cannot (a pivot term
is at most 1, a mismatch of two such columns is 2).

Ties: distances within :data:`EPS` (in units of columns) of the best count as equal, and among equal
distances the candidate with the lowest caller row wins, so the answer does not depend on the order
in which candidates are visited (the same neighbours whatever the grouping, pivot or threads).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["EPS", "scan", "scan_multi"]

#: Distances (times the number of columns) closer than this are ties.
EPS = 1e-9


def _jit(f):  # type: ignore[no-untyped-def]
    try:
        return numba.njit(nogil=True, cache=True)(f)
    except RuntimeError:  # no writable cache location: compile in memory
        return numba.njit(nogil=True)(f)


@_jit
def rest_distance(qi, ci, s, bound, qcat, ccat, qnum, cnum):
    # Adds the non-group, non-pivot columns to s; stops as soon as s exceeds bound.
    for j in range(qcat.shape[1]):
        if qcat[qi, j] != ccat[ci, j]:
            s += 1.0
            if s > bound:
                return s
    for j in range(qnum.shape[1]):
        x = qnum[qi, j]
        y = cnum[ci, j]
        if np.isnan(x):
            if not np.isnan(y):
                s += 1.0
        elif np.isnan(y):
            s += 1.0
        else:
            s += abs(x - y)
        if s > bound:
            return s
    return s


@_jit
def _better(s, ci, bst, a, corig):
    # Canonical order: a lower distance (by more than EPS), or a tie won by the lower caller row.
    if s < bst - EPS:
        return True
    return s <= bst + EPS and a >= 0 and corig[ci] < corig[a]


@_jit
def exact_distance(qi, ci, bound, qg, gkey, cgroup, qcat, ccat, qnum, cnum, qpiv, cpiv):
    # The whole sum of candidate ci (group, pivot, the rest); stops once it exceeds bound.
    g = cgroup[ci]
    s = 0.0
    for j in range(qg.shape[1]):
        if qg[qi, j] != gkey[g, j]:
            s += 1.0
    x = qpiv[qi]
    y = cpiv[ci]
    if np.isnan(x):
        if not np.isnan(y):
            s += 1.0
    elif np.isnan(y):
        s += 1.0
    else:
        s += abs(x - y)
    if s > bound:
        return s
    return rest_distance(qi, ci, s, bound, qcat, ccat, qnum, cnum)


@_jit
def _bucket(qi, r, qcat, rpos, roff, rbase):
    # Bounds [lo, hi) of the query's value in indexed column r (empty when the value is unknown).
    v = qcat[qi, rpos[r]]
    if v < 0 or rbase[r] + v + 1 >= rbase[r + 1]:
        return 0, 0
    return roff[rbase[r] + v], roff[rbase[r] + v + 1]


@_jit
def scan(
    q_lo,
    q_hi,
    qg,
    qcat,
    qnum,
    qpiv,
    gkey,
    gstart,
    gnan,
    ccat,
    cnum,
    cpiv,
    corig,
    rpos,
    rrows,
    roff,
    rbase,
    cgroup,
    best,
    arg,
):
    n_groups, k = gkey.shape
    n_c = ccat.shape[0]
    n_r = rpos.shape[0]
    r_off = float(n_r)  # every candidate left for the scan mismatches all indexed columns
    ham = np.empty(n_groups, np.int64)
    order = np.empty(n_groups, np.int64)
    level = np.zeros(k + 2, np.int64)
    fill = np.zeros(k + 2, np.int64)
    prev = -1
    for qi in range(q_lo, q_hi):
        same = prev >= 0
        if same:
            for j in range(k):
                if qg[qi, j] != qg[prev, j]:
                    same = False
                    break
        if not same:
            # Groups ordered by their number of mismatching group columns (counting sort).
            level[:] = 0
            for g in range(n_groups):
                h = 0
                for j in range(k):
                    if qg[qi, j] != gkey[g, j]:
                        h += 1
                ham[g] = h
                level[h + 1] += 1
            for m in range(k + 1):
                level[m + 1] += level[m]
            fill[:] = level
            for g in range(n_groups):
                order[fill[ham[g]]] = g
                fill[ham[g]] += 1
        prev = qi
        bst = np.inf
        a = -1
        for r in range(n_r):  # the candidates sharing an indexed value, measured whole
            b_lo, b_hi = _bucket(qi, r, qcat, rpos, roff, rbase)
            for b in range(b_lo, b_hi):
                ci = rrows[r * n_c + b]
                s = exact_distance(
                    qi, ci, bst + EPS, qg, gkey, cgroup, qcat, ccat, qnum, cnum, qpiv, cpiv
                )
                if _better(s, ci, bst, a, corig):
                    bst = min(bst, s)
                    a = ci
        p = qpiv[qi]
        for m in range(k + 1):
            if m + r_off > bst + EPS:
                break  # no group with m mismatches can beat (or tie) the best so far
            for t in range(level[m], level[m + 1]):
                g = order[t]
                lo = gstart[g]
                mid = gnan[g]  # candidates [lo, mid) have a pivot value, [mid, hi) not
                hi = gstart[g + 1]
                if np.isnan(p):
                    first_lo, first_hi, first_base = mid, hi, float(m)
                    other_lo, other_hi, other_base = lo, mid, m + 1.0
                else:
                    first_lo, first_hi, first_base = mid, mid, float(m)
                    other_lo, other_hi, other_base = mid, hi, m + 1.0
                    # Outward from the query's pivot value: |pivot difference| bounds
                    # the distance from below, so each side stops at the first miss.
                    r = lo + np.searchsorted(cpiv[lo:mid], p)
                    left = r - 1
                    while True:
                        dl = p - cpiv[left] if left >= lo else np.inf
                        dr = cpiv[r] - p if r < mid else np.inf
                        if dl == np.inf and dr == np.inf:
                            break
                        if dl <= dr:
                            if m + r_off + dl > bst + EPS:
                                break
                            ci = left
                            base = m + dl
                            left -= 1
                        else:
                            if m + r_off + dr > bst + EPS:
                                break
                            ci = r
                            base = m + dr
                            r += 1
                        s = rest_distance(qi, ci, base, bst + EPS, qcat, ccat, qnum, cnum)
                        if _better(s, ci, bst, a, corig):
                            bst = min(bst, s)
                            a = ci
                for lo_, hi_, base in (
                    (first_lo, first_hi, first_base),
                    (other_lo, other_hi, other_base),
                ):
                    if base + r_off > bst + EPS:
                        continue
                    for ci in range(lo_, hi_):
                        s = rest_distance(qi, ci, base, bst + EPS, qcat, ccat, qnum, cnum)
                        if _better(s, ci, bst, a, corig):
                            bst = min(bst, s)
                            a = ci
        best[qi] = bst
        arg[qi] = a


@_jit
def _terms(qi, ci, g, qg, gkey, qcat, ccat, qnum, cnum, qpiv, cpiv, has_piv, out):
    # Every column's term of the Gower sum, in the order group, remaining categorical, pivot,
    # remaining numeric; returns their sum.
    t = 0
    total = 0.0
    for j in range(qg.shape[1]):
        v = 1.0 if qg[qi, j] != gkey[g, j] else 0.0
        out[t] = v
        total += v
        t += 1
    for j in range(qcat.shape[1]):
        v = 1.0 if qcat[qi, j] != ccat[ci, j] else 0.0
        out[t] = v
        total += v
        t += 1
    if has_piv:
        x = qpiv[qi]
        y = cpiv[ci]
        if np.isnan(x):
            v = 0.0 if np.isnan(y) else 1.0
        elif np.isnan(y):
            v = 1.0
        else:
            v = abs(x - y)
        out[t] = v
        total += v
        t += 1
    for j in range(qnum.shape[1]):
        x = qnum[qi, j]
        y = cnum[ci, j]
        if np.isnan(x):
            v = 0.0 if np.isnan(y) else 1.0
        elif np.isnan(y):
            v = 1.0
        else:
            v = abs(x - y)
        out[t] = v
        total += v
        t += 1
    return total


@_jit
def rest_lower(qi, ci, s, mx, bound, qcat, ccat, qnum, cnum):
    # Adds the remaining columns to the sum s, tracking the largest term mx, and stops as soon as
    # s - mx (a lower bound of the sum without any one of the columns seen) exceeds bound.
    for j in range(qcat.shape[1]):
        if qcat[qi, j] != ccat[ci, j]:
            s += 1.0
            mx = 1.0
            if s - mx > bound:
                return s - mx
    for j in range(qnum.shape[1]):
        x = qnum[qi, j]
        y = cnum[ci, j]
        if np.isnan(x):
            v = 0.0 if np.isnan(y) else 1.0
        elif np.isnan(y):
            v = 1.0
        else:
            v = abs(x - y)
        s += v
        if v > mx:
            mx = v
        if s - mx > bound:
            return s - mx
    return s - mx


@_jit
def scan_multi(
    q_lo,
    q_hi,
    qg,
    qcat,
    qnum,
    qpiv,
    gkey,
    gstart,
    gnan,
    ccat,
    cnum,
    cpiv,
    corig,
    rpos,
    rrows,
    roff,
    rbase,
    cgroup,
    has_piv,
    piv_t,
    best,
    arg,
):
    """For every column j but the pivot at once: the nearest candidate on all columns but j
    (``best[:, j]``, ``arg[:, j]``), columns numbered group, remaining categorical, pivot,
    remaining numeric (the pivot's own column, ``piv_t``, is left to :func:`scan`).

    A candidate's sum without column j is at least its sum over the columns seen so far minus
    the largest of their terms, so the scan of :func:`scan` runs with that lower bound against the
    largest best so far, and each candidate that passes updates every column's best.
    """
    n_groups, k = gkey.shape
    n_cols = best.shape[1]
    n_c = ccat.shape[0]
    n_r = rpos.shape[0]
    ham = np.empty(n_groups, np.int64)
    order = np.empty(n_groups, np.int64)
    level = np.zeros(k + 2, np.int64)
    fill = np.zeros(k + 2, np.int64)
    terms = np.empty(n_cols)
    prev = -1
    for qi in range(q_lo, q_hi):
        same = prev >= 0
        if same:
            for j in range(k):
                if qg[qi, j] != qg[prev, j]:
                    same = False
                    break
        if not same:
            level[:] = 0
            for g in range(n_groups):
                h = 0
                for j in range(k):
                    if qg[qi, j] != gkey[g, j]:
                        h += 1
                ham[g] = h
                level[h + 1] += 1
            for m in range(k + 1):
                level[m + 1] += level[m]
            fill[:] = level
            for g in range(n_groups):
                order[fill[ham[g]]] = g
                fill[ham[g]] += 1
        prev = qi
        for j in range(n_cols):
            best[qi, j] = np.inf
            arg[qi, j] = -1
        bound = np.inf  # largest best of the columns handled here, + EPS
        for r in range(n_r):  # the candidates sharing an indexed value, measured whole
            b_lo, b_hi = _bucket(qi, r, qcat, rpos, roff, rbase)
            for b in range(b_lo, b_hi):
                ci = rrows[r * n_c + b]
                bound = _update(
                    qi,
                    ci,
                    cgroup[ci],
                    qg,
                    gkey,
                    qcat,
                    ccat,
                    qnum,
                    cnum,
                    qpiv,
                    cpiv,
                    has_piv,
                    piv_t,
                    terms,
                    corig,
                    best,
                    arg,
                )
        p = qpiv[qi]
        for m in range(k + 1):
            mx0 = 1.0 if m > 0 else 0.0  # a mismatching group column is a term of 1
            # Candidates left for the scan also mismatch every indexed column (terms of 1).
            ones = m + n_r
            low = ones - (1.0 if ones > 0 else 0.0)
            if low > bound:
                break
            for t in range(level[m], level[m + 1]):
                g = order[t]
                lo = gstart[g]
                mid = gnan[g]
                hi = gstart[g + 1]
                if np.isnan(p):
                    first_lo, first_hi, first_base = mid, hi, float(m)
                    other_lo, other_hi, other_base = lo, mid, m + 1.0
                else:
                    first_lo, first_hi, first_base = mid, mid, float(m)
                    other_lo, other_hi, other_base = mid, hi, m + 1.0
                    r = lo + np.searchsorted(cpiv[lo:mid], p)
                    left = r - 1
                    while True:
                        dl = p - cpiv[left] if left >= lo else np.inf
                        dr = cpiv[r] - p if r < mid else np.inf
                        if dl == np.inf and dr == np.inf:
                            break
                        if dl <= dr:
                            if low + dl > bound:
                                break
                            ci = left
                            base = m + dl
                            left -= 1
                        else:
                            if low + dr > bound:
                                break
                            ci = r
                            base = m + dr
                            r += 1
                        lb = rest_lower(qi, ci, base, mx0, bound, qcat, ccat, qnum, cnum)
                        if lb <= bound:
                            bound = _update(
                                qi,
                                ci,
                                g,
                                qg,
                                gkey,
                                qcat,
                                ccat,
                                qnum,
                                cnum,
                                qpiv,
                                cpiv,
                                has_piv,
                                piv_t,
                                terms,
                                corig,
                                best,
                                arg,
                            )
                for lo_, hi_, base in (
                    (first_lo, first_hi, first_base),
                    (other_lo, other_hi, other_base),
                ):
                    if low + (base - m) > bound:  # base - m: the pivot's term here
                        continue
                    for ci in range(lo_, hi_):
                        lb = rest_lower(qi, ci, base, mx0, bound, qcat, ccat, qnum, cnum)
                        if lb <= bound:
                            bound = _update(
                                qi,
                                ci,
                                g,
                                qg,
                                gkey,
                                qcat,
                                ccat,
                                qnum,
                                cnum,
                                qpiv,
                                cpiv,
                                has_piv,
                                piv_t,
                                terms,
                                corig,
                                best,
                                arg,
                            )


@_jit
def _update(
    qi, ci, g, qg, gkey, qcat, ccat, qnum, cnum, qpiv, cpiv, has_piv, piv_t, terms, corig, best, arg
):
    # Candidate ci updates every column's best (the pivot's aside); returns the new bound.
    total = _terms(qi, ci, g, qg, gkey, qcat, ccat, qnum, cnum, qpiv, cpiv, has_piv, terms)
    worst = 0.0
    for j in range(best.shape[1]):
        if j == piv_t:
            continue
        s = total - terms[j]
        if _better(s, ci, best[qi, j], arg[qi, j], corig):
            if s < best[qi, j]:
                best[qi, j] = s
            arg[qi, j] = ci
        if best[qi, j] > worst:
            worst = best[qi, j]
    return worst + EPS
