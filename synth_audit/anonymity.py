"""Exact k-anonymity, ℓ-diversity and t-closeness of a table over declared quasi-identifiers.

An *equivalence class* is a set of records that agree on every quasi-identifier. Missing values
are a value like any other (two records with a missing ZIP code fall in the same class), so a
table never looks more anonymous because it has gaps. All measures are computed exactly over the
classes of the whole table (no clustering approximation, no sampling):

* **k-anonymity** (Sweeney 2002): the size of the smallest class; and the records in classes
  smaller than a declared ``k`` (who can be singled out by their quasi-identifiers).
* **ℓ-diversity** (Machanavajjhala et al. 2007) of a sensitive column, each as the largest ℓ the
  table satisfies: *distinct* (fewest distinct sensitive values in a class), *entropy*
  (``exp`` of the smallest within-class entropy: a class is entropy-ℓ-diverse when its entropy is
  at least ``log ℓ``), and *recursive (c, ℓ)*: with a class's value counts sorted
  ``r1 ≥ r2 ≥ … ≥ rm``, it holds when ``r1 < c · (r_ℓ + … + r_m)``; :func:`recursive_c` gives the
  smallest ``c`` bound every class stays under (``inf`` when a class has fewer than ℓ values).
* **t-closeness** (Li et al. 2007): the largest earth mover's distance between a class's
  distribution of the sensitive column and the whole table's. Numeric and ordinal columns use the
  *ordered* distance (values sorted, adjacent values 1/(m−1) apart:
  ``EMD = Σ_i |Σ_{j≤i} (p_j − q_j)| / (m − 1)``; a missing value sorts last); categorical columns
  the *equal* distance (``EMD = ½ Σ |p_i − q_i|``).

:func:`measure_anonymity` computes them all for one table; :func:`anonymity_section` turns the
release's and the training data's measures into the report section ``anonymity``, whose
record shares below k / ℓ and t-closeness distances are findings with role "risk" (so they reach
the frontier).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError

__all__ = [
    "AnonymityResult",
    "SensitiveMeasures",
    "anonymity_section",
    "class_ids",
    "distinct_l_diversity",
    "entropy_l_diversity",
    "k_anonymity",
    "measure_anonymity",
    "recursive_c",
    "t_closeness",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


# ---- the equivalence classes -----------------------------------------------------------------


def _check_columns(df: pd.DataFrame, cols: Sequence[str], what: str, source: str) -> None:
    missing = sorted(str(c) for c in cols if c not in df.columns)
    if missing:
        have = sorted(str(c) for c in df.columns)
        shown = ", ".join(have[:20]) + (f" and {len(have) - 20} more" if len(have) > 20 else "")
        raise DataValidationError(
            f"The {what} {missing} are not columns of {source} (it has {shown}). Fix the "
            "[anonymity] section of the configuration."
        )


def _codes(s: pd.Series, *, ordered: bool = False) -> tuple[np.ndarray, int]:
    """Integer codes of a column, missing values a value of their own (sorted last if ordered)."""
    codes, uniques = pd.factorize(s, sort=ordered, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    n = len(uniques)
    if (codes < 0).any():
        codes[codes < 0] = n
        n += 1
    return codes, max(n, 1)


def class_ids(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(class id of each record, size of each class)`` over the quasi-identifiers."""
    qi = list(quasi_identifiers)
    if not qi:
        raise ConfigError(
            "No quasi-identifiers were declared. List the columns an attacker may know "
            "(age, ZIP code, ...) in [anonymity] quasi_identifiers."
        )
    _check_columns(df, qi, "quasi-identifiers", "the table")
    n = len(df)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for col in qi:
        codes, card = _codes(df[col])
        if radix * card >= 2**62:  # re-compact the key so far (then radix <= n < 2**31)
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            radix = int(key.max()) + 1
        key = key * card + codes
        radix *= card
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1).astype(np.int64)
    sizes = np.bincount(inv)
    return inv, sizes


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The size of the smallest equivalence class (0 for an empty table)."""
    _, sizes = class_ids(df, quasi_identifiers)
    return int(sizes.min()) if len(sizes) else 0


# ---- per class and sensitive value -----------------------------------------------------------


def _pairs(
    groups: np.ndarray, n_groups: int, s_codes: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (class, value) pairs and their counts, sorted by class then value."""
    key = groups * m + s_codes
    uniq, counts = np.unique(key, return_counts=True)
    return uniq // m, uniq % m, counts


def _distinct(groups: np.ndarray, n_groups: int, s_codes: np.ndarray, m: int) -> np.ndarray:
    g, _, _ = _pairs(groups, n_groups, s_codes, m)
    return np.bincount(g, minlength=n_groups)


def _entropy(groups: np.ndarray, n_groups: int, s_codes: np.ndarray, m: int) -> np.ndarray:
    g, _, c = _pairs(groups, n_groups, s_codes, m)
    sizes = np.bincount(groups, minlength=n_groups).astype(float)
    p = c / sizes[g]
    return -np.bincount(g, weights=p * np.log(p), minlength=n_groups)


def _recursive_c(
    groups: np.ndarray, n_groups: int, s_codes: np.ndarray, m: int, ell: int
) -> np.ndarray:
    """Per class ``r1 / (r_ℓ + … + r_m)`` (inf when fewer than ℓ distinct values)."""
    g, _, c = _pairs(groups, n_groups, s_codes, m)
    order = np.lexsort((-c, g))
    g, c = g[order], c[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    r1 = np.zeros(n_groups)
    r1[g[rank == 0]] = c[rank == 0]
    tail = np.bincount(g, weights=np.where(rank >= ell - 1, c, 0), minlength=n_groups)
    with np.errstate(divide="ignore"):
        return np.where(tail > 0, r1 / np.where(tail > 0, tail, 1), np.inf)


def _emd(
    groups: np.ndarray, n_groups: int, s_codes: np.ndarray, m: int, ordered: bool
) -> np.ndarray:
    """Per class, the EMD between its distribution of the values and the whole table's."""
    n = len(s_codes)
    q = np.bincount(s_codes, minlength=m) / n
    sizes = np.bincount(groups, minlength=n_groups).astype(float)
    g, v, c = _pairs(groups, n_groups, s_codes, m)
    p = c / sizes[g]
    if not ordered or m == 1:
        if m == 1:
            return np.zeros(n_groups)
        inside = np.bincount(g, weights=np.abs(p - q[v]) - q[v], minlength=n_groups)
        return 0.5 * (inside + 1.0)
    # Ordered distance without a dense (classes × values) matrix: within a class, its cumulative
    # distribution F is constant between two of its values, and the whole table's cumulative Q is
    # non-decreasing, so Σ |F − Q| over such a run of indices comes from prefix sums of Q split
    # where Q crosses F (one binary search per run).
    qc = np.cumsum(q)[:-1]  # Q(i) for i = 0 .. m-2 (the last index adds nothing)
    pref = np.r_[0.0, np.cumsum(qc)]  # pref[i] = Σ_{j<i} Q(j)
    cp = np.cumsum(p)
    first = np.r_[True, g[1:] != g[:-1]]
    starts = np.flatnonzero(first)
    cp -= np.repeat(np.r_[0.0, cp[starts[1:] - 1]], np.diff(np.r_[starts, len(g)]))
    last = np.r_[g[1:] != g[:-1], True]
    a = v
    b = np.where(last, m - 1, np.r_[v[1:], m - 1])
    c = np.where(last, 1.0, cp)
    j = np.clip(np.searchsorted(qc, c, side="left"), a, b)
    seg = c * (j - a) - (pref[j] - pref[a]) + (pref[b] - pref[j]) - c * (b - j)
    total = np.bincount(g, weights=seg, minlength=n_groups)
    total += pref[v[first]]  # before a class's first value F = 0: Σ Q
    return total / (m - 1)


def _is_ordered(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return bool(s.dtype.ordered)
    return bool(pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))


def _prep(
    df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str
) -> tuple[np.ndarray, int, np.ndarray, int]:
    _check_columns(df, [sensitive], "sensitive column", "the table")
    groups, sizes = class_ids(df, quasi_identifiers)
    s_codes, m = _codes(df[sensitive], ordered=_is_ordered(df[sensitive]))
    return groups, len(sizes), s_codes, m


def distinct_l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """The fewest distinct values of ``sensitive`` in any class (the table's distinct ℓ)."""
    groups, ng, s, m = _prep(df, quasi_identifiers, sensitive)
    return int(_distinct(groups, ng, s, m).min()) if ng else 0


def entropy_l_diversity(
    df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str
) -> float:
    """The largest ℓ such that every class has entropy ≥ log ℓ: ``exp(min class entropy)``."""
    groups, ng, s, m = _prep(df, quasi_identifiers, sensitive)
    return float(math.exp(_entropy(groups, ng, s, m).min())) if ng else 0.0


def recursive_c(
    df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str, ell: int
) -> float:
    """The largest ``r1 / (r_ℓ + … + r_m)`` over classes: the table is recursive (c, ℓ)-diverse
    exactly when ``c`` is above it (``inf``: some class has fewer than ℓ distinct values)."""
    if int(ell) < 1:
        raise ConfigError(f"The 'l' parameter of recursive_c must be an int ≥ 1. Got {ell!r}.")
    groups, ng, s, m = _prep(df, quasi_identifiers, sensitive)
    return float(_recursive_c(groups, ng, s, m, int(ell)).max()) if ng else 0.0


def t_closeness(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    *,
    distance: Literal["auto", "ordered", "equal"] = "auto",
) -> float:
    """The largest EMD between a class's distribution of ``sensitive`` and the table's (the
    smallest t the table is t-close for). ``distance="auto"``: ordered for numeric and ordered
    categorical columns, equal for the others."""
    _check_columns(df, [sensitive], "sensitive column", "the table")
    ordered = _is_ordered(df[sensitive]) if distance == "auto" else distance == "ordered"
    groups, sizes = class_ids(df, quasi_identifiers)
    s, m = _codes(df[sensitive], ordered=ordered)
    if not len(sizes):
        return 0.0
    return float(_emd(groups, len(sizes), s, m, ordered).max())


# ---- all measures of a table ------------------------------------------------------------------


@dataclass(frozen=True)
class SensitiveMeasures:
    """ℓ-diversity and t-closeness of one sensitive column."""

    column: str
    distinct_l: int
    entropy_l: float
    recursive_c: float
    recursive_l: int
    t: float
    t_distance: str
    records_below_l: int
    records_above_t: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "distinct_l": self.distinct_l,
            "entropy_l": self.entropy_l,
            "recursive_c": None if math.isinf(self.recursive_c) else self.recursive_c,
            "recursive_l": self.recursive_l,
            "t": self.t,
            "t_distance": self.t_distance,
            "records_below_l": self.records_below_l,
            "records_above_t": self.records_above_t,
        }


@dataclass(frozen=True)
class AnonymityResult:
    """k-anonymity, class sizes and per-sensitive measures of one table."""

    table: str
    quasi_identifiers: tuple[str, ...]
    n_records: int
    n_classes: int
    k: int
    k_required: int
    records_below_k: int
    class_size_histogram: Mapping[int, int]
    below_k_rows: tuple[int, ...]
    sensitive: tuple[SensitiveMeasures, ...] = field(default=())

    @property
    def share_below_k(self) -> float:
        return self.records_below_k / self.n_records if self.n_records else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "quasi_identifiers": list(self.quasi_identifiers),
            "n_records": self.n_records,
            "n_classes": self.n_classes,
            "k": self.k,
            "k_required": self.k_required,
            "records_below_k": self.records_below_k,
            "share_below_k": self.share_below_k,
            "class_size_histogram": {str(k): v for k, v in self.class_size_histogram.items()},
            "below_k_rows": list(self.below_k_rows),
            "sensitive": [s.to_dict() for s in self.sensitive],
        }


def measure_anonymity(
    df: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
    k: int = 5,
    ell: int = 2,
    t: float = 0.2,
    table: str = "release",
    max_rows_listed: int = 1_000,
) -> AnonymityResult:
    """Every measure of ``df``: k, the class-size histogram, the records in classes below ``k``
    (row positions, at most ``max_rows_listed``), and per sensitive column distinct / entropy ℓ,
    recursive (c, ``ell``) and t-closeness with the records in classes below ``ell`` distinct
    values or above ``t``."""
    for name, v, lo in (("k", k, 1), ("l", ell, 1)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < lo:
            raise ConfigError(
                f"The {name!r} parameter of [anonymity] must be an int ≥ 1. Got {v!r}."
            )
    if not 0 <= float(t) <= 1:
        raise ConfigError(f"The 't' parameter of [anonymity] must be in [0, 1]. Got {t!r}.")
    qi = list(quasi_identifiers)
    sens = list(sensitive)
    overlap = sorted(set(qi) & set(sens))
    if overlap:
        raise ConfigError(
            f"{overlap} are declared both quasi-identifiers and sensitive in [anonymity]; a "
            "column is one or the other."
        )
    _check_columns(df, qi, "quasi-identifiers", f"the {table} data")
    _check_columns(df, sens, "sensitive columns", f"the {table} data")
    groups, sizes = class_ids(df, qi)
    n, ng = len(df), len(sizes)
    rec_size = sizes[groups] if n else np.zeros(0, dtype=np.int64)
    below = np.flatnonzero(rec_size < k)
    hist_sizes, hist_counts = np.unique(sizes, return_counts=True)
    measures = []
    for col in sens:
        ordered = _is_ordered(df[col])
        s, m = _codes(df[col], ordered=ordered)
        if ng == 0:
            measures.append(SensitiveMeasures(col, 0, 0.0, 0.0, ell, 0.0, "equal", 0, 0))
            continue
        dist = _distinct(groups, ng, s, m)
        ent = _entropy(groups, ng, s, m)
        rc = _recursive_c(groups, ng, s, m, ell)
        emd = _emd(groups, ng, s, m, ordered)
        measures.append(
            SensitiveMeasures(
                column=col,
                distinct_l=int(dist.min()),
                entropy_l=float(math.exp(ent.min())),
                recursive_c=float(rc.max()),
                recursive_l=int(ell),
                t=float(emd.max()),
                t_distance="ordered" if ordered else "equal",
                records_below_l=int(sizes[dist < ell].sum()),
                records_above_t=int(sizes[emd > t + 1e-12].sum()),
            )
        )
    return AnonymityResult(
        table=table,
        quasi_identifiers=tuple(qi),
        n_records=n,
        n_classes=ng,
        k=int(sizes.min()) if ng else 0,
        k_required=int(k),
        records_below_k=len(below),
        class_size_histogram={int(a): int(b) for a, b in zip(hist_sizes, hist_counts)},
        below_k_rows=tuple(int(i) for i in below[:max_rows_listed]),
        sensitive=tuple(measures),
    )


# ---- the report section -------------------------------------------------------------------------


def _hist_rows(h: Mapping[int, int]) -> list[list[Any]]:
    edges = [(1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None)]
    rows = []
    for lo, hi in edges:
        n_cls = sum(v for s, v in h.items() if s >= lo and (hi is None or s <= hi))
        n_rec = sum(s * v for s, v in h.items() if s >= lo and (hi is None or s <= hi))
        label = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi is not None else f"≥ {lo}")
        rows.append([label, n_cls, n_rec])
    return rows


def anonymity_section(
    release: AnonymityResult, training: AnonymityResult | None = None
) -> dict[str, Any]:
    """The report section ``anonymity``: the release's shares of records below k / ℓ and its
    t-closeness distances as findings with role "risk" (lower is better, bounds [0, 1]); k, ℓ and
    the training data's measures as evidence beside them."""
    from synth_audit.report.sections import finding, make_section, table

    findings = []
    tables = []
    for res in (release, training):
        if res is None:
            continue
        tag = res.table
        is_release = res is release
        role = "risk" if is_release else "evidence"
        findings.append(
            finding(
                f"{tag}_share_below_k",
                res.share_below_k,
                role=role,
                direction="lower_is_better",
                bounds=(0.0, 1.0),
                unit="share",
                reading=(
                    f"{res.records_below_k:,} of {res.n_records:,} {tag} records are in classes "
                    f"smaller than k = {res.k_required} over {', '.join(res.quasi_identifiers)}: "
                    "an attacker who knows these attributes narrows them to fewer people."
                ),
                exact=True,
            )
        )
        findings.append(
            finding(
                f"{tag}_k",
                float(res.k),
                role="evidence",
                direction="higher_is_better",
                unit="records",
                reading=f"The smallest class of the {tag} data has {res.k:,} record(s).",
            )
        )
        for s in res.sensitive:
            findings.append(
                finding(
                    f"{tag}_share_below_l[{s.column}]",
                    s.records_below_l / res.n_records if res.n_records else 0.0,
                    role=role,
                    direction="lower_is_better",
                    bounds=(0.0, 1.0),
                    unit="share",
                    reading=(
                        f"{s.records_below_l:,} {tag} records are in classes with fewer than "
                        f"ℓ = {s.recursive_l} distinct values of {s.column}: knowing their "
                        "quasi-identifiers narrows their value down."
                    ),
                    exact=True,
                )
            )
            findings.append(
                finding(
                    f"{tag}_t_closeness[{s.column}]",
                    s.t,
                    role=role,
                    direction="lower_is_better",
                    bounds=(0.0, 1.0),
                    unit="EMD",
                    reading=(
                        f"The largest earth mover's distance ({s.t_distance}) between a class's "
                        f"distribution of {s.column} and the whole {tag} data's."
                    ),
                    exact=True,
                )
            )
        tables.append(
            table(
                f"Class sizes of the {tag} data",
                ["class size", "classes", "records"],
                _hist_rows(res.class_size_histogram),
            )
        )
        if res.sensitive:
            tables.append(
                table(
                    f"ℓ-diversity and t-closeness of the {tag} data",
                    [
                        "sensitive column",
                        "distinct ℓ",
                        "entropy ℓ",
                        f"recursive c (ℓ = {res.sensitive[0].recursive_l})",
                        "t (EMD)",
                        "distance",
                    ],
                    [
                        [
                            s.column,
                            s.distinct_l,
                            round(s.entropy_l, 4),
                            "inf" if math.isinf(s.recursive_c) else round(s.recursive_c, 4),
                            round(s.t, 4),
                            s.t_distance,
                        ]
                        for s in res.sensitive
                    ],
                )
            )
    warnings = []
    if release.n_classes and release.n_classes == release.n_records:
        warnings.append(
            {
                "code": "all_unique",
                "message": (
                    "Every release record is unique on its quasi-identifiers (k = 1). For a "
                    "synthetic release this is common and not by itself a disclosure: whether a "
                    "unique synthetic record matches a real person is what singling out and "
                    "linkability measure."
                ),
            }
        )
    summary = (
        f"The release is {release.k}-anonymous over {len(release.quasi_identifiers)} "
        f"quasi-identifier(s); {release.share_below_k:.1%} of its records are in classes below "
        f"k = {release.k_required}."
    )
    if training is not None:
        summary += (
            f" The training data is {training.k}-anonymous ({training.share_below_k:.1%} below k)."
        )
    return make_section(
        "Release anonymity (k-anonymity, ℓ-diversity, t-closeness)",
        "anonymity",
        summary=summary,
        findings=findings,
        tables=tables,
        warnings=warnings,
        data={
            "release": release.to_dict(),
            "training": None if training is None else training.to_dict(),
        },
    )
