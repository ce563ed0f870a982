"""Report sections: the findings of any audit kind, in one shape every renderer understands.

A modality (classifier, language model, time series, diffusion, DPIA, anonymity, PET search) adds
what it found to :attr:`AuditReport.sections <synth_audit.report.model.AuditReport.sections>` as
``{section name: section}``, built with :func:`make_section`. The JSON form of a section::

    title       a heading in plain words ("Canary exposure", "Risk factors")
    kind        what produced it (a short identifier, e.g. "canary_exposure")
    summary     one or two sentences a reader can act on
    findings    [{"name", "value", "ci_low", "ci_high", "confidence_level", "role", "direction",
                  "bounds", "unit", "reading"}]; role is "risk", "utility", "diagnostic" or
                 "evidence" (shown, never folded into a score)
    tables      [{"title", "columns": [...], "rows": [[...], ...]}]
    images      [{"title", "media_type" ("image/png" or "image/svg+xml"), "data_base64", "alt"}]
    warnings    [{"code", "message"}]
    data        any further JSON the producer wants to keep (not rendered)

report.json, report.html, the audit card, the store's result rows (a finding ``f`` of section ``s``
is the row ``s.f`` with its role) and the app render sections without knowing their kind, so a new
kind of finding needs no change in the report, the store, the frontier or the app.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synth_audit.errors import DataValidationError

__all__ = [
    "FINDING_ROLES",
    "finding",
    "image",
    "make_section",
    "section_findings",
    "table",
    "validate_sections",
]

FINDING_ROLES = ("risk", "utility", "diagnostic", "evidence")
_DIRECTIONS = (None, "lower_is_better", "higher_is_better")
_MEDIA = ("image/png", "image/svg+xml")


def _num(v: Any, what: str) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise DataValidationError(f"{what} must be a number or null, got {v!r}.") from None
    return f if math.isfinite(f) else None


def finding(
    name: str,
    value: float | None,
    *,
    role: str = "diagnostic",
    ci: Sequence[float | None] | None = None,
    confidence_level: float | None = None,
    direction: str | None = None,
    bounds: Sequence[float] | None = None,
    unit: str | None = None,
    reading: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One finding of a section (a number with its CI, role and a reading in plain words)."""
    if not name or not isinstance(name, str):
        raise DataValidationError(f"A finding needs a non-empty name, got {name!r}.")
    if role not in FINDING_ROLES:
        raise DataValidationError(
            f"Finding {name!r}: role {role!r} is not one of {', '.join(FINDING_ROLES)}."
        )
    if direction not in _DIRECTIONS:
        raise DataValidationError(
            f"Finding {name!r}: direction {direction!r} is not lower_is_better, higher_is_better "
            "or None."
        )
    lo, hi = (None, None) if ci is None else (ci[0], ci[1])
    out: dict[str, Any] = {
        "name": name,
        "value": _num(value, f"Finding {name!r} value"),
        "ci_low": _num(lo, f"Finding {name!r} ci_low"),
        "ci_high": _num(hi, f"Finding {name!r} ci_high"),
        "confidence_level": _num(confidence_level, f"Finding {name!r} confidence_level"),
        "role": role,
        "direction": direction,
        "bounds": None if bounds is None else [float(b) for b in bounds],
        "unit": unit,
        "reading": reading,
    }
    out.update(extra)
    return out


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """A small table of a section (rendered as is; keep it to what a reader needs)."""
    cols = [str(c) for c in columns]
    body = [list(r) for r in rows]
    bad = [i for i, r in enumerate(body) if len(r) != len(cols)]
    if bad:
        raise DataValidationError(
            f"Table {title!r}: row {bad[0]} has {len(body[bad[0]])} cells for {len(cols)} columns."
        )
    return {"title": str(title), "columns": cols, "rows": body}


def image(
    title: str, data: bytes, *, media_type: str = "image/png", alt: str | None = None
) -> dict[str, Any]:
    """An image of a section (PNG or SVG bytes), embedded so that report.html stays one file."""
    if media_type not in _MEDIA:
        raise DataValidationError(
            f"Image {title!r}: media type {media_type!r} is not one of {_MEDIA}."
        )
    return {
        "title": str(title),
        "media_type": media_type,
        "data_base64": base64.b64encode(bytes(data)).decode("ascii"),
        "alt": alt or str(title),
    }


def make_section(
    title: str,
    kind: str,
    *,
    summary: str = "",
    findings: Iterable[Mapping[str, Any]] = (),
    tables: Iterable[Mapping[str, Any]] = (),
    images: Iterable[Mapping[str, Any]] = (),
    warnings: Iterable[Mapping[str, Any]] = (),
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A report section (see the module's docstring for its JSON form)."""
    sec = {
        "title": str(title),
        "kind": str(kind),
        "summary": str(summary),
        "findings": [dict(f) for f in findings],
        "tables": [dict(t) for t in tables],
        "images": [dict(i) for i in images],
        "warnings": [{"code": str(w["code"]), "message": str(w["message"])} for w in warnings],
        "data": dict(data or {}),
    }
    _check_section("(new section)", sec)
    return sec


def _check_section(name: str, sec: Any) -> None:
    if not isinstance(sec, Mapping):
        raise DataValidationError(f"Report section {name!r} must be an object.")
    for key in ("title", "kind"):
        if not isinstance(sec.get(key), str):
            raise DataValidationError(f"Report section {name!r} lacks a text {key!r}.")
    for key in ("findings", "tables", "images", "warnings"):
        if not isinstance(sec.get(key, []), list):
            raise DataValidationError(f"Report section {name!r}: {key!r} must be a list.")
    seen: set[str] = set()
    for f in sec.get("findings", []):
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str):
            raise DataValidationError(f"Report section {name!r} has a finding without a name.")
        if f.get("role") not in FINDING_ROLES:
            raise DataValidationError(
                f"Report section {name!r}, finding {f['name']!r}: role {f.get('role')!r} is not "
                f"one of {', '.join(FINDING_ROLES)}."
            )
        if f["name"] in seen:
            raise DataValidationError(
                f"Report section {name!r} has two findings named {f['name']!r}."
            )
        seen.add(f["name"])


def validate_sections(sections: Any) -> dict[str, dict[str, Any]]:
    """Check a report's ``sections`` mapping (raises DataValidationError naming what is wrong)."""
    if sections is None:
        return {}
    if not isinstance(sections, Mapping):
        raise DataValidationError("The report's 'sections' must be an object of sections.")
    out: dict[str, dict[str, Any]] = {}
    for name, sec in sections.items():
        _check_section(str(name), sec)
        out[str(name)] = dict(sec)
    return out


def section_findings(sections: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """``(metric name, finding)`` for every finding of every section; the metric is
    ``<section>.<finding>`` (what the store's result rows and the frontier use)."""
    return [
        (f"{name}.{f['name']}", dict(f))
        for name, sec in sections.items()
        for f in sec.get("findings", [])
    ]
