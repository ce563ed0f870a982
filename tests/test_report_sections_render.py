"""Report sections render in report.html, the audit card and beside the card, for any audit kind;
a report without Article 29 attacks (a model audit) renders without "not assessed" criteria."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from synth_audit.report.card import render_audit_card, section_finding_cells
from synth_audit.report.html import render_html
from synth_audit.report.model import AuditReport
from synth_audit.report.sections import finding, image, make_section, table
from synth_audit.report.write import write_report
from synth_audit.schema import Schema

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _section() -> dict:
    return make_section(
        "Canary <exposure>",
        "canary_exposure",
        summary="Canaries inserted 16 times are exposed.",
        findings=[
            finding(
                "max_exposure", 12.5, role="risk", ci=(10.0, 14.0), unit="bits", reading="high"
            ),
            finding(
                "share_exposed",
                0.25,
                role="risk",
                ci=(0.1, 0.4),
                bounds=(0.0, 1.0),
                direction="lower_is_better",
            ),
            finding("test_accuracy", 0.91, role="utility", direction="higher_is_better"),
        ],
        tables=[table("Per canary", ["canary", "exposure"], [[f"c{i}", i] for i in range(130)])],
        images=[image("grid", PNG, alt="a grid of samples")],
        warnings=[{"code": "few_canaries", "message": "only 3 canaries"}],
    )


def _model_report(sections: dict) -> AuditReport:
    return AuditReport(
        created_at="2026-12-06T00:00:00+00:00",
        tool_version="0",
        seed=1,
        config={},
        inputs={},
        schema=Schema(columns=()),
        attacks={},
        inference={},
        target={
            "kind": "classifier",
            "name": "mlp",
            "params": {"hidden": 8},
            "capabilities": ["predict_proba", "loss"],
        },
        sections=sections,
    )


def test_every_part_of_a_section_renders_in_html_and_card() -> None:
    rep = _model_report({"canaries": _section()})
    page = render_html(rep)
    assert "Canary &lt;exposure&gt;" in page and "<exposure>" not in page
    assert "12.5 bits" in page and "[10, 14]" in page  # value with unit and CI
    assert "25.0\u00a0%" in page and "[10.0\u00a0%, 40.0\u00a0%]" in page  # a share reads as %
    assert 'class="role risk"' in page and 'class="role utility"' in page
    assert "data:image/png;base64," + base64.b64encode(PNG).decode() in page
    assert "30 more rows (of 130)" in page  # long tables are capped with a count
    assert "only 3 canaries" in page and "few_canaries" in page
    assert 'href="#section-canaries"' in page
    card = render_audit_card(rep)
    assert "## Canary \\<exposure\\>" in card
    assert "| max_exposure | 12.5 bits | \\[10, 14\\] | risk |" in card
    assert "| share_exposed | 25.0 % | \\[10.0 %, 40.0 %\\] | risk | lower |" in card
    assert "110 more rows in report.json" in card
    assert "Image: *grid* (embedded in report.html)" in card
    assert "> **Warning (few_canaries):** only 3 canaries" in card


def test_empty_attacks_report_states_its_evidence_and_threat_model() -> None:
    rep = _model_report({"canaries": _section()})
    for text in (render_html(rep), render_audit_card(rep)):
        assert "Not assessed" not in text and "not assessed in this audit (disabled" not in text
        assert "Singling out" not in text and "Linkability" not in text
        assert "Evidence this audit gives" in text
        assert "class probabilities" in text  # the threat model from predict_proba
        assert "loss on any record" in text
    bare = _model_report({})
    page, card = render_html(bare), render_audit_card(bare)
    assert "No evidence: this audit ran no attack" in page and "Not assessed" not in card


def test_write_report_puts_images_beside_the_card_and_links_dpia(tmp_path: Path) -> None:
    rep = _model_report({"canaries": _section()})
    paths = write_report(
        rep, tmp_path / "out", extra_files={"dpia.md": b"# DPIA\n", "dpia.json": b"{}"}
    )
    img = tmp_path / "out" / "audit_card_images" / "canaries-1.png"
    assert img.read_bytes() == PNG
    card = (tmp_path / "out" / "audit_card.md").read_text()
    assert "](audit_card_images/canaries-1.png)" in card
    assert "[dpia.md](dpia.md)" in card
    assert '<a href="dpia.md">' in (tmp_path / "out" / "report.html").read_text()
    assert (tmp_path / "out" / "dpia.md").read_text() == "# DPIA\n"
    assert list(paths)[-1] == "report.json"
    back = AuditReport.read_json(tmp_path / "out" / "report.json")
    assert back.sections["canaries"]["images"][0]["alt"] == "a grid of samples"
    assert json.loads((tmp_path / "out" / "report.json").read_text())["sections"]


def test_finding_cells_format_missing_values_as_na() -> None:
    c = section_finding_cells(finding("x", None, role="evidence"))
    assert c["value"] == "n/a" and c["ci"] == ""
