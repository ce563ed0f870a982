"""The table a generator was fitted on, and how its samples are put back into that shape.

Every generator returns exactly the training columns, in order, with the dtype conventions of
validated input (:func:`synth_audit.data.prepare_inputs`): numeric columns float (NaN for missing),
categorical and boolean columns ``str`` objects or NaN, datetime columns with the training column's
time zone. Libraries return their own variants (numpy bools, naive datetimes, ``numpy.str_``,
``None``); :meth:`TableLayout.conform` undoes them once for all adapters.

Identifier columns (kind ``id``) are never modelled: they carry no population information, a model
that learns them can only copy them, and every attack excludes them. Learned generators fill them
with fresh surrogate keys (``"syn-0"``, ``"syn-1"``, ... or 0.0, 1.0, ... for numeric keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, DataValidationError, format_names
from synth_audit.schema import ColumnKind, Schema, infer_schema

__all__ = ["TableLayout", "canonical", "resolve_schema"]


def resolve_schema(train: pd.DataFrame, schema: Schema | None, owner: str) -> Schema:
    """``schema`` restricted to ``train``'s columns (inferred from ``train`` when None)."""
    if not isinstance(train, pd.DataFrame):
        raise DataValidationError(
            f"{owner}.fit expects the training data as a pandas DataFrame. Got {type(train).__name__}."
        )
    if train.shape[1] == 0 or len(train) == 0:
        raise DataValidationError(
            f"{owner}.fit got an empty training table ({len(train)} rows, {train.shape[1]} columns)."
        )
    if train.columns.duplicated().any():
        dup = train.columns[train.columns.duplicated()]
        raise DataValidationError(
            f"{owner}.fit got a training table that repeats the column name(s) {format_names(dup)}."
        )
    if schema is None:
        return infer_schema(train)
    cols = [str(c) for c in train.columns]
    missing = set(cols) - set(schema.names)
    if missing:
        raise ConfigError(
            f"The schema given to {owner}.fit does not describe the training column(s) "
            f"{format_names(missing)}. Pass the schema inferred from this table, or none."
        )
    return schema.subset(cols)


@dataclass(frozen=True)
class TableLayout:
    """Column order, kinds and dtypes of the training table."""

    columns: tuple[str, ...]
    kinds: Mapping[str, ColumnKind]
    dtypes: Mapping[str, Any]
    timezones: Mapping[str, Any]  # datetime columns -> tz (None when naive)

    @classmethod
    def from_frame(cls, train: pd.DataFrame, schema: Schema) -> TableLayout:
        """The layout of ``train`` (already in canonical form, see :func:`canonical`)."""
        cols = tuple(str(c) for c in train.columns)
        kinds = {c: schema.kind(c) for c in cols}
        dtypes = {c: train[c].dtype for c in cols}
        tzs = {c: train[c].dt.tz for c in cols if kinds[c] is ColumnKind.DATETIME}
        return cls(cols, kinds, dtypes, tzs)

    @property
    def modelled(self) -> list[str]:
        """The columns a learned generator models (all but identifiers)."""
        return [c for c in self.columns if not self.kinds[c].excluded]

    @property
    def identifiers(self) -> list[str]:
        return [c for c in self.columns if self.kinds[c].excluded]

    def surrogate_ids(self, column: str, n: int) -> pd.Series:
        if pd.api.types.is_numeric_dtype(self.dtypes[column]):
            return pd.Series(np.arange(n, dtype=float), name=column)
        return pd.Series([f"syn-{i}" for i in range(n)], dtype=object, name=column)

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series([], dtype=self.dtypes[c]) for c in self.columns})

    def conform(self, sample: pd.DataFrame, n: int, owner: str) -> pd.DataFrame:
        """``sample`` with the training columns in order and the training dtype conventions."""
        sample = sample.reset_index(drop=True)
        missing = [c for c in self.modelled if c not in sample.columns]
        if missing:
            raise RuntimeError(
                f"{owner} produced a sample without the column(s) {format_names(missing)}."
            )
        if len(sample) != n:
            raise RuntimeError(f"{owner} produced {len(sample)} rows where {n} were asked for.")
        out: dict[str, pd.Series] = {}
        for c in self.columns:
            if c not in sample.columns:
                out[c] = self.surrogate_ids(c, n)
            else:
                out[c] = _to_kind(sample[c], self.kinds[c], self.dtypes[c], self.timezones.get(c))
        return pd.DataFrame(out, index=pd.RangeIndex(n))


def canonical(
    train: pd.DataFrame, schema: Schema, owner: str, *, role: str = "training"
) -> pd.DataFrame:
    """``train`` in the conventions of validated input; a no-op for validated data.

    Numeric columns become float, categorical and boolean columns ``str`` objects (integral numbers
    written without ".0"), datetime columns datetime64 (time zone kept). Values that cannot be read
    as the column's kind are an error, not a silent NaN.
    """
    out: dict[str, pd.Series] = {}
    problems = []
    for c in train.columns:
        name = str(c)
        s = train[c].reset_index(drop=True)
        kind = schema.kind(name)
        if kind is ColumnKind.NUMERIC or (kind is ColumnKind.DATETIME and _numeric(s)):
            values = pd.to_numeric(s.astype(float) if _bool(s) else s, errors="coerce")
            values = values.astype(float)
        elif kind is ColumnKind.DATETIME:
            if pd.api.types.is_datetime64_any_dtype(s):
                values = s
            else:
                values = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        elif kind is ColumnKind.ID and _numeric(s):
            values = s.astype(float)
        else:
            values = _as_strings(s)
        bad = s.notna() & values.isna()
        if bad.any():
            problems.append(
                f"column {name!r} is declared {kind.value} but holds {int(bad.sum())} value(s) that "
                f"cannot be read as {kind.value}, e.g. {s[bad].iloc[0]!r}"
            )
        out[name] = values
    if problems:
        raise DataValidationError(
            f"{owner}.fit got {role} data that does not match the schema: "
            + "; ".join(problems)
            + ". Validate the data with synth_audit.data.prepare_inputs first."
        )
    return pd.DataFrame(out, index=pd.RangeIndex(len(train)))


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_datetime64_any_dtype(s)


def _bool(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s)


def _to_kind(s: pd.Series, kind: ColumnKind, dtype: Any, tz: Any) -> pd.Series:
    if kind is ColumnKind.DATETIME and pd.api.types.is_datetime64_any_dtype(dtype):
        if pd.api.types.is_datetime64_any_dtype(s):
            values = s
        else:
            values = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        if values.dt.tz is None and tz is not None:
            return values.dt.tz_localize("UTC").dt.tz_convert(tz)
        if values.dt.tz is not None:
            return values.dt.tz_convert(tz) if tz is not None else values.dt.tz_convert(None)
        return values
    if pd.api.types.is_float_dtype(dtype):
        return pd.to_numeric(s, errors="coerce").astype(float)
    return _as_strings(s)


def _as_strings(s: pd.Series) -> pd.Series:
    """``str`` objects or NaN; integral floats as "1" (not "1.0"), bools as "true"/"false"."""
    integral_floats = pd.api.types.is_float_dtype(s) and bool(
        np.all(np.mod(s.dropna().to_numpy(), 1) == 0)
    )
    out = s.astype(object).map(lambda v: _as_str(v, integral_floats), na_action="ignore")
    return out.where(s.notna(), np.nan).astype(object)


def _as_str(v: Any, integral_floats: bool) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return np.nan
        if integral_floats:
            return str(int(v))
        return repr(float(v))
    return str(v)
