"""Compiled kernel of :func:`synth_audit.encoding.nearest_gower` (numba, imported lazily).

Kept in its own module so that ``import synth_audit`` does not pay for numba, and at module level
so that numba's on-disk cache (``cache=True``) serves later processes without compiling again.
``nogil=True``: the caller runs the kernel in plain Python threads, never in a numba threading
layer (OpenMP is not fork-safe and the workqueue layer is not safe for concurrent callers).

Arrays (all C-contiguous): query group codes ``qg`` (int32, n_q x k), remaining categorical codes
``qcat``/``ccat`` (int32), remaining numeric values ``qnum``/``cnum`` (float64, NaN = missing,
scaled by the column range), pivot values ``qpiv``/``cpiv`` (float64), distinct group combinations
``gkey`` (int32, G x k), group bounds ``gstart`` (int64, G + 1; candidates sorted by group, then
pivot) and ``gnan`` (int64, G: first candidate of each group whose pivot is missing).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["scan"]


def _jit(f):  # type: ignore[no-untyped-def]
    try:
        return numba.njit(nogil=True, cache=True)(f)
    except RuntimeError:  # no writable cache location: compile in memory
        return numba.njit(nogil=True)(f)


@_jit
def rest_distance(qi, ci, s, bound, qcat, ccat, qnum, cnum):
    # Adds the non-group, non-pivot columns to s; stops as soon as s reaches bound.
    for j in range(qcat.shape[1]):
        if qcat[qi, j] != ccat[ci, j]:
            s += 1.0
            if s >= bound:
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
        if s >= bound:
            return s
    return s


@_jit
def scan(q_lo, q_hi, qg, qcat, qnum, qpiv, gkey, gstart, gnan, ccat, cnum, cpiv, best, arg):
    n_groups, k = gkey.shape
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
        p = qpiv[qi]
        for m in range(k + 1):
            if m >= bst:
                break  # no group with m mismatches can beat the best so far
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
                        if dl <= dr:
                            if m + dl >= bst:
                                break
                            ci = left
                            base = m + dl
                            left -= 1
                        else:
                            if m + dr >= bst:
                                break
                            ci = r
                            base = m + dr
                            r += 1
                        s = rest_distance(qi, ci, base, bst, qcat, ccat, qnum, cnum)
                        if s < bst:
                            bst = s
                            a = ci
                for lo_, hi_, base in (
                    (first_lo, first_hi, first_base),
                    (other_lo, other_hi, other_base),
                ):
                    if base >= bst:
                        continue
                    for ci in range(lo_, hi_):
                        s = rest_distance(qi, ci, base, bst, qcat, ccat, qnum, cnum)
                        if s < bst:
                            bst = s
                            a = ci
        best[qi] = bst
        arg[qi] = a
