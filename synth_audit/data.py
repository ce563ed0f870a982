"""Loading, validating and aligning the three inputs of a release audit.

``train``      the real records the release was made from (the people at risk);
``synthetic``  the release;
``control``    real records from the same population that were *never* used (holdout).

Everything here raises :class:`~synth_audit.errors.DataValidationError` with a message that names the
input (file), the column and the remedy. Nothing is pickled: CSV and Parquet only.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import DataValidationError, format_names
from synth_audit.results import AuditWarning
from synth_audit.schema import ColumnKind, Schema, infer_schema

__all__ = [
    "AuditData",
    "fingerprint",
    "load_table",
    "prepare_inputs",
    "read_table_bytes",
    "split_frame",
]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
# Below this many control records the control rate's 95 % CI is wider than about ±0.07.
MIN_CONTROL_ROWS = 200


def _read(source: Any, name: str, suffix: str) -> pd.DataFrame:
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(source)
        sep = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(source, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"{name} is empty (no header, no rows). Provide a CSV with a header row, or a Parquet file."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        kind = "Parquet" if suffix in (".parquet", ".pq") else "CSV"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(
            f"{name} could not be read as {kind}: {first}. Check that the file is a {kind} table "
            f"(UTF-8 text with a header row for CSV)."
        ) from None


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file. Never unpickles anything."""
    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"File {str(p)!r} does not exist. Check the path.")
    if p.is_dir():
        raise DataValidationError(
            f"{str(p)!r} is a directory; give the path of a CSV or Parquet file."
        )
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataValidationError(
            f"File {str(p)!r} has the extension {suffix or '(none)'!r}; supported are "
            f"{', '.join(SUPPORTED_SUFFIXES)}. Convert it to CSV or Parquet."
        )
    return _read(p, f"File {str(p)!r}", suffix)


def read_table_bytes(data: bytes, filename: str, *, max_bytes: int | None = None) -> pd.DataFrame:
    """Read an uploaded table (CSV or Parquet, chosen by ``filename``'s extension)."""
    suffix = Path(filename).suffix.lower()
    name = f"Upload {filename!r}"
    if max_bytes is not None and len(data) > max_bytes:
        raise DataValidationError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            f"Upload a sample of the rows."
        )
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataValidationError(
            f"{name} has the extension {suffix or '(none)'!r}; supported are "
            f"{', '.join(SUPPORTED_SUFFIXES)}."
        )
    if suffix in (".parquet", ".pq") and not data.startswith(b"PAR1"):
        raise DataValidationError(f"{name} is not a Parquet file (no PAR1 magic bytes).")
    return _read(io.BytesIO(data), name, suffix)


def fingerprint(df: pd.DataFrame) -> dict[str, Any]:
    """A content hash (order-sensitive) plus shape; identifies an input in reports and the store."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return {"sha256": h.hexdigest(), "n_rows": len(df), "n_columns": df.shape[1]}


@dataclass(frozen=True)
class AuditData:
    """The three inputs, validated, with identical columns in the same order and coerced types."""

    train: pd.DataFrame
    synthetic: pd.DataFrame
    control: pd.DataFrame | None
    schema: Schema
    warnings: tuple[AuditWarning, ...] = field(default=())
    fingerprints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return self.schema.used


_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def _canonical_category(s: pd.Series) -> pd.Series:
    """Strings for categories, so '1' in a CSV and 1.0 in Parquet are the same category."""
    out = s.astype(object).copy()
    mask = s.notna()
    vals = s[mask]
    if pd.api.types.is_numeric_dtype(vals) and not pd.api.types.is_bool_dtype(vals):
        f = vals.astype(float)
        integral = np.mod(f.to_numpy(), 1) == 0
        out.loc[mask] = [str(int(v)) if i else repr(float(v)) for v, i in zip(f, integral)]
    else:
        out.loc[mask] = vals.astype(str)
    return out


def _canonical_bool(s: pd.Series) -> pd.Series:
    out = _canonical_category(s)
    mask = out.notna()
    lowered = out[mask].astype(str).str.lower()
    mapped = lowered.map(lambda v: "true" if v in _TRUE else ("false" if v in _FALSE else v))
    out.loc[mask] = mapped
    return out


def _coerce(s: pd.Series, kind: ColumnKind) -> pd.Series:
    if kind is ColumnKind.NUMERIC:
        if pd.api.types.is_bool_dtype(s):
            return s.astype(float)
        return pd.to_numeric(s, errors="coerce").astype(float)
    if kind is ColumnKind.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(s):
            return pd.to_datetime(s, utc=True)
        return pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    if kind is ColumnKind.BOOLEAN:
        return _canonical_bool(s)
    return _canonical_category(s)


def _describe_dtype(s: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(s):
        return f"numbers ({s.dtype})"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "dates"
    return f"text ({s.dtype})"


def prepare_inputs(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame | None = None,
    *,
    column_kinds: Mapping[str, str | ColumnKind] | None = None,
    sources: Mapping[str, str] | None = None,
    schema: Schema | None = None,
) -> AuditData:
    """Validate and align the inputs. Collects every problem and raises once.

    ``sources`` maps "train"/"synthetic"/"control" to a name used in messages (usually the file path).
    """
    src = {"train": "train", "synthetic": "synthetic", "control": "control"}
    if sources:
        src.update({k: str(v) for k, v in sources.items()})
    frames: dict[str, pd.DataFrame] = {"train": train, "synthetic": synthetic}
    if control is not None:
        frames["control"] = control

    problems: list[str] = []
    for role, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError(f"The {role} input ({src[role]}) is not a table.")
        if df.shape[1] == 0:
            problems.append(f"The {role} input ({src[role]}) has no columns.")
        elif len(df) == 0:
            problems.append(f"The {role} input ({src[role]}) has a header but no rows.")
        elif len(df) == 1:
            problems.append(
                f"The {role} input ({src[role]}) has a single row; attacks and confidence intervals "
                f"need many records (hundreds at least)."
            )
        dup_cols = df.columns[df.columns.duplicated()]
        if len(dup_cols):
            problems.append(
                f"The {role} input ({src[role]}) repeats the column name(s) {format_names(dup_cols)}; "
                f"rename them so every column name is unique."
            )
    if problems:
        raise DataValidationError(" ".join(problems))

    ref_cols = [str(c) for c in train.columns]
    for role, df in frames.items():
        if role == "train":
            continue
        cols = {str(c) for c in df.columns}
        missing = set(ref_cols) - cols
        extra = cols - set(ref_cols)
        if missing or extra:
            parts = []
            if missing:
                parts.append(
                    f"it lacks {len(missing)} column(s) that train has: {format_names(missing)}"
                )
            if extra:
                parts.append(
                    f"it has {len(extra)} column(s) that train lacks: {format_names(extra)}"
                )
            problems.append(
                f"The {role} input ({src[role]}) does not have the same columns as train "
                f"({src['train']}): {'; '.join(parts)}. All inputs must share the same columns."
            )
    if problems:
        raise DataValidationError(" ".join(problems))

    # Positional rows from here on: a caller's index (filtered frames, duplicate labels) must not
    # re-align values when columns are rebuilt.
    frames = {
        role: df.rename(columns=str)[ref_cols].reset_index(drop=True) for role, df in frames.items()
    }

    all_nan = [c for c in ref_cols if frames["train"][c].isna().all()]
    if all_nan:
        problems.append(
            f"Column(s) {format_names(all_nan)} in train ({src['train']}) contain only missing values; "
            f"drop them or fill them before auditing."
        )
    if problems:
        raise DataValidationError(" ".join(problems))

    if schema is None:
        schema = infer_schema(frames["train"], column_kinds)
    else:
        schema = schema.with_overrides(column_kinds)

    warnings: list[AuditWarning] = [AuditWarning("column_excluded", n) for n in schema.notices]
    coerced: dict[str, pd.DataFrame] = {}
    for role, df in frames.items():
        out = {}
        for spec in schema.columns:
            s = df[spec.name]
            c = _coerce(s, spec.kind)
            if role != "train" and spec.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
                bad = s.notna() & c.isna()
                if bad.any():
                    example = s[bad].iloc[0]
                    problems.append(
                        f"Column {spec.name!r} holds {spec.kind.value} values in train ({src['train']}) "
                        f"but {_describe_dtype(s)} in {role} ({src[role]}), e.g. {example!r} "
                        f"({int(bad.sum())} value(s) cannot be read as {spec.kind.value}). Fix those "
                        f"values, or declare the column's kind in the [columns] table of the config."
                    )
            out[spec.name] = c
        coerced[role] = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    if problems:
        raise DataValidationError(" ".join(problems))

    for role, df in coerced.items():
        if role == "train":
            continue
        nan_cols = [c for c in schema.used if df[c].isna().all()]
        if nan_cols:
            warnings.append(
                AuditWarning(
                    "all_missing_column",
                    f"Column(s) {format_names(nan_cols)} are entirely missing in {role} "
                    f"({src[role]}); attacks using them see no information there.",
                )
            )

    if not schema.used:
        raise DataValidationError(
            f"No usable columns: every column of train ({src['train']}) was classed as an identifier "
            f"or free text ({format_names(schema.excluded)}). Declare kinds in the [columns] table."
        )

    if "control" in coerced:
        n_ctrl = len(coerced["control"])
        if n_ctrl < MIN_CONTROL_ROWS:
            half = 1.96 * np.sqrt(0.25 / n_ctrl)
            warnings.append(
                AuditWarning(
                    "small_control",
                    f"The control set ({src['control']}) has {n_ctrl} rows; with fewer than "
                    f"{MIN_CONTROL_ROWS} rows the control rates' 95 % CIs can be as wide as ±{half:.2f}, "
                    f"so risks are imprecise. Hold out more real records if you can.",
                )
            )
        n_train = len(coerced["train"])
        if n_ctrl and not 0.5 <= n_train / n_ctrl <= 2:
            warnings.append(
                AuditWarning(
                    "unbalanced_control",
                    f"train has {n_train} rows and control {n_ctrl}. Singling-out counts depend on the "
                    f"size of the set queried, so those queries are evaluated on equal-size random "
                    f"subsets (see the README).",
                )
            )
    else:
        warnings.append(
            AuditWarning(
                "no_control",
                "No control (holdout) set was given: risks cannot be separated from what the "
                "population reveals anyway, and are reported without control correction.",
            )
        )

    fps = {role: fingerprint(frames[role]) for role in frames}
    return AuditData(
        train=coerced["train"],
        synthetic=coerced["synthetic"],
        control=coerced.get("control"),
        schema=schema,
        warnings=tuple(warnings),
        fingerprints=fps,
        sources=src,
    )


def split_frame(
    df: pd.DataFrame, sizes: Mapping[str, int], *, random_state: int
) -> dict[str, pd.DataFrame]:
    """Disjoint random subsets of ``df`` of the given sizes (e.g. train / control / reference)."""
    total = sum(sizes.values())
    if total > len(df):
        raise DataValidationError(
            f"The split asks for {total} rows ({', '.join(f'{k}={v}' for k, v in sizes.items())}) "
            f"but the data has {len(df)}. Reduce the sizes."
        )
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(df))
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = df.iloc[order[start : start + n]].reset_index(drop=True)
        start += n
    return out
