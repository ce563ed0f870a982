"""Report sections: the one shape every audit kind's findings take (report.json, store rows)."""

from __future__ import annotations

import pytest

from synth_audit.errors import DataValidationError
from synth_audit.report.model import AuditReport
from synth_audit.report.sections import finding, image, make_section, table, validate_sections
from synth_audit.schema import Schema
from synth_audit.study.rows import report_rows


def _report(sections: dict) -> AuditReport:
    return AuditReport(
        created_at="2026-12-06T00:00:00+00:00",
        tool_version="0",
        seed=1,
        config={},
        inputs={},
        schema=Schema(columns=()),
        attacks={},
        inference={},
        sections=sections,
    )


def test_section_round_trips_and_becomes_rows_with_roles() -> None:
    sec = make_section(
        "Canary exposure",
        "canary_exposure",
        summary="Canaries inserted 16 times are exposed.",
        findings=[
            finding("max_exposure", 12.5, role="risk", ci=(10.0, 14.0), unit="bits"),
            finding("train_test_gap", 0.2, role="evidence", reading="overfit"),
        ],
        tables=[table("Per canary", ["canary", "exposure"], [["c1", 12.5]])],
        images=[image("grid", b"\x89PNG\r\n")],
        warnings=[{"code": "few_canaries", "message": "only 3 canaries"}],
    )
    rep = _report({"canaries": sec})
    back = AuditReport.from_dict(rep.to_dict())
    assert back.sections == rep.sections
    assert back.schema_version == "1.2"
    assert any(w.code == "few_canaries" for w in back.all_warnings())
    rows = {r.metric: r for r in report_rows(back)}
    assert rows["canaries.max_exposure"].ci_high == 14.0
    assert rows["canaries.max_exposure"].extra["role"] == "risk"
    assert rows["canaries.train_test_gap"].extra["role"] == "evidence"


def test_bad_sections_are_refused() -> None:
    with pytest.raises(DataValidationError, match="role"):
        finding("x", 1.0, role="score")
    with pytest.raises(DataValidationError, match="two findings"):
        make_section("t", "k", findings=[finding("a", 1.0), finding("a", 2.0)])
    with pytest.raises(DataValidationError, match="row 0"):
        table("t", ["a", "b"], [[1]])
    with pytest.raises(DataValidationError, match="must be an object"):
        validate_sections({"s": 3})


def test_reports_without_sections_still_read() -> None:
    d = _report({}).to_dict()
    d.pop("sections")
    d["schema_version"] = "1.1"
    assert AuditReport.from_dict(d).sections == {}
