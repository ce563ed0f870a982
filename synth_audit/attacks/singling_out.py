"""Singling out: can an attacker isolate one real person with a predicate learned from the release?

Threat model (anonymeter, after Cohen & Nissim 2020): the attacker reads the release and writes
predicates that match exactly one *synthetic* record, hoping they match exactly one real person too.

* univariate: predicates on one column from rare values (``col == v`` for a value that occurs once,
  ``col <= min``, ``col >= max``, ``col is missing`` when one value is missing);
* multivariate: for a random synthetic record and ``n_cols`` random columns, the conjunction of
  ``col == value`` (categorical) and ``col >= value`` / ``col <= value`` (numeric: the side away from
  the median), kept if it matches exactly one synthetic record.

A predicate *succeeds* when it matches exactly one training record. The control attack evaluates the
same predicates on the control set; the baseline uses random predicates (random columns, values and
operators). Differences from anonymeter, on purpose (README, "Deliberate differences"):

* the success rate is over the predicates actually generated, and that count is reported;
  anonymeter divides by the number requested, which under-reports when generation falls short;
* training and control records are not de-duplicated: a predicate matching two identical people
  does not isolate either of them (anonymeter drops duplicate rows first);
* predicates are structured values evaluated on arrays, never query strings, so column names with
  spaces, quotes, hyphens or non-ASCII characters work.

When control and train differ in size, the control count is corrected with anonymeter's model of how
the number of singling-out predicates grows with the size of the data (fitted on subsamples).

Confidence intervals. Univariate predicates are not independent trials: most come from a few
columns (every value that occurs once in a continuous column is a predicate), and predicates on one
column succeed or fail together. Three corrections, measured on the shipped randhie sample with
train ∪ control re-split at random 200 times and every held-out person as the release (true risk 0;
tests/test_attack_hardening.py), in units of the stated standard error of the residual:

* plain Wilson errors: spread 1.10, the 95 % interval ``residual ± error`` covered 0 in 91 % of splits;
* the attack's and control's errors widened by the cluster design effect over columns
  (:func:`synth_audit.stats.design_effect`): spread 1.06, coverage 91.5 %;
* plus the paired, cluster-robust error of the residual (:func:`synth_audit.stats.paired_residual_error`,
  which keeps the covariance of train and control outcomes of one predicate) as a floor, and
  Student's t with ``G − 1`` degrees of freedom for ``G`` columns instead of z (few clusters make the
  cluster-robust variance itself uncertain): spread 0.86, coverage 96.5 % (the CI shown: 99 %).

The last is what is used: slightly conservative, never too narrow. When the predicates come from
fewer than :data:`MIN_COLUMNS` columns the cluster variance rests on one degree of freedom at most
and the univariate criterion is reported as unmeasurable. Multivariate predicates draw a random
record and random columns each and are treated as independent clusters of one, with the paired
error as a floor.

Dates and datetimes are attacked as numbers (seconds since the epoch) and shown as ISO dates.
"""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit
from scipy.stats import norm
from scipy.stats import t as student_t

from synth_audit.attacks._common import (
    MAX_ATTEMPTS,
    MAX_PREDICATES,
    MIN_ATTACKS,
    assemble,
    check_size,
)
from synth_audit.data import AuditData
from synth_audit.encoding import _numeric_values
from synth_audit.errors import ConfigError
from synth_audit.results import UNMEASURABLE, AttackResult, AuditWarning
from synth_audit.schema import ColumnKind
from synth_audit.stats import design_effect, paired_residual_error

__all__ = ["MIN_COLUMNS", "Predicate", "Query", "singling_out_attack"]

#: Fewest distinct columns univariate predicates must come from for the design effect (and so the
#: CI) to be estimated; below it the univariate criterion is unmeasurable.
MIN_COLUMNS = 3

OWNER = "SinglingOutAttack"
Op = Literal["==", "!=", "<=", ">=", "<", ">", "isnull", "notnull"]
_NUM_OPS: tuple[Op, ...] = ("==", "!=", ">", "<", ">=", "<=")
_CAT_OPS: tuple[Op, ...] = ("==", "!=")


@dataclass(frozen=True)
class Predicate:
    """``column op value``; datetime values are epoch seconds, and ``shown`` is how people read it."""

    column: str
    op: Op
    value: float | str | None = None
    shown: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        name = self.column if self.column.isidentifier() else f"`{self.column}`"
        if self.op == "isnull":
            return f"{name} is missing"
        if self.op == "notnull":
            return f"{name} is not missing"
        if self.shown is not None:
            v = self.shown
        else:
            v = repr(self.value) if isinstance(self.value, str) else f"{self.value:g}"
        return f"{name} {self.op} {v}"


def _show_datetime(seconds: float) -> str:
    return pd.Timestamp(round(seconds * 1e9), tz="UTC").isoformat()


def _num_pred(c: str, op: Op, v: float, datetimes: AbstractSet[str]) -> Predicate:
    return Predicate(c, op, v, _show_datetime(v) if c in datetimes else None)


@dataclass(frozen=True)
class Query:
    predicates: tuple[Predicate, ...]

    def __str__(self) -> str:
        return " AND ".join(str(p) for p in self.predicates)


class _Columns:
    """Column arrays of one frame (floats for numeric columns, int codes with -1 for missing
    otherwise) and sorted indexes, so that the rows matching a predicate are found by binary search.

    A conjunction is evaluated from its most selective predicate: its matching rows are listed from
    the index, and only those rows are tested against the other predicates. The cost is the size of
    the smallest predicate's match set, not the size of the frame.
    """

    def __init__(self, df: pd.DataFrame, numeric: set[str], codes: dict[str, dict[str, int]]):
        self.n = len(df)
        self.codes = codes
        self.num: dict[str, np.ndarray] = {}
        self.cat: dict[str, np.ndarray] = {}
        self._order: dict[str, np.ndarray] = {}
        self._sorted: dict[str, np.ndarray] = {}
        self._nan: dict[str, np.ndarray] = {}
        for c in df.columns:
            if c in numeric:
                x = _numeric_values(df[c])
                self.num[c] = x
                ok = np.flatnonzero(~np.isnan(x))
                order = ok[np.argsort(x[ok], kind="stable")]
                self._order[c], self._sorted[c] = order, x[order]
                self._nan[c] = np.flatnonzero(np.isnan(x))
            else:
                s = df[c]
                mapped = s.astype(object).map(codes[c])
                arr = mapped.fillna(-2).to_numpy(dtype=np.int64)
                arr[s.isna().to_numpy()] = -1
                self.cat[c] = arr
                order = np.argsort(arr, kind="stable")
                self._order[c], self._sorted[c] = order, arr[order]

    def _code(self, p: Predicate) -> int:
        return self.codes[p.column].get(str(p.value), -3)

    def _span(self, p: Predicate) -> tuple[int, int] | None:
        """Rows matching ``p`` as a slice [lo, hi) of the column's sort order (None: not a slice)."""
        srt = self._sorted[p.column]
        if p.column in self.num:
            if p.op in ("isnull", "notnull", "!="):
                return None
            v = float(p.value)  # type: ignore[arg-type]
            if p.op == "==":
                return int(np.searchsorted(srt, v, "left")), int(np.searchsorted(srt, v, "right"))
            if p.op == ">=":
                return int(np.searchsorted(srt, v, "left")), len(srt)
            if p.op == ">":
                return int(np.searchsorted(srt, v, "right")), len(srt)
            if p.op == "<=":
                return 0, int(np.searchsorted(srt, v, "right"))
            return 0, int(np.searchsorted(srt, v, "left"))
        if p.op == "==":
            code = self._code(p)
        elif p.op == "isnull":
            code = -1
        else:
            return None
        return int(np.searchsorted(srt, code, "left")), int(np.searchsorted(srt, code, "right"))

    def _size(self, p: Predicate) -> int:
        span = self._span(p)
        if span is not None:
            return span[1] - span[0]
        if p.column in self.num and p.op == "isnull":
            return len(self._nan[p.column])
        return self.n  # complements ('!=', 'notnull'): treated as unselective

    def _rows(self, p: Predicate) -> np.ndarray:
        span = self._span(p)
        if span is not None:
            return self._order[p.column][span[0] : span[1]]
        if p.column in self.num and p.op == "isnull":
            return self._nan[p.column]
        return np.flatnonzero(self.mask(p))

    def mask(self, p: Predicate, rows: np.ndarray | None = None) -> np.ndarray:
        if p.column in self.num:
            x = self.num[p.column] if rows is None else self.num[p.column][rows]
            if p.op == "isnull":
                return np.isnan(x)
            if p.op == "notnull":
                return ~np.isnan(x)
            v = float(p.value)  # type: ignore[arg-type]
            with np.errstate(invalid="ignore"):
                if p.op == "==":
                    return x == v
                if p.op == "!=":
                    return (x != v) & ~np.isnan(x)
                if p.op == "<=":
                    return x <= v
                if p.op == ">=":
                    return x >= v
                if p.op == "<":
                    return x < v
                return x > v
        codes_arr = self.cat[p.column] if rows is None else self.cat[p.column][rows]
        if p.op == "isnull":
            return codes_arr == -1
        if p.op == "notnull":
            return codes_arr != -1
        code = self._code(p)
        if p.op == "==":
            return codes_arr == code
        return (codes_arr != code) & (codes_arr != -1)

    def matches(self, q: Query) -> np.ndarray:
        sizes = [self._size(p) for p in q.predicates]
        first = int(np.argmin(sizes))
        rows = self._rows(q.predicates[first])
        for i, p in enumerate(q.predicates):
            if i != first and rows.size:
                rows = rows[self.mask(p, rows)]
        return rows

    def count(self, q: Query) -> int:
        if len(q.predicates) == 1:  # one predicate: the size of its slice, no rows listed
            span = self._span(q.predicates[0])
            if span is not None:
                return span[1] - span[0]
        return int(self.matches(q).size)


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _univariate_candidates(
    syn: pd.DataFrame, numeric: set[str], datetimes: AbstractSet[str] = frozenset()
) -> list[Query]:
    out: list[Query] = []
    for c in syn.columns:
        s = syn[c]
        if int(s.isna().sum()) == 1:
            out.append(Query((Predicate(c, "isnull"),)))
        if c in numeric:
            v = _numeric_values(s)
            if np.isfinite(v).any():
                out.append(Query((_num_pred(c, "<=", float(np.nanmin(v)), datetimes),)))
                out.append(Query((_num_pred(c, ">=", float(np.nanmax(v)), datetimes),)))
            counts = pd.Series(v[~np.isnan(v)]).value_counts()
            # In sorted order: value_counts orders equal counts as its sort happens to leave them,
            # which has changed between library versions (and with it the predicates drawn).
            out.extend(
                Query((_num_pred(c, "==", float(val), datetimes),))
                for val in np.sort(counts.index[counts == 1].to_numpy(dtype=float))
            )
        else:
            counts = s.dropna().astype(str).value_counts()
            out.extend(
                Query((Predicate(c, "==", val),)) for val in sorted(counts.index[counts == 1])
            )
    return out


def _record_query(
    values: dict[str, np.ndarray],
    r: int,
    cols: list[str],
    numeric: set[str],
    medians: dict[str, float],
    datetimes: set[str] = frozenset(),  # type: ignore[assignment]
) -> Query:
    preds = []
    for c in sorted(cols):
        v = values[c][r]
        if _is_missing(v):
            preds.append(Predicate(c, "isnull"))
        elif c in numeric:
            fv = float(v)
            preds.append(_num_pred(c, ">=" if fv > medians[c] else "<=", fv, datetimes))
        else:
            preds.append(Predicate(c, "==", str(v)))
    return Query(tuple(preds))


def _random_queries(
    syn: pd.DataFrame,
    n: int,
    n_cols: int,
    numeric: set[str],
    rng: np.random.Generator,
    datetimes: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Query]:
    columns = list(syn.columns)
    # Numeric (and datetime) columns as floats, as the predicates compare them.
    uniques = {
        c: pd.unique(_numeric_values(syn[c]) if c in numeric else syn[c].astype(object))
        for c in columns
    }
    out = []
    for _ in range(n):
        cols = sorted(rng.choice(columns, size=min(n_cols, len(columns)), replace=False).tolist())
        preds = []
        for c in cols:
            val = uniques[c][rng.integers(len(uniques[c]))]
            ops = _NUM_OPS if c in numeric else _CAT_OPS
            op = ops[rng.integers(len(ops))]
            if _is_missing(val):
                preds.append(Predicate(c, "isnull" if op == "==" else "notnull"))
            elif c in numeric:
                preds.append(_num_pred(c, op, float(val), datetimes))
            else:
                preds.append(Predicate(c, op, str(val)))
        out.append(Query(tuple(preds)))
    return out


def _t_over_z(n_clusters: int, confidence_level: float) -> float:
    """Student's t critical value with ``n_clusters − 1`` degrees of freedom over the normal one."""
    if n_clusters < 2:
        return 1.0
    q = 0.5 * (1.0 + confidence_level)
    return float(student_t.ppf(q, n_clusters - 1) / norm.ppf(q))


def _so_integral(n: np.ndarray | float, w_max: float) -> np.ndarray | float:
    """∫_0^w_max n·w·(1−w)^(n−1) dw: probability mass of singling out at size n (Cohen & Nissim)."""
    return (1 - (n * w_max + 1) * (1 - w_max) ** n) / (n + 1)


def _size_correction(
    ctrl: _Columns,
    queries: list[Query],
    codes: dict[str, dict[str, int]],
    n_target: int,
    rng: np.random.Generator,
) -> float:
    """anonymeter's control-size correction: fit successes(n) on subsamples of control, take the
    ratio of the model at the training size to the model at the control size."""
    n = ctrl.n
    # The matches as (query, row) pairs rather than a queries × rows matrix, whose size (up to
    # 100,000 predicates × the control rows) would not fit in memory for large inputs.
    hits = [ctrl.matches(q) for q in queries]
    match_rows = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
    match_query = np.repeat(np.arange(len(queries)), [h.size for h in hits])
    sizes, succ = [], []
    for size in np.linspace(min(1000, n), n, 10).astype(int):
        for _ in range(5):
            cols = rng.choice(n, size=size, replace=False)
            chosen = np.zeros(n, dtype=bool)
            chosen[cols] = True
            counts = np.bincount(match_query[chosen[match_rows]], minlength=len(queries))
            succ.append(int((counts == 1).sum()))
            sizes.append(size)
    x, y = np.array(sizes, dtype=float), np.array(succ, dtype=float)

    def model(xx: np.ndarray, w_eff: float, norm: float) -> np.ndarray:
        return norm * _so_integral(xx, w_eff)  # type: ignore[return-value]

    w0 = 1 / x.max()
    p0 = (w0, 1 / float(_so_integral(x.max(), w0)))
    try:
        popt, _ = curve_fit(model, x, y, p0=p0, bounds=(0, (1, np.inf)), maxfev=10_000)
        den = float(model(np.array([n], dtype=float), *popt)[0])
        num = float(model(np.array([n_target], dtype=float), *popt)[0])
        return num / den if den > 0 else 1.0
    except (RuntimeError, ValueError):
        return 1.0


#: Release rows matched per block in the multivariate search (candidates x rows booleans).
MATCH_BLOCK_CELLS = 1 << 24
#: ... and at least this many rows per block.
MATCH_BLOCK_MIN_ROWS = 4096


def _count_matches(
    syn_cols: _Columns,
    cols: list[str],
    col_index: dict[str, int],
    numeric: set[str],
    medians: dict[str, float],
    isnan_syn: dict[str, np.ndarray],
    rows: np.ndarray,
    chosen: np.ndarray,
) -> np.ndarray:
    """How many release rows the predicate of each candidate (record ``rows[i]`` on the columns
    ``chosen[i]``, as :func:`_record_query` writes it) matches, counted up to 2: only 1 matters.

    The release is matched in blocks of rows, narrowed column by column; a candidate that has
    matched twice leaves the later blocks, so on a large release most candidates (not unique)
    cost one block, not the whole release."""
    n_rows = syn_cols.n
    counts = np.zeros(len(rows), dtype=np.int64)
    alive = np.arange(len(rows))
    lo = 0
    while lo < n_rows and alive.size:
        hi = min(n_rows, lo + max(MATCH_BLOCK_MIN_ROWS, MATCH_BLOCK_CELLS // alive.size))
        match = np.ones((alive.size, hi - lo), dtype=bool)
        used = chosen[alive]
        for c in cols:
            which = np.flatnonzero((used == col_index[c]).any(axis=1))
            if which.size == 0:
                continue
            rr = rows[alive[which]]
            if c in numeric:
                full = syn_cols.num[c]
                x = full[lo:hi]
                v = full[rr]
                nan_v = np.isnan(v)
                up = (v > medians[c]) & ~nan_v
                down = ~up & ~nan_v
                with np.errstate(invalid="ignore"):
                    if up.any():
                        match[which[up]] &= x[None, :] >= v[up][:, None]
                    if down.any():
                        match[which[down]] &= x[None, :] <= v[down][:, None]
                if nan_v.any():
                    match[which[nan_v]] &= isnan_syn[c][None, lo:hi]
            else:
                k = syn_cols.cat[c]
                match[which] &= k[None, lo:hi] == k[rr][:, None]
        counts[alive] += match.sum(axis=1)
        alive = alive[counts[alive] < 2]
        lo = hi
    return np.minimum(counts, 2)


def singling_out_attack(
    data: AuditData,
    *,
    mode: Literal["univariate", "multivariate"] = "multivariate",
    n_attacks: int = 500,
    n_cols: int = 3,
    max_attempts: int | None = 100_000,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> AttackResult:
    """Generate up to ``n_attacks`` singling-out predicates from the release and evaluate them.

    ``n_attacks`` is at most :data:`~synth_audit.attacks._common.MAX_PREDICATES` (100,000) and
    ``max_attempts`` at most :data:`~synth_audit.attacks._common.MAX_ATTEMPTS` (10,000,000; ``None``
    means that limit).
    """
    if mode not in ("univariate", "multivariate"):
        raise ConfigError(
            f'The \'mode\' parameter of {OWNER} must be "univariate" or "multivariate". Got {mode!r}.'
        )
    n_attacks = check_size(
        n_attacks,
        "n_attacks",
        OWNER,
        MAX_PREDICATES,
        "Lower [singling_out] n_attacks; a few thousand predicates already measure the rate to "
        "within about ±0.02.",
    )
    if max_attempts is not None:
        max_attempts = check_size(
            max_attempts,
            "max_attempts",
            OWNER,
            MAX_ATTEMPTS,
            "Lower [singling_out] max_attempts (or leave it out to use the limit).",
        )
    n_used = len(data.columns)
    if mode == "multivariate" and (
        isinstance(n_cols, bool) or not isinstance(n_cols, int) or not 1 <= n_cols <= n_used
    ):
        raise ConfigError(
            f"The 'n_cols' parameter of {OWNER} must be an int between 1 and the number of usable "
            f"columns ({n_used}). Got {n_cols!r}."
        )
    rng = np.random.default_rng(random_state)
    cols = data.columns
    numeric = set(data.schema.numeric) & set(cols)
    datetimes = {c for c in numeric if data.schema.kind(c) is ColumnKind.DATETIME}
    syn = data.synthetic[cols].drop_duplicates().reset_index(drop=True)
    frames = [data.train[cols], syn] + ([data.control[cols]] if data.control is not None else [])
    codes: dict[str, dict[str, int]] = {}
    for c in cols:
        if c not in numeric:
            vals = pd.unique(
                pd.concat([f[c].dropna().astype(str) for f in frames], ignore_index=True)
            )
            codes[c] = {str(v): i for i, v in enumerate(vals)}
    syn_cols = _Columns(syn, numeric, codes)
    train_cols = _Columns(data.train[cols], numeric, codes)

    queries: list[Query] = []
    seen: set[Query] = set()
    attempts = 0
    q_cols = 1 if mode == "univariate" else n_cols
    if mode == "univariate":
        cands = _univariate_candidates(syn, numeric, datetimes)
        order = rng.permutation(len(cands))
        for i in order:
            q = cands[i]
            attempts += 1
            if q not in seen and syn_cols.count(q) == 1:
                seen.add(q)
                queries.append(q)
                if len(queries) >= n_attacks:
                    break
    else:
        medians = {c: float(np.nanmedian(syn_cols.num[c])) if len(syn) else 0.0 for c in numeric}
        limit = max_attempts if max_attempts is not None else MAX_ATTEMPTS
        values = {
            c: (syn_cols.num[c] if c in numeric else syn[c].to_numpy(dtype=object)) for c in cols
        }
        col_index = {c: i for i, c in enumerate(cols)}
        isnan_syn = {c: np.isnan(syn_cols.num[c]) for c in numeric}
        while len(queries) < n_attacks and attempts < limit:
            batch = min(256, limit - attempts)
            rows = rng.integers(0, len(syn), size=batch)
            chosen = np.argsort(rng.random((batch, len(cols))), axis=1)[:, :n_cols]
            subsets = [tuple(sorted(cols[j] for j in ch)) for ch in chosen]
            # Every candidate is matched against the release: a record duplicated on its columns
            # matches its own predicate twice and fails below. (Looking duplicates up first, one
            # pandas ``duplicated`` per column subset, cost 7x the matching on real tables.)
            counts = _count_matches(
                syn_cols, cols, col_index, numeric, medians, isnan_syn, rows, chosen
            )
            done_at = batch
            for pos in np.flatnonzero(counts == 1):
                i = int(pos)
                q = _record_query(
                    values, int(rows[i]), list(subsets[i]), numeric, medians, datetimes
                )
                if q in seen:
                    continue
                seen.add(q)
                queries.append(q)
                if len(queries) >= n_attacks:
                    done_at = i + 1
                    break
            attempts += done_at

    extra: list[AuditWarning] = []
    if len(queries) < n_attacks:
        extra.append(
            AuditWarning(
                "few_queries",
                f"Only {len(queries)} of the {n_attacks} requested {mode} singling-out predicates could "
                f"be generated from the release ({attempts} attempts). The rate is over the "
                f"{len(queries)} generated; the estimate is less precise than requested.",
            )
        )

    singled = []
    success_rows: list[tuple[int, str]] = []
    for q in queries:
        m = train_cols.matches(q)
        ok = len(m) == 1
        singled.append(ok)
        if ok:
            success_rows.append((int(m[0]), str(q)))
    n_success = int(np.sum(singled)) if singled else 0

    baseline = _random_queries(syn, n_attacks, q_cols, numeric, rng, datetimes)
    n_base = sum(train_cols.count(q) == 1 for q in baseline)

    n_ctrl: float | None = None
    ctrl_singled: np.ndarray | None = None
    correction = 1.0
    if data.control is not None:
        ctrl_cols = _Columns(data.control[cols], numeric, codes)
        ctrl_singled = np.array([ctrl_cols.count(q) == 1 for q in queries], dtype=bool)
        n_ctrl = float(ctrl_singled.sum())
        if ctrl_cols.n != train_cols.n and queries:
            correction = _size_correction(ctrl_cols, queries, codes, train_cols.n, rng)
            n_ctrl *= correction

    # Univariate predicates cluster by column (module docstring): widen both errors accordingly.
    attack_deff = control_deff = 1.0
    paired_error = 0.0
    if ctrl_singled is not None and queries:
        # Train and control share the predicates: the paired, cluster-robust error of the residual
        # (clusters: the column for univariate predicates, each predicate for multivariate ones).
        paired_error = paired_residual_error(
            np.asarray(singled, dtype=float),
            ctrl_singled.astype(float),
            np.array([q.predicates[0].column for q in queries], dtype=object)
            if mode == "univariate"
            else np.arange(len(queries)),
            confidence_level,
            control_scale=correction,
        )
    n_columns_used = len({p.column for q in queries for p in q.predicates})
    if mode == "univariate" and queries:
        clusters = np.array([q.predicates[0].column for q in queries], dtype=object)
        # With few clusters the cluster-robust variance is itself uncertain: use Student's t with
        # G − 1 degrees of freedom instead of z (Cameron & Miller 2015), as a factor on the variance.
        small = _t_over_z(n_columns_used, confidence_level) ** 2
        attack_deff = small * design_effect(np.asarray(singled, dtype=float), clusters)
        paired_error *= math.sqrt(small)
        if ctrl_singled is not None:
            control_deff = small * design_effect(ctrl_singled.astype(float), clusters)
        if n_columns_used < MIN_COLUMNS and len(queries) >= MIN_ATTACKS:
            extra.append(
                AuditWarning(
                    UNMEASURABLE,
                    f"The {len(queries)} univariate singling-out predicates all come from "
                    f"{n_columns_used} column(s) (at least {MIN_COLUMNS} are needed): predicates on "
                    f"one column succeed or fail together, so their number overstates the evidence "
                    f"and no honest confidence interval can be given. This criterion could not be "
                    f"measured on these data and is left out of headlines, gates and frontiers.",
                )
            )

    per_record = pd.DataFrame(
        {
            "role": "train",
            "record": [r for r, _ in success_rows],
            "singled_out": True,
            "query": [q for _, q in success_rows],
        }
    )
    per_record = per_record.drop_duplicates("record").reset_index(drop=True)
    return assemble(
        attack=f"singling_out_{mode}",
        engine="native",
        n_success=float(n_success),
        n_total=len(queries),
        n_baseline_success=float(n_base),
        n_baseline_total=len(baseline),
        n_control_success=n_ctrl,
        n_control_total=None if data.control is None else len(queries),
        confidence_level=confidence_level,
        seed=random_state,
        params={
            "mode": mode,
            "n_attacks_requested": n_attacks,
            "n_queries_generated": len(queries),
            "n_cols": q_cols,
            "attempts": attempts,
            "max_attempts": max_attempts,
            "n_records_singled_out": int(per_record.shape[0]),
            "control_size_correction": correction,
            "n_columns_used": n_columns_used,
            "design_effect": {"attack": attack_deff, "control": control_deff},
            "paired_risk_error": paired_error,
        },
        per_record=per_record,
        extra_warnings=extra,
        attack_deff=attack_deff,
        control_deff=control_deff,
        min_risk_error=paired_error,
        what=f"{mode} singling-out predicates",
    )
