"""Column kinds: inferred from the real (training) data, overridable in the config.

Kinds decide how a column is encoded, compared and attacked:

* ``numeric``      distances |a - b| / range; inference judged with a tolerance.
* ``categorical``  mismatch distance 0/1; inference judged by equality.
* ``boolean``      a categorical with two values.
* ``datetime``     numeric on the time axis (seconds since the epoch).
* ``id``           identifiers and free text: excluded from every attack, with a notice. A column
                   that is unique per row carries no population information, and linking on it
                   would measure the key, not the release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, format_names

__all__ = ["ColumnKind", "ColumnSpec", "Schema", "infer_schema"]

# An integer column with at most this many distinct values is treated as categorical (codes, scales).
MAX_INT_CATEGORIES = 10
# A string column whose share of distinct values exceeds this (with enough rows) is an identifier.
ID_UNIQUE_SHARE = 0.9
ID_MIN_ROWS = 20
TEXT_MEAN_LENGTH = 40


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"

    @property
    def is_numeric(self) -> bool:
        return self in (ColumnKind.NUMERIC, ColumnKind.DATETIME)

    @property
    def is_categorical(self) -> bool:
        return self in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)

    @property
    def excluded(self) -> bool:
        return self is ColumnKind.ID


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: ColumnKind
    reason: str = ""  # why this kind was chosen ("inferred: float dtype", "config override", ...)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnSpec:
        return cls(name=str(d["name"]), kind=ColumnKind(d["kind"]), reason=str(d.get("reason", "")))


@dataclass(frozen=True)
class Schema:
    """Ordered column specifications. Immutable; ``with_overrides`` returns a new schema."""

    columns: tuple[ColumnSpec, ...]
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            dup = {n for n in names if names.count(n) > 1}
            raise ConfigError(f"Duplicate column names in schema: {format_names(dup)}.")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def used(self) -> list[str]:
        """Columns that take part in attacks and metrics (everything but ids/free text)."""
        return [c.name for c in self.columns if not c.kind.excluded]

    @property
    def excluded(self) -> list[str]:
        return [c.name for c in self.columns if c.kind.excluded]

    @property
    def numeric(self) -> list[str]:
        return [c.name for c in self.columns if c.kind.is_numeric]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind.is_categorical]

    def kind(self, name: str) -> ColumnKind:
        for c in self.columns:
            if c.name == name:
                return c.kind
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def subset(self, names: list[str]) -> Schema:
        by_name = {c.name: c for c in self.columns}
        return Schema(tuple(by_name[n] for n in names), self.notices)

    def with_overrides(self, overrides: Mapping[str, str | ColumnKind] | None) -> Schema:
        if not overrides:
            return self
        unknown = set(overrides) - set(self.names)
        if unknown:
            raise ConfigError(
                f"[columns] overrides name columns that are not in the data: {format_names(unknown)}. "
                f"Known columns: {format_names(self.names)}. Fix the names in the [columns] table."
            )
        out = []
        for c in self.columns:
            if c.name in overrides:
                raw = overrides[c.name]
                try:
                    kind = ColumnKind(raw)
                except ValueError:
                    valid = ", ".join(k.value for k in ColumnKind)
                    raise ConfigError(
                        f"[columns] override for column {c.name!r} must be one of {valid}. Got {raw!r}."
                    ) from None
                out.append(ColumnSpec(c.name, kind, "config override"))
            else:
                out.append(c)
        return Schema(tuple(out), self.notices)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns], "notices": list(self.notices)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Schema:
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in d["columns"]),
            tuple(str(n) for n in d.get("notices", ())),
        )


_BOOL_TOKENS = {"true", "false", "yes", "no", "t", "f", "y", "n"}


def _infer_kind(s: pd.Series) -> tuple[ColumnKind, str]:
    non_null = s.dropna()
    n_unique = int(non_null.nunique())
    if pd.api.types.is_bool_dtype(s):
        return ColumnKind.BOOLEAN, "bool dtype"
    if pd.api.types.is_datetime64_any_dtype(s):
        return ColumnKind.DATETIME, "datetime dtype"
    if pd.api.types.is_numeric_dtype(s):
        values = non_null.to_numpy(dtype=float)
        is_int = bool(np.all(np.isfinite(values)) and np.all(np.mod(values, 1) == 0))
        if n_unique <= 2 and set(np.unique(values)).issubset({0.0, 1.0}):
            return ColumnKind.BOOLEAN, "two values 0/1"
        if is_int and n_unique <= MAX_INT_CATEGORIES:
            return ColumnKind.CATEGORICAL, f"integer codes with {n_unique} distinct values"
        if (
            is_int
            and len(non_null) >= ID_MIN_ROWS
            and n_unique == len(non_null)
            and _looks_like_key(str(s.name), values)
        ):
            return ColumnKind.ID, "unique integer per row (an identifier)"
        return ColumnKind.NUMERIC, "numeric dtype"
    # object / string / category
    as_str = non_null.astype(str)
    if n_unique <= 2 and set(as_str.str.lower().unique()).issubset(_BOOL_TOKENS):
        return ColumnKind.BOOLEAN, "two boolean tokens"
    if len(non_null) >= ID_MIN_ROWS and n_unique / max(len(non_null), 1) > ID_UNIQUE_SHARE:
        if float(as_str.str.len().mean()) >= TEXT_MEAN_LENGTH:
            return ColumnKind.ID, "free text (long, mostly unique strings)"
        if _parses_as_datetime(as_str):
            return ColumnKind.DATETIME, "strings that parse as dates"
        return ColumnKind.ID, f"{n_unique} distinct strings in {len(non_null)} rows (an identifier)"
    if n_unique > 2 and _parses_as_datetime(as_str):
        return ColumnKind.DATETIME, "strings that parse as dates"
    return ColumnKind.CATEGORICAL, "string values"


def _looks_like_key(name: str, values: np.ndarray) -> bool:
    lowered = name.lower()
    if lowered == "id" or lowered.endswith("_id") or lowered.endswith("id") or "key" in lowered:
        return True
    # A dense run of consecutive integers (a row number) is a key as well.
    v = np.sort(values)
    return bool(len(v) > 1 and np.all(np.diff(v) == 1))


def _parses_as_datetime(values: pd.Series) -> bool:
    sample = values.head(200)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return False
    if not sample.str.contains(r"[-/:]", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def infer_schema(
    df: pd.DataFrame, overrides: Mapping[str, str | ColumnKind] | None = None
) -> Schema:
    """Infer each column's kind from ``df`` (the real training data), then apply ``overrides``."""
    specs = []
    notices = []
    for name in df.columns:
        kind, reason = _infer_kind(df[name])
        specs.append(ColumnSpec(str(name), kind, f"inferred: {reason}"))
    schema = Schema(tuple(specs)).with_overrides(overrides)
    for c in schema.columns:
        if c.kind.excluded:
            notices.append(
                f"Column {c.name!r} is excluded from attacks and metrics ({c.reason}). "
                f"Override it in the [columns] table of the config if it is a real attribute."
            )
    return Schema(schema.columns, tuple(notices))
