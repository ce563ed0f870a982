"""Loading, validating and aligning the three inputs of a release audit.

``train``      the real records the release was made from (the people at risk);
``synthetic``  the release;
``control``    real records from the same population that were *never* used (holdout).

Everything here raises :class:`~synth_audit.errors.DataValidationError` with a message that names the
input (file), the column and the remedy. Nothing is pickled: CSV and Parquet only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import DataValidationError, format_names
from synth_audit.results import AuditWarning
from synth_audit.schema import (
    MAX_ABS_NUMBER,
    ColumnKind,
    Schema,
    code_like_columns,
    infer_schema,
    parse_numbers,
    to_number,
)

__all__ = [
    "NO_CONTROL_MESSAGE",
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


_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_BYTES = 1 << 16
_SNIFF_LINES = 20


def _head_lines(head: bytes) -> list[str]:
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) >= _SNIFF_BYTES and lines:
        lines = lines[:-1]  # the last line may be cut off
    return [ln for ln in lines[: _SNIFF_LINES + 1] if ln.strip()]


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def _csv_layout(head: bytes, name: str, suffix: str) -> tuple[str, str]:
    """``(sep, decimal)`` for a CSV whose first bytes are ``head``; refuses repeated column names.

    A ``.csv`` whose header has a single field with a semicolon, tab or pipe in it is read with that
    delimiter when the first lines agree on the number of fields (European spreadsheets write
    ``;``-separated files, often with decimal commas).
    """
    lines = _head_lines(head)
    if not lines:
        return ("\t" if suffix == ".tsv" else ","), "."
    header = lines[0]
    sep = "\t" if suffix == ".tsv" else ","
    if len(_fields(header, sep)) == 1:
        counts = {d: len(_fields(header, d)) for d in _DELIMITERS if d != sep}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] > 1:
            rows = [len(_fields(ln, best)) for ln in lines[1:]]
            if any(n != counts[best] for n in rows):
                raise DataValidationError(
                    f"{name} looks {_DELIMITERS[best]}-delimited (its header has "
                    f"{counts[best]} {_DELIMITERS[best]}-separated names and no comma), but its "
                    f"first rows do not have {counts[best]} fields each. Save it as a "
                    f"comma-separated CSV with one header row."
                )
            sep = best
    names = [n.strip() for n in _fields(header, sep)]
    dup = {n for n, k in Counter(names).items() if k > 1}
    if dup:
        raise DataValidationError(
            f"{name} repeats the column name(s) {format_names(dup)} in its header; a CSV reader would "
            f"rename the copies (e.g. {sorted(dup)[0] + '.1'!r}) and audit them as separate columns. "
            f"Rename or drop the repeated columns so every column name is unique."
        )
    decimal = "."
    if sep == ";" and any(_DECIMAL_COMMA.search(ln) for ln in lines[1:]):
        decimal = ","
    return sep, decimal


_DECIMAL_COMMA = re.compile(r"(^|;)\s*-?\d+,\d+\s*(;|$)")


def _read(source: Path | bytes, name: str, suffix: str) -> pd.DataFrame:
    kind = "Parquet" if suffix in (".parquet", ".pq") else "CSV"
    try:
        if kind == "Parquet":
            return pd.read_parquet(source if isinstance(source, Path) else io.BytesIO(source))
        if isinstance(source, Path):
            with source.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        else:
            head = source[:_SNIFF_BYTES]
        sep, decimal = _csv_layout(head, name, suffix)
        return pd.read_csv(
            source if isinstance(source, Path) else io.BytesIO(source),
            sep=sep,
            decimal=decimal,
            low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"{name} is empty (no header, no rows). Provide a CSV with a header row, or a Parquet file."
        ) from None
    except PermissionError:
        raise DataValidationError(
            f"{name} cannot be read: permission denied. Give the user running synth-audit read "
            f"access to it (e.g. chmod u+r), or copy it somewhere readable."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        if isinstance(exc, DataValidationError):
            raise
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
    return _read(data, name, suffix)


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
        return to_number(s)
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


def _examples(values: pd.Series, limit: int = 5) -> str:
    uniq = list(dict.fromkeys(values.tolist()))
    shown = ", ".join(repr(v) for v in uniq[:limit])
    return shown + (f" and {len(uniq) - limit} other(s)" if len(uniq) > limit else "")


def _nested_columns(df: pd.DataFrame) -> list[str]:
    """Columns holding lists, arrays, dicts or sets (Parquet list/struct/map columns)."""
    out = []
    for c in df.columns:
        s = df[c]
        if s.dtype != object:
            continue
        if s.map(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray)).any():
            out.append(str(c))
    return out


def _row_hashes(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(df[cols], index=False).to_numpy()


@dataclass(frozen=True)
class _Overlap:
    rows: int  # control rows that equal some training row
    share: float
    expected_share: (
        float  # coincidences expected between independent records (repeats within train)
    )
    p_value: float  # chance of at least ``rows`` coincidences if control were independent


def _overlap(train: pd.DataFrame, control: pd.DataFrame, cols: list[str]) -> _Overlap:
    from scipy.stats import binom

    ht, hc = _row_hashes(train, cols), _row_hashes(control, cols)
    shared = int(np.isin(hc, ht).sum())
    m, n = len(hc), len(ht)
    # Share of training rows that repeat another training row: how often a fresh record from the
    # same population meets an identical one in a table of this size. At least one row's worth, so
    # that a single chance coincidence in a table without repeats is not called an overlap.
    _, counts = np.unique(ht, return_counts=True)
    repeated = int(counts[counts > 1].sum())
    expected = min(1.0, max(repeated, 1) / max(n, 1))
    p_value = float(binom.sf(shared - 1, m, expected)) if shared else 1.0
    return _Overlap(shared, shared / m if m else 0.0, expected, p_value)


# Shared train/control rows are an overlap when their count is improbable for independent records
# (below this chance) and clearly above the expected coincidences (the expected share is itself
# estimated from train, so a margin keeps coarse tables, where coincidences are common, quiet).
OVERLAP_P_VALUE = 1e-3
OVERLAP_MIN_RATIO = 1.5
OVERLAP_MIN_EXCESS = 0.005
# Below this chance, a control set made only of training rows is the training data itself.
IDENTICAL_P_VALUE = 1e-6


def prepare_inputs(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame | None = None,
    *,
    column_kinds: Mapping[str, str | ColumnKind] | None = None,
    sources: Mapping[str, str] | None = None,
    schema: Schema | None = None,
    check_control: bool = True,
) -> AuditData:
    """Validate and align the inputs. Collects every problem and raises once.

    ``sources`` maps "train"/"synthetic"/"control" to a name used in messages (usually the file path).

    With ``check_control`` (the default) ``control`` is a holdout: a control set that is the training
    data (the same file, or only training rows) is refused, and rows shared with train give a
    ``control_overlap`` warning; the figures are in ``fingerprints["control"]`` (``overlap_rows``,
    ``overlap_share``, ``overlap_expected_share``). Pass ``check_control=False`` only to coerce a third
    table that is not a control set (the membership attacks do).

    Text in a numeric or datetime column of train that cannot be read as such, ±inf, and numbers too
    large to measure a range on (above :data:`synth_audit.schema.MAX_ABS_NUMBER`) become missing
    values with a ``coerced_values`` warning naming the column and values. In the release and the
    control set such text is an error, unless train holds the same strings. Identifier columns
    (kind ``id``) may be absent from the release and the control set.
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
            problems.append(
                f"The {role} input ({src[role]}) has a header but no rows. Give the file with its "
                f"data rows."
            )
        elif len(df) == 1:
            problems.append(
                f"The {role} input ({src[role]}) has a single row; attacks and confidence intervals "
                f"need many records (hundreds at least). Give the whole table."
            )
        dup_cols = df.columns[df.columns.duplicated()]
        if len(dup_cols):
            problems.append(
                f"The {role} input ({src[role]}) repeats the column name(s) {format_names(dup_cols)}; "
                f"rename them so every column name is unique."
            )
        nested = _nested_columns(df)
        if nested:
            problems.append(
                f"Column(s) {format_names(nested)} of the {role} input ({src[role]}) hold lists, "
                f"arrays or records (Parquet list/struct/map columns), which cannot be audited. "
                f"Flatten them into one column per value, or drop them."
            )
    if problems:
        raise DataValidationError(" ".join(problems))

    ref_cols = [str(c) for c in train.columns]
    # Positional rows from here on: a caller's index (filtered frames, duplicate labels) must not
    # re-align values when columns are rebuilt.
    raw = {role: df.rename(columns=str).reset_index(drop=True) for role, df in frames.items()}

    all_nan = [c for c in ref_cols if raw["train"][c].isna().all()]
    if all_nan:
        raise DataValidationError(
            f"Column(s) {format_names(all_nan)} in train ({src['train']}) contain only missing values; "
            f"drop them or fill them before auditing."
        )

    if schema is None:
        schema = infer_schema(raw["train"], column_kinds)
    else:
        schema = schema.with_overrides(column_kinds)
    optional = set(schema.excluded)  # identifiers: never attacked, so a release may leave them out

    for role, df in raw.items():
        if role == "train":
            continue
        cols = {str(c) for c in df.columns}
        missing = set(ref_cols) - cols - optional
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
                f"({src['train']}): {'; '.join(parts)}. Rename, add or drop columns so that all "
                f"inputs share the same columns (identifier columns excluded from the attacks may "
                f"be left out)."
            )
    if problems:
        raise DataValidationError(" ".join(problems))
    present = {role: [c for c in ref_cols if c in df.columns] for role, df in raw.items()}

    warnings: list[AuditWarning] = [AuditWarning("column_excluded", n) for n in schema.notices]
    for name, why in code_like_columns(raw["train"], schema).items():
        warnings.append(
            AuditWarning(
                "code_like_column",
                f"Column {name!r} is audited as a numeric measurement, but {why}: if it is an "
                f"identifier, distances between ids mean nothing, and a code (occupation, "
                f'industry, region) has no order. Declare its kind: {name} = "id" (excluded from '
                f'the attacks) or {name} = "categorical" in the [columns] table of the config, or '
                f'--columns {name}=id on the command line; declare "numeric" to keep it and '
                f"silence this notice.",
            )
        )

    coerced: dict[str, pd.DataFrame] = {}
    train_junk: dict[str, set[str]] = {}
    for role, df in raw.items():
        out = {}
        for spec in schema.columns:
            if spec.name not in df.columns:
                out[spec.name] = pd.Series(np.nan, index=pd.RangeIndex(len(df)), dtype=object)
                continue
            s = df[spec.name]
            c = _coerce(s, spec.kind)
            out[spec.name] = c
            if spec.kind not in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
                continue
            lost = s.notna() & c.isna()
            if not lost.any():
                continue
            # Numeric: text that is no number at all; the rest of ``lost`` is ±inf or too large.
            numeric = spec.kind is ColumnKind.NUMERIC
            unreadable = lost & parse_numbers(s).isna() if numeric else lost
            too_big = lost & ~unreadable
            text = s[unreadable].astype(str)
            if role == "train":
                train_junk[spec.name] = set(text)
            elif unreadable.any() and not set(text) <= train_junk.get(spec.name, set()):
                problems.append(
                    f"Column {spec.name!r} holds {spec.kind.value} values in train ({src['train']}) "
                    f"but {_describe_dtype(s)} in {role} ({src[role]}), e.g. {text.iloc[0]!r} "
                    f"({int(unreadable.sum())} value(s) cannot be read as {spec.kind.value}: "
                    f"{_examples(text)}). Fix those values, or declare the column's kind in the "
                    f"[columns] table of the config."
                )
                continue
            parts = []
            if unreadable.any():
                parts.append(
                    f"{int(unreadable.sum())} value(s) that are not {spec.kind.value} "
                    f"({_examples(s[unreadable])})"
                )
            if too_big.any():
                parts.append(
                    f"{int(too_big.sum())} infinite or too large number(s) "
                    f"({_examples(s[too_big])}; magnitudes above {MAX_ABS_NUMBER:.1e} leave no "
                    f"measurable range)"
                )
            share = float(lost.mean())
            warnings.append(
                AuditWarning(
                    "coerced_values",
                    f"Column {spec.name!r} of {role} ({src[role]}) is read as {spec.kind.value}; "
                    f"{' and '.join(parts)} count as missing ({share:.1%} of its rows). Fix those "
                    f"values, or declare the column's kind in the [columns] table of the config "
                    f"(--columns {spec.name}=categorical on the command line) if they are "
                    f"categories.",
                )
            )
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

    fps: dict[str, dict[str, Any]] = {role: fingerprint(raw[role]) for role in raw}
    if fps["synthetic"]["sha256"] == fps["train"]["sha256"]:
        warnings.append(
            AuditWarning(
                "release_is_train",
                f"The release ({src['synthetic']}) is the training data ({src['train']}) itself, "
                f"row for row: every training record is published verbatim.",
            )
        )

    if "control" in coerced:
        if check_control:
            _check_control(coerced, raw, present, fps, src, warnings)
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
        warnings.append(AuditWarning("no_control", NO_CONTROL_MESSAGE))

    return AuditData(
        train=coerced["train"],
        synthetic=coerced["synthetic"],
        control=coerced.get("control"),
        schema=schema,
        warnings=tuple(warnings),
        fingerprints=fps,
        sources=src,
    )


NO_CONTROL_MESSAGE = (
    "The audit ran without a control set, as asked (--no-control / no_control=True). Each risk is "
    "then the attack's raw success rate on training records: nothing is subtracted, neither a "
    "control rate nor the naive baseline, so a risk includes what anyone could infer about the "
    "population and can be high where a naive guess succeeds as often (compare it with the "
    "baseline rate beside it). The DCR diagnostic and ML efficacy need a control set and were "
    "skipped. Hold out real records never used for the release and pass them as the control set."
)


def _check_control(
    coerced: Mapping[str, pd.DataFrame],
    raw: Mapping[str, pd.DataFrame],
    present: Mapping[str, list[str]],
    fps: dict[str, dict[str, Any]],
    src: Mapping[str, str],
    warnings: list[AuditWarning],
) -> None:
    """Refuse a control set that is the training data; warn when the two share rows."""
    remedy = (
        "The control set must be real records from the same population that were never used to "
        "make the release (a holdout kept aside before generating it); otherwise the control attack "
        "succeeds as the attack does and every risk reads as zero."
    )
    if fps["control"]["sha256"] == fps["train"]["sha256"]:
        raise DataValidationError(
            f"The control input ({src['control']}) is the training data ({src['train']}): both hold "
            f"the same rows (SHA-256 {fps['train']['sha256'][:12]}…). {remedy}"
        )
    cols = [c for c in present["control"] if c in present["train"]]
    ov = _overlap(coerced["train"], coerced["control"], cols)
    m = len(coerced["control"])
    fps["control"].update(
        overlap_rows=ov.rows,
        overlap_share=round(ov.share, 6),
        overlap_expected_share=round(ov.expected_share, 6),
    )
    if ov.rows == m and ov.p_value < IDENTICAL_P_VALUE:
        raise DataValidationError(
            f"Every one of the {m} rows of the control input ({src['control']}) is also a row of the "
            f"training data ({src['train']}): the control set is training data. {remedy}"
        )
    material = ov.share > OVERLAP_MIN_RATIO * ov.expected_share + OVERLAP_MIN_EXCESS
    if ov.rows and ov.p_value < OVERLAP_P_VALUE and material:
        warnings.append(
            AuditWarning(
                "control_overlap",
                f"{ov.rows} of the {m} control rows ({ov.share:.1%}) are also rows of train "
                f"({src['train']}), value for value; records drawn independently from the same "
                f"population would coincide for about {ov.expected_share:.1%} (judged from rows that "
                f"repeat within train). Shared rows make the control attack succeed like the attack "
                f"and understate every risk. Remove training records from the control set "
                f"({src['control']}).",
            )
        )


def split_frame(
    df: pd.DataFrame, sizes: Mapping[str, int], *, random_state: int
) -> dict[str, pd.DataFrame]:
    """Disjoint random subsets of ``df`` of the given sizes (e.g. train / control / reference):
    :func:`synth_audit.datasets.split_units` over its rows (one row per person)."""
    from synth_audit.datasets import split_units

    total = sum(sizes.values())
    if total > len(df):
        raise DataValidationError(
            f"The split asks for {total} rows ({', '.join(f'{k}={v}' for k, v in sizes.items())}) "
            f"but the data has {len(df)}. Reduce the sizes."
        )
    parts = split_units(len(df), sizes, random_state=random_state)
    return {name: df.iloc[idx].reset_index(drop=True) for name, idx in parts.items()}
