"""Writing an :class:`AuditReport` to a directory, atomically and without destroying earlier work.

Files written (names are part of the public contract)::

    report.json          the versioned report (AuditReport.to_dict)
    report.html          the self-contained page
    audit_card.md        the Markdown audit card
    per_record.csv       one row per (attack, attacked record)
    exposed_records.csv  training records ranked by the number of attacks that succeeded on them
    audit_card_images/   the images of the report's sections, which the card links (only when the
                         report has section images; report.html embeds them)
    dpia.md, dpia.json   the DPIA evidence, when the caller passes it (``extra_files``); the card
                         then links dpia.md

Every file is written to a temporary file in the same directory and moved into place with
``os.replace``, so a reader never sees a half-written file. All documents are rendered before the
first file is written, and ``report.json`` is moved into place last: a directory holds a
``report.json`` only once everything beside it is complete. A directory that already holds any of
these files is refused unless ``overwrite=True`` (the message names them).

Every CSV goes through :func:`safe_csv_frame`: a text cell (or column name) that a spreadsheet would
read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed
with a single quote, as OWASP recommends against CSV injection. Numbers are left alone (``-3`` in a
numeric column is a number, not a formula).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synth_audit.errors import SynthAuditError
from synth_audit.report.card import render_audit_card, section_image_files
from synth_audit.report.html import render_html
from synth_audit.report.model import AuditReport

__all__ = ["REPORT_FILES", "check_out_dir", "csv_bytes", "safe_csv_frame", "write_report"]

REPORT_FILES = (
    "report.html",
    "audit_card.md",
    "per_record.csv",
    "exposed_records.csv",
    "report.json",
)


def check_out_dir(out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an output directory that would lose a stored report; return it as a Path.

    Called by :func:`write_report` and, before any work, by the CLI (so a long audit does not run
    only to be refused at the end).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SynthAuditError(
            f"The output path {str(out)!r} exists and is not a directory. Choose another --out."
        )
    existing = [name for name in REPORT_FILES if (out / name).exists()] if out.is_dir() else []
    if existing and not overwrite:
        what = ("a report" if "report.json" in existing else "report files") + (
            f" ({', '.join(existing)})"
        )
        raise SynthAuditError(
            f"The directory {str(out)!r} already holds {what}, which this audit would replace. "
            f"Pass --overwrite to replace them, or choose another --out; nothing stored there has "
            f"been changed."
        )
    return out


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as spreadsheet formulas.

    Only text is changed: cells of object, string and categorical columns (and column names) that
    start with ``= + - @``, a tab or a carriage return get a leading ``'``. Numeric columns are left
    as they are, so a negative number stays a number.
    """
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out.isetitem(i, col.map(_neutralise, na_action="ignore"))
    out.columns = [_neutralise(c) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV (no index, ``\\n`` line ends), formula-neutralised."""
    return safe_csv_frame(df).to_csv(index=False, lineterminator="\n").encode("utf-8")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)  # mkstemp creates 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _section_images(report: AuditReport) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for (name, i), rel in section_image_files(report).items():
        img = report.sections[name]["images"][i]
        try:
            out[rel] = base64.b64decode(str(img.get("data_base64", "")), validate=True)
        except (binascii.Error, ValueError):
            raise SynthAuditError(
                f"Report section {name!r}, image {i + 1} ({img.get('title', '')!r}) does not hold "
                "valid base64 data. Rebuild the section with synth_audit.report.sections.image."
            ) from None
    return out


def write_report(
    report: AuditReport,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write every report file into ``out_dir`` (created if needed); return {file name: path}.

    ``extra_files``: further documents ``{file name: bytes}`` written with the report (before
    report.json), such as ``dpia.md`` and ``dpia.json``; the card links ``dpia.md`` when given.
    """
    out = check_out_dir(out_dir, overwrite=overwrite)
    per_record = report.per_record()
    extra = dict(extra_files or {})
    bad = sorted(
        n for n in extra if n in REPORT_FILES or "/" in n or "\\" in n or n.startswith(".")
    )
    if bad:
        raise SynthAuditError(
            f"Extra report files {bad} would replace a report file or leave the directory; "
            "pass plain new file names."
        )
    images = _section_images(report)
    card = render_audit_card(
        report,
        image_files=section_image_files(report),
        dpia_link="dpia.md" if "dpia.md" in extra else None,
    )
    contents: dict[str, bytes] = {
        "report.html": render_html(
            report, dpia_link="dpia.md" if "dpia.md" in extra else None
        ).encode("utf-8"),
        "audit_card.md": card.encode("utf-8"),
        "per_record.csv": csv_bytes(per_record),
        "exposed_records.csv": csv_bytes(report.exposed_records(top=sys.maxsize)),
        **images,
        **extra,
        "report.json": (report.to_json() + "\n").encode("utf-8"),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        if images:
            (out / "audit_card_images").mkdir(exist_ok=True)
    except OSError as exc:
        raise SynthAuditError(
            f"Cannot create the output directory {str(out)!r}: {exc.strerror or exc}. Choose another --out."
        ) from None
    mode = 0o666 & ~_umask()
    paths: dict[str, Path] = {}
    order = [n for n in contents if n != "report.json"] + ["report.json"]
    for name in order:  # report.json last
        path = out / name
        try:
            _atomic_write(path, contents[name], mode)
        except OSError as exc:
            raise SynthAuditError(
                f"Cannot write {str(path)!r}: {exc.strerror or exc}. Check the permissions and free "
                f"space of the output directory, or choose another --out."
            ) from None
        paths[name] = path
    return paths
