"""Helpers shared by the tabular metrics: parameter checks, seeds and column encodings.

Encodings, written down once:

* numeric columns are float arrays; datetime columns become seconds since the Unix epoch (UTC);
  missing values stay NaN.
* categorical and boolean columns become integer codes over the *union* of the frames compared, so a
  category present in only one frame still gets a code; a missing value is a category of its own
  (the last code) unless ``missing_code=False`` asks for NaN instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.schema import Schema

__all__ = [
    "Param",
    "category_codes",
    "check_columns",
    "child_seeds",
    "numeric_values",
    "resolve_params",
    "resolve_seed",
]

_EPOCH = pd.Timestamp(0, tz="UTC")


@dataclass(frozen=True)
class Param:
    """One keyword parameter of a metric: its default, a check and how to say what is expected."""

    default: Any
    check: Callable[[Any], bool]
    expected: str


def is_int(lo: int | None = None, hi: int | None = None) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            return False
        return bool((lo is None or v >= lo) and (hi is None or v <= hi))

    return check


def is_float(
    lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            return False
        f = float(v)
        if not math.isfinite(f):
            return False
        ok_lo = f > lo if lo_open else f >= lo
        ok_hi = f < hi if hi_open else f <= hi
        return ok_lo and ok_hi

    return check


def is_one_of(*choices: Any) -> Callable[[Any], bool]:
    return lambda v: v in choices


def is_optional_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def resolve_params(
    metric: str, given: Mapping[str, Any], spec: Mapping[str, Param]
) -> dict[str, Any]:
    """Defaults overlaid with ``given``; every problem is collected and raised once."""
    problems = []
    unknown = set(given) - set(spec)
    if unknown:
        problems.append(
            f"The {metric} metric got unknown parameter(s) {format_names(unknown)}. "
            f"Known parameters: {format_names(spec) or '(none)'}."
        )
    out: dict[str, Any] = {}
    for key, p in spec.items():
        value = given.get(key, p.default)
        if key in given and not p.check(value):
            problems.append(
                f"The {key!r} parameter of {metric} must be {p.expected}. Got {value!r}."
            )
        out[key] = value
    if problems:
        raise ConfigError(" ".join(problems))
    return out


def resolve_seed(metric: str, random_state: Any) -> int:
    """The integer seed to use and record: ``random_state`` itself, or a fresh one when None."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, int | np.integer)
        or random_state < 0
    ):
        raise ConfigError(
            f"The 'random_state' parameter of {metric} must be a non-negative int or None. "
            f"Got {random_state!r}."
        )
    return int(random_state)


def child_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds (valid for scikit-learn) spawned from ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def check_columns(
    metric: str, schema: Schema, frames: Mapping[str, pd.DataFrame | None]
) -> tuple[list[str], list[str]]:
    """The schema's used columns split into (numeric, categorical), checked present in every frame."""
    used = schema.used
    problems = []
    for role, df in frames.items():
        if df is None:
            continue
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError(
                f"The {role} input of the {metric} metric must be a pandas DataFrame. "
                f"Got {type(df).__name__}."
            )
        missing = set(used) - {str(c) for c in df.columns}
        if missing:
            problems.append(
                f"The {role} frame lacks {len(missing)} column(s) of the schema: {format_names(missing)}."
            )
        if len(df) == 0:
            problems.append(f"The {role} frame has no rows.")
    if problems:
        raise DataValidationError(
            f"The {metric} metric cannot run: {' '.join(problems)} Pass the frames returned by "
            f"synth_audit.data.prepare_inputs together with their schema."
        )
    numeric = [c for c in used if schema.kind(c).is_numeric]
    categorical = [c for c in used if schema.kind(c).is_categorical]
    return numeric, categorical


def numeric_values(s: pd.Series) -> np.ndarray:
    """A float array: numbers as they are, datetimes as epoch seconds; NaN where missing."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return ((s - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(s):
        return ((s - _EPOCH.tz_localize(None)) / pd.Timedelta(seconds=1)).to_numpy(
            dtype=float, na_value=np.nan
        )
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def category_codes(
    series: Sequence[pd.Series], *, missing_code: bool = True
) -> tuple[list[np.ndarray], int]:
    """Integer codes over the union of the categories of ``series``, and the number of codes.

    With ``missing_code`` a missing value gets code ``n_categories`` (the count returned includes it);
    otherwise codes are float arrays with NaN for missing values.
    """
    lengths = [len(s) for s in series]
    joined = pd.concat([s.astype(object) for s in series], ignore_index=True)
    codes, uniques = pd.factorize(joined)
    n_cat = len(uniques)
    out: list[np.ndarray] = []
    start = 0
    for n in lengths:
        c = codes[start : start + n]
        start += n
        if missing_code:
            out.append(np.where(c < 0, n_cat, c).astype(np.int64))
        else:
            out.append(np.where(c < 0, np.nan, c).astype(float))
    return out, (n_cat + 1 if missing_code else n_cat)


def cap_cardinality(codes: Sequence[np.ndarray], n_codes: int, max_codes: int) -> list[np.ndarray]:
    """Keep the ``max_codes − 1`` most frequent codes (over all arrays); the rest share one code.

    Works on float code arrays with NaN for missing (NaN stays NaN). Tree models with native
    categorical support accept a bounded number of categories.
    """
    if n_codes <= max_codes:
        return [np.asarray(c, dtype=float) for c in codes]
    finite = np.concatenate([c[~np.isnan(c)] for c in codes]).astype(np.int64)
    freq = np.bincount(finite, minlength=n_codes)
    order = np.argsort(-freq, kind="stable")
    remap = np.full(n_codes, max_codes - 1, dtype=float)
    remap[order[: max_codes - 1]] = np.arange(max_codes - 1, dtype=float)
    out = []
    for c in codes:
        c = np.asarray(c, dtype=float)
        r = np.full(c.shape, np.nan)
        ok = ~np.isnan(c)
        r[ok] = remap[c[ok].astype(np.int64)]
        out.append(r)
    return out
