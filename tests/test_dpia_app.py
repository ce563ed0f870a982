"""The run view renders report sections (findings table, tables, images, warnings) and the DPIA
evidence of a report, whatever the section's kind (Streamlit AppTest, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest


def _script() -> None:
    import base64

    from app.views.runs import show_sections
    from synth_audit.report.model import AuditReport
    from synth_audit.report.sections import finding, image, make_section, table
    from synth_audit.schema import Schema

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    sec = make_section(
        "Canary exposure",
        "canary_exposure",
        summary="Canaries are exposed.",
        findings=[finding("share_exposed", 0.25, role="risk", ci=(0.1, 0.4), unit="share")],
        tables=[table("Per canary", ["canary", "exposure"], [["c1", 12.5]])],
        images=[image("grid", png)],
        warnings=[{"code": "few_canaries", "message": "only 3 canaries"}],
        data={"dpia_md": "# DPIA evidence\n\n**Risk level: LIMITED**"},
    )
    rep = AuditReport(
        created_at="2026-12-06T00:00:00+00:00",
        tool_version="0",
        seed=1,
        config={},
        inputs={},
        schema=Schema(columns=()),
        attacks={},
        inference={},
        sections={"canaries": sec},
    )
    show_sections(rep, key="t")
    from app.views.runs import show_dpia

    show_dpia(rep, key="d")  # no profile uploaded: defaults, announced


@pytest.mark.slow
def test_run_view_shows_sections_and_dpia(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synth_audit import service

    monkeypatch.setenv(service.STORE_ENV, str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("SYNTH_AUDIT_HOME", str(tmp_path))
    at = AppTest.from_function(_script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader][-1] == "Canary exposure"
    frames = [d.value for d in at.dataframe]
    findings = next(f for f in frames if "reading" in f.columns)
    assert findings.loc[0, "value"] == "25.0 %" and findings.loc[0, "role"] == "risk"
    assert any(list(f.columns) == ["canary", "exposure"] for f in frames)
    assert any("only 3 canaries" in str(w.value) for w in at.warning)
    assert len(at.get("image")) == 1
    assert any("Risk level: LIMITED" in str(m.value) for m in at.markdown)
    levels = {m.label: m.value for m in at.metric}
    assert levels["CNIL risk level"] == "not rated"  # nothing was attacked: never "negligible"
    assert any("population_size is not set" in str(i.value) for i in at.info)
    assert any("Art. 35(7)(a)" in str(m.value) for m in at.markdown)
