"""The report outputs: report.json contract and round trip, report.html, audit_card.md, write_report."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.errors import SynthAuditError
from synth_audit.evaluate import evaluate_release
from synth_audit.membership.result import MembershipResult
from synth_audit.report.card import md_escape, reading, render_audit_card
from synth_audit.report.html import render_html
from synth_audit.report.model import AuditReport
from synth_audit.report.write import REPORT_FILES, write_report
from synth_audit.results import AttackResult
from synth_audit.stats import residual_risk, wilson_rate

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "randhie"
ODD = 'a"<b>&c'  # a column name that breaks naive HTML and Markdown
ODD_HTML = "a&quot;&lt;b&gt;&amp;c"
CONFIG = {
    "seed": 7,
    "columns": {"site": "categorical"},
    "singling_out": {"n_attacks": 40, "max_attempts": 20_000},
    "inference": {"secrets": ["health", ODD]},
    "utility": {"enabled": False},
}


@pytest.fixture(scope="module")
def report() -> AuditReport:
    frames = [
        pd.read_csv(SAMPLES / f"{role}.csv").head(300).rename(columns={"mental_health_index": ODD})
        for role in ("train", "synthetic", "control")
    ]
    return evaluate_release(train=frames[0], synthetic=frames[1], control=frames[2], config=CONFIG)


@pytest.fixture(scope="module")
def membership() -> dict:
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(400), np.zeros(400)]
    scores = rng.normal(size=800) + 0.8 * labels
    return MembershipResult.from_scores(
        scores, labels, attack="distance_score", target="synthetic release", seed=0
    ).to_dict()


# ---- report.json ---------------------------------------------------------------------------------


def test_json_round_trip(report: AuditReport) -> None:
    back = AuditReport.from_dict(json.loads(report.to_json()))
    assert back.attacks == report.attacks
    assert back.inference == report.inference
    assert back.dcr == report.dcr
    assert back.to_dict() == report.to_dict()


def test_report_json_public_keys(report: AuditReport) -> None:
    d = json.loads(report.to_json())
    for key in (
        "schema_version",
        "tool",
        "created_at",
        "seed",
        "config",
        "inputs",
        "schema",
        "attacks",
        "membership",
        "diagnostics",
        "utility",
        "summary",
        "warnings",
    ):
        assert key in d, key
    attacks = d["attacks"]
    for key in ("singling_out_univariate", "singling_out_multivariate", "linkability"):
        assert key in attacks, key
    assert set(attacks["inference"]) == {"health", ODD}
    risk_objects = [
        attacks[k] for k in ("singling_out_univariate", "singling_out_multivariate", "linkability")
    ] + list(attacks["inference"].values())
    for risk in risk_objects:
        for key in (
            "value",
            "ci_low",
            "ci_high",
            "attack_rate",
            "baseline_rate",
            "control_rate",
            "n_attacks",
            "warnings",
        ):
            assert key in risk, key
        assert 0.0 <= risk["ci_low"] <= risk["value"] <= risk["ci_high"] <= 1.0
        assert risk["control_rate"] is not None
    for role in ("train", "synthetic", "control"):
        assert re.fullmatch(r"[0-9a-f]{64}", d["inputs"][role]["sha256"])
    assert d["diagnostics"]["dcr"]["label"].startswith("diagnostic")
    assert d["utility"] == {}
    assert set(d["summary"]) >= {"max_risk", "max_risk_ci_high", "max_risk_attack", "utility_score"}


# ---- report.html ---------------------------------------------------------------------------------


def test_html_is_self_contained(report: AuditReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "</html>" in page
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page
    # every link is an anchor inside the page; nothing is loaded from anywhere
    for attr, value in re.findall(r'\b(src|href)\s*=\s*"([^"]*)"', page):
        assert attr == "href" and value.startswith("#"), (attr, value)
    assert "http://" not in page and "https://" not in page


def test_html_escapes_user_strings(report: AuditReport) -> None:
    page = render_html(report)
    assert ODD not in page
    assert ODD_HTML in page
    # the odd column is an inference secret: it has its own section
    assert f"Inference of &#x27;{ODD_HTML}&#x27;" in page or f"Inference of {ODD_HTML}" in page


def test_html_sections(report: AuditReport, membership: dict) -> None:
    page = render_html(report)
    for text in (
        "Singling out (univariate)",
        "Singling out (multivariate)",
        "Linkability",
        "Threat model",
        "Most exposed training records",
        "diagnostic, not proof of privacy",
        "Utility was not measured",
        "Not part of this audit",
        "Limitations",
    ):
        assert text in page, text
    worst = report.max_risk()
    assert worst is not None
    assert f"{worst[1].risk.value * 100:.2f}".rstrip("0").rstrip(".") in page
    # warnings of attacks are listed prominently
    for w in report.all_warnings():  # the page binds numbers to their % sign (no-break space)
        assert html.escape(w.message)[:60] in page.replace("\u00a0", " ")

    with_mia = dataclasses.replace(report, membership={"distance_score": membership})
    page = render_html(with_mia)
    assert "Not part of this audit" not in page
    assert "AUC" in page and "<polyline" in page
    assert f"{membership['auc']:.3f}" in page
    assert "ε lower bound" in page


def test_html_utility_bars(report: AuditReport) -> None:
    util = {
        "marginals": {
            "name": "marginals",
            "value": 0.9,
            "direction": "maximize",
            "bounds": [0, 1],
            "ci_low": 0.85,
            "ci_high": 0.95,
            "warnings": [],
        },
        "detection": {
            "name": "detection",
            "value": 0.7,
            "direction": "minimize",
            "bounds": [0.5, 1.0],
            "ci_low": None,
            "ci_high": None,
            "warnings": [{"code": "w", "message": "detector <overfit>"}],
        },
    }
    page = render_html(dataclasses.replace(report, utility=util, utility_score=0.75))
    assert "higher is better" in page and "lower is better" in page
    assert "0.750" in page
    assert "detector &lt;overfit&gt;" in page


# ---- audit_card.md -------------------------------------------------------------------------------


def test_card_structure(report: AuditReport) -> None:
    card = render_audit_card(report)
    for heading in (
        "# Privacy audit card",
        "## Purpose and scope",
        "## Inputs",
        "## 1. Singling out",
        "## 2. Linkability",
        "## 3. Inference",
        "## 4. Membership inference",
        "## 5. Utility",
        "## Warnings",
        "## Limitations",
        "## Sign-off",
    ):
        assert heading in card, heading
    assert "Not assessed" in card
    assert "approve with conditions" in card and "reject" in card and "Signature:" in card
    for role in ("train", "synthetic", "control"):
        assert report.inputs[role]["sha256"] in card
    assert "lower bound" in card and "not proof" in card
    # the odd column name is escaped, never raw markup
    assert ODD not in card
    assert md_escape(ODD) in card
    for _, r in report.risks():
        assert (
            f"**Risk: {r.risk.value * 100:.2f} %**" in card
            or f"**Risk: {r.risk.value * 100:.1f} %**" in card
        )
    assert card.count("*Reading:*") == len(list(report.risks()))


def test_card_membership_and_no_control(report: AuditReport, membership: dict) -> None:
    card = render_audit_card(dataclasses.replace(report, membership={"distance_score": membership}))
    section = card.split("## 4. Membership inference")[1].split("## 5. Utility")[0]
    assert "Not assessed" not in section
    assert f"**AUC {membership['auc']:.3g}**" in section
    assert "ε lower bound" in section and "| 10.0 % |" in section
    warnings = card.split("## Warnings")[1].split("## Limitations")[0]
    for w in membership["warnings"]:  # membership warnings are listed with the others, once
        msg = w["message"] if isinstance(w, dict) else w
        assert warnings.count(md_escape(msg)[:50]) == 1

    r = report.attacks["linkability"]
    alone = dataclasses.replace(r, control_rate=None, risk=residual_risk(r.attack_rate, None))
    text = reading("linkability", alone)
    assert "Without a control set" in text and f"{alone.risk.value * 100:.2f} %" in text


def test_md_escape() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<script>") == "\\<script\\>"
    assert md_escape("mental_health_index") == "mental_health_index"
    assert md_escape("line\nbreak") == "line break"


def test_reading_is_hand_checkable() -> None:
    # attack 60/100 against control 20/100: risk ≈ (0.6 − 0.2) / 0.8 = 0.5 (Wilson centres shift it)
    a, c = wilson_rate(60, 100), wilson_rate(20, 100)
    result = AttackResult(
        attack="linkability",
        risk=residual_risk(a, c),
        attack_rate=a,
        baseline_rate=wilson_rate(1, 100),
        control_rate=c,
        engine="native",
        seed=0,
    )
    assert result.risk.value == pytest.approx(0.5, abs=0.02)
    text = reading("linkability", result)
    assert f"{result.risk.value * 100:.1f} %" in text
    assert "link" in text and "population" in text


# ---- write_report --------------------------------------------------------------------------------


def test_write_report_files_and_refusal(report: AuditReport, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = write_report(report, out)
    assert set(paths) == set(REPORT_FILES)
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == json.loads(
        report.to_json()
    )
    per = pd.read_csv(out / "per_record.csv")
    assert len(per) == len(report.per_record())
    assert list(pd.read_csv(out / "exposed_records.csv").columns) == [
        "record",
        "n_successful_attacks",
        "attacks",
    ]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (out / "report.html").stat().st_mode & 0o777 == 0o666 & ~umask

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = dataclasses.replace(report, seed=123)
    with pytest.raises(SynthAuditError, match="--overwrite") as exc:
        write_report(other, out)
    assert "already holds a report" in str(exc.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    write_report(other, out, overwrite=True)
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["seed"] == 123


def test_write_report_is_atomic(report: AuditReport, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(src, dst):  # fail when the third file is moved into place
        calls.append(str(dst))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("synth_audit.report.write.os.replace", failing_replace)
    with pytest.raises(SynthAuditError, match="No space left"):
        write_report(report, out)
    names = sorted(p.name for p in out.iterdir())
    assert "report.json" not in names  # written last: no report.json unless everything is there
    assert not [n for n in names if n.endswith(".tmp")]  # no temporary file left behind
    monkeypatch.setattr("synth_audit.report.write.os.replace", real_replace)
    # The files moved into place before the failure are guarded like any others: the retry names
    # them and needs --overwrite (it cannot tell them from files of another report).
    with pytest.raises(SynthAuditError, match=r"report files .*report\.html") as exc:
        write_report(report, out)
    assert "--overwrite" in str(exc.value)
    write_report(report, out, overwrite=True)
    assert (out / "report.json").is_file()


def test_write_report_rejects_file_as_out(report: AuditReport, tmp_path: Path) -> None:
    f = tmp_path / "not_a_dir"
    f.write_text("x")
    with pytest.raises(SynthAuditError, match="not a directory"):
        write_report(report, f)
