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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, format_names

__all__ = [
    "ColumnKind",
    "ColumnSpec",
    "Schema",
    "code_like_columns",
    "infer_schema",
    "parse_numbers",
    "to_number",
]

# An integer column with at most this many distinct values is treated as categorical (codes, scales).
MAX_INT_CATEGORIES = 10
# A string column whose share of distinct values exceeds this (with enough rows) is an identifier.
ID_UNIQUE_SHARE = 0.9
ID_MIN_ROWS = 20
TEXT_MEAN_LENGTH = 40
# A text column is numeric when at least this share of its non-missing values reads as numbers; the
# others (stray strings such as "abc", "n/a") become missing, with a ``coerced_values`` warning.
NUMERIC_SHARE = 0.95
# Numbers beyond this magnitude cannot be measured on a range: the difference of two of them
# overflows (max - min of ±1e308 is inf), so they are treated as missing like ±inf.
MAX_ABS_NUMBER = float(np.finfo(np.float64).max) / 4
# Integer columns whose name has one of these words (or contains "code") look like ids or codes.
_CODE_WORDS = {
    "id",
    "ids",
    "pid",
    "key",
    "zip",
    "zipcode",
    "postcode",
    "postal",
    "fips",
    "occupation",
    "occ",
    "industry",
    "naics",
    "isco",
    "sic",
}
_ZERO_PADDED = re.compile(r"^0\d+$")


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
                f"[columns] overrides (--columns on the command line) name columns that are not in "
                f"the data: {format_names(unknown)}. Known columns: "
                f"{format_names(self.names, limit=40)}. Fix the names in the [columns] table or "
                f"the --columns flag."
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


def parse_numbers(s: pd.Series) -> pd.Series:
    """``s`` as float, everything that reads as a number included (±inf, integers beyond int64);
    NaN where a value is missing or is not a number."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    values = s.astype(object).map(
        lambda v: v.strip() if isinstance(v, str) else v, na_action="ignore"
    )
    return pd.to_numeric(values, errors="coerce").astype(float)


def to_number(s: pd.Series) -> pd.Series:
    """``s`` as float, as audited: :func:`parse_numbers`, with ±inf and magnitudes above
    :data:`MAX_ABS_NUMBER` (whose differences overflow) turned into NaN as well."""
    out = parse_numbers(s)
    return out.where(np.isfinite(out) & (out.abs() <= MAX_ABS_NUMBER))


def _numbers_in_text(non_null: pd.Series) -> pd.Series | None:
    """The parsed numbers when ≥ NUMERIC_SHARE of a text column's values read as numbers, else None.

    Zero-padded digit strings ("01234") are codes, never numbers.
    """
    if non_null.empty:
        return None
    as_str = non_null.astype(str).str.strip()
    if as_str.str.match(_ZERO_PADDED).any():
        return None
    parsed = pd.to_numeric(as_str, errors="coerce").astype(float)
    if float(parsed.notna().mean()) < NUMERIC_SHARE:
        return None
    finite = parsed[np.isfinite(parsed) & (parsed.abs() <= MAX_ABS_NUMBER)]
    return finite if len(finite) else None


def _infer_kind(s: pd.Series) -> tuple[ColumnKind, str]:
    non_null = s.dropna()
    if (
        not pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
        and not pd.api.types.is_datetime64_any_dtype(s)
    ):
        numbers = _numbers_in_text(non_null)
        if numbers is not None:
            kind, reason = _infer_kind(numbers.rename(s.name))
            n_bad = len(non_null) - len(numbers)
            if n_bad:
                reason += f"; {n_bad} value(s) are not numbers and count as missing"
            return kind, f"{reason} (read from text)"
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


def _name_words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w}


def code_like_columns(df: pd.DataFrame, schema: Schema) -> dict[str, str]:
    """Inferred numeric columns of whole numbers that look like ids or codes: column -> why.

    Flagged: a name with a word such as ``id``, ``code``, ``zip``, ``occupation`` or ``industry``; or
    more than :data:`ID_UNIQUE_SHARE` of the values distinct (a person id in a panel, a code list).
    Columns whose kind was declared are never flagged.
    """
    out: dict[str, str] = {}
    for spec in schema.columns:
        if spec.kind is not ColumnKind.NUMERIC or not spec.reason.startswith("inferred"):
            continue
        values = to_number(df[spec.name]).dropna().to_numpy()
        if len(values) == 0 or not np.all(np.mod(values, 1) == 0):
            continue
        words = _name_words(spec.name)
        n_unique = len(np.unique(values))
        if words & _CODE_WORDS or "code" in spec.name.lower():
            out[spec.name] = (
                f"its name reads like an identifier or a code ({n_unique} distinct integers)"
            )
        elif len(values) >= ID_MIN_ROWS and n_unique / len(values) > ID_UNIQUE_SHARE:
            out[spec.name] = (
                f"{n_unique} distinct integers in {len(values)} rows, as identifiers and codes have"
            )
    return out


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
