"""Uploaded tables: read them (CSV or Parquet; never unpickled), check them one by one and together,
and offer the threat model's defaults for their columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synth_audit.errors import DataValidationError, format_names
from synth_audit.service._common import max_upload_bytes

if TYPE_CHECKING:
    import pandas as pd


def load_upload(
    data: bytes, filename: str, *, role: str, max_bytes: int | None = None
) -> pd.DataFrame:
    """Read an uploaded table (CSV or Parquet; never unpickled) and check it is a usable table.

    ``role`` (train, synthetic, control) names the upload in messages; the limit defaults to
    :func:`max_upload_bytes`.
    """
    from synth_audit.data import read_table_bytes

    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if not data:
        raise DataValidationError(
            f"The {role} upload {filename!r} is empty (0 bytes). Upload a CSV with a header row, or "
            "a Parquet file."
        )
    try:
        df = read_table_bytes(data, filename, max_bytes=limit)
    except DataValidationError as exc:
        text = str(exc).replace(f"Upload {filename!r}", f"The {role} upload {filename!r}", 1)
        raise DataValidationError(text) from None
    if df.shape[1] == 0:
        raise DataValidationError(f"The {role} upload {filename!r} has no columns.")
    if len(df) == 0:
        raise DataValidationError(
            f"The {role} upload {filename!r} has a header but no rows. Upload the records too."
        )
    if df.shape[1] == 1 and len(df) > 0 and filename.lower().endswith((".csv", ".txt")):
        col = str(df.columns[0])
        if any(sep in col for sep in (";", "\t", "|")):
            raise DataValidationError(
                f"The {role} upload {filename!r} was read as a single column named {col[:60]!r}: "
                "it does not look like a comma-separated table. Save it as CSV with commas, or as "
                "Parquet."
            )
    return df


#: The column kinds a user may declare (``[columns]`` in audit.toml; the app's kind selectors).
COLUMN_KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean", "datetime", "id")


def inferred_kinds(train: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """``{column: (kind, why)}`` as synth-audit infers them from the training table alone, before
    any override: what the app offers to change. Raises :class:`DataValidationError` for a table
    whose columns cannot be told apart (duplicate names)."""
    from synth_audit.errors import ConfigError
    from synth_audit.schema import infer_schema

    nested = [str(c) for c in train.columns if _holds_nested(train[c])]
    if nested:
        raise DataValidationError(
            f"The training table's column(s) {format_names(nested)} hold lists or records, not "
            "single values. Flatten them into one column per value, or drop them."
        )
    try:
        schema = infer_schema(train)
    except ConfigError as exc:
        raise DataValidationError(str(exc)) from None
    return {c.name: (c.kind.value, c.reason.removeprefix("inferred: ")) for c in schema.columns}


def _holds_nested(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    return bool(
        s.map(lambda v: isinstance(v, list | tuple | dict | set) or hasattr(v, "shape")).any()
    )


@dataclass(frozen=True)
class ReleaseCheck:
    """What the page needs to offer the threat-model choices for three validated tables."""

    columns: list[str]  # usable columns (identifiers and free text excluded)
    excluded: list[str]
    kinds: dict[str, str]
    n_rows: dict[str, int]
    warnings: list[str]


def check_release(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame | None,
    *,
    column_kinds: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> ReleaseCheck:
    """Validate the three tables together (same columns, readable types, enough rows).

    Raises :class:`DataValidationError` naming the files and columns; returns the usable columns.
    """
    from synth_audit.data import prepare_inputs

    if control is None:
        raise DataValidationError(
            "A control file is needed: real records from the same population that were never used "
            "to make the release. Without it a risk cannot be told apart from what the population "
            "reveals anyway."
        )
    sources = {r: f"{r} file {n!r}" for r, n in (names or {}).items()}
    data = prepare_inputs(
        train, synthetic, control, column_kinds=dict(column_kinds or {}), sources=sources
    )
    kinds = {c.name: c.kind.value for c in data.schema.columns}
    return ReleaseCheck(
        columns=list(data.columns),
        excluded=list(data.schema.excluded),
        kinds=kinds,
        n_rows={"train": len(train), "synthetic": len(synthetic), "control": len(control)},
        warnings=[w.message for w in data.warnings],
    )


def default_threat_model(
    columns: Sequence[str], config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults for the page: the config's choices where they fit the columns, else the library's.

    Returns ``{"aux_a": [...], "aux_b": [...], "secrets": [...], "target": str | None}``:
    linkability's two attacker sources (default: the usable columns split in half), the inference
    secrets (default: every usable column in turn) and the ML-efficacy target (default: none).
    """
    from synth_audit.evaluate import default_aux_split

    cols = list(columns)
    cfg = dict(config or {})
    aux = (cfg.get("linkability") or {}).get("aux_cols")
    if aux and len(aux) == 2 and all(set(a) <= set(cols) for a in aux):
        aux_a, aux_b = list(aux[0]), list(aux[1])
    else:
        aux_a, aux_b = [*default_aux_split(cols), [], []][:2]
    secrets = (cfg.get("inference") or {}).get("secrets")
    if isinstance(secrets, list) and secrets and set(secrets) <= set(cols):
        chosen = list(secrets)
    else:
        chosen = cols
    target = (cfg.get("utility") or {}).get("target")
    return {
        "aux_a": aux_a,
        "aux_b": aux_b,
        "secrets": chosen,
        "target": target if target in cols else None,
    }
