"""Findings reach every report (issue 8, items 5 and 7, report side): the target, study and run in
report.json / report.html / audit_card.md, membership with a log-log ROC, its baseline and the most
exposed records, and the old 1.0 report.json still loads. Hand-made reports; no generator runs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.errors import DataValidationError
from synth_audit.evaluate import evaluate_release
from synth_audit.membership.result import MembershipResult
from synth_audit.report.card import render_audit_card
from synth_audit.report.html import render_html, roc_axis_min
from synth_audit.report.model import AuditReport
from synth_audit.targets import Capability, TargetInfo

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "randhie"
CONFIG = {
    "seed": 3,
    "singling_out": {"n_attacks": 30, "max_attempts": 10_000},
    "inference": {"secrets": ["health"]},
    "utility": {"enabled": False},
}
TARGET = TargetInfo(
    kind="tabular_generator",
    name="dpgan",
    params={"epsilon": 1.0, "n_iter": 50, "batch_size": 64, "generator_dim": [32, 32]},
    privacy={"epsilon": 1.0, "delta": 1e-5},
    fingerprint="ab" * 32,
    capabilities=(Capability.RELEASE, Capability.REFIT),
)


@pytest.fixture(scope="module")
def plain() -> AuditReport:
    frames = [
        pd.read_csv(SAMPLES / f"{r}.csv").head(200) for r in ("train", "synthetic", "control")
    ]
    return evaluate_release(train=frames[0], synthetic=frames[1], control=frames[2], config=CONFIG)


def _mia(shift: float, seed: int, attack: str, n: int = 500) -> MembershipResult:
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n), np.zeros(n)]
    scores = rng.normal(size=2 * n) + shift * labels
    ids = [f"person-{i}" for i in range(2 * n)]
    return MembershipResult.from_scores(
        scores, labels, attack=attack, target="dpgan", record_ids=ids, seed=seed
    )


@pytest.fixture(scope="module")
def leaky() -> dict:
    """A strong attack (TPR at 1 % FPR far above 1 %) with a baseline that finds nothing."""
    return _mia(2.5, 0, "dcr").with_baseline(_mia(0.0, 1, "dcr_reference")).to_dict()


@pytest.fixture(scope="module")
def blind() -> dict:
    """An attack no better than its baseline: AUC CI contains 0.5."""
    return _mia(0.0, 2, "domias").with_baseline(_mia(0.0, 3, "domias_reference")).to_dict()


@pytest.fixture(scope="module")
def study_report(plain: AuditReport, leaky: dict, blind: dict) -> AuditReport:
    return dataclasses.replace(
        plain,
        target=TARGET.to_dict(),
        study="dp-sweep",
        run_id="0123456789abcdef",
        membership={"dcr": leaky, "domias": blind},
    )


def _md_plain(text: str) -> str:
    """Markdown with md_escape's backslashes removed (what a reader sees)."""
    return re.sub(r"\\(.)", r"\1", text)


# ---- report.json ---------------------------------------------------------------------------------


def test_round_trip_with_target_study_and_run(study_report: AuditReport) -> None:
    d = json.loads(study_report.to_json())
    assert d["schema_version"] == "1.2"
    assert d["target"]["name"] == "dpgan" and d["target"]["privacy"]["epsilon"] == 1.0
    assert (d["study"], d["run_id"]) == ("dp-sweep", "0123456789abcdef")
    back = AuditReport.from_dict(d)
    assert back.target == study_report.target
    assert (back.study, back.run_id) == ("dp-sweep", "0123456789abcdef")
    assert back.to_dict() == study_report.to_dict()
    assert back.target_info() == TARGET
    # The membership results survive whole (baseline included).
    assert MembershipResult.from_dict(back.membership["dcr"]).baseline is not None
    s = d["summary"]
    assert s["max_membership_attack"] == "dcr"
    assert s["max_membership_auc"] == pytest.approx(study_report.membership["dcr"]["auc"])


def test_old_1_0_report_json_loads(plain: AuditReport) -> None:
    d = json.loads(plain.to_json())
    d["schema_version"] = "1.0"
    for key in ("target", "study", "run_id"):
        d.pop(key)
    for key in ("max_membership_auc", "max_membership_attack"):
        d["summary"].pop(key)
    old = AuditReport.from_dict(d)
    assert old.target is None and old.study is None and old.run_id is None
    assert old.schema_version == "1.0"
    assert old.summary()["max_membership_auc"] is None
    assert "What was audited" in render_html(old) and "What was audited" in render_audit_card(old)
    with pytest.raises(DataValidationError, match=r"schema_version '2\.0'"):
        AuditReport.from_dict({**d, "schema_version": "2.0"})


# ---- report.html ---------------------------------------------------------------------------------


def _section(page: str, ident: str) -> str:
    start = page.index(f'id="{ident}"')
    return page[start : page.index("</section>", start)]


def test_html_membership_log_log_roc_baseline_and_exposed(
    study_report: AuditReport, leaky: dict
) -> None:
    page = render_html(study_report)
    mia = _section(page, "membership")
    svgs = re.findall(r'<svg class="roc loglog".*?</svg>', mia, flags=re.S)
    assert len(svgs) == 2
    svg = svgs[0]
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg)
    assert {"0.001", "0.01", "0.1", "1"} <= set(ticks)
    assert "0.2" not in ticks and "0.5" not in ticks  # not linear ticks
    points = re.search(r'<polyline class="attack" points="([^"]*)"', svg)
    assert points is not None
    xy = [tuple(map(float, p.split(","))) for p in points.group(1).split()]
    assert len(xy) >= 50
    # Log axes: FPR 0.01 sits two thirds of the way from 0.001 to 1, not at 1 % of the width.
    x_at = {
        t: float(x)
        for x, t in re.findall(
            r'<text class="tick" x="([\d.]+)"[^>]*text-anchor="middle">([^<]*)<', svg
        )
    }
    frac = (x_at["0.01"] - x_at["0.001"]) / (x_at["1"] - x_at["0.001"])
    assert frac == pytest.approx(1 / 3, abs=0.01)
    assert 'class="chance"' in svg and '<polyline class="baseline"' in svg
    # TPRs at 0.1 / 1 / 10 % with CIs, ε, unit and pooled models.
    for t in leaky["tpr_at"]:
        assert f"{t['target_fpr'] * 100:.2f}".rstrip("0").rstrip(".") in mia
    assert "ε lower bound" in mia and "unit of membership" in mia and "target model(s)" in mia
    # The baseline block with its AUC, and the not-better-than-baseline warning of 'domias'.
    assert "Attack beside its baseline" in mia and "dcr_reference" in mia
    assert f"{leaky['baseline']['auc']:.3f}" in mia
    assert "not_better_than_baseline" in mia
    # Most exposed members, by id, in score order.
    top = [e["record_id"] for e in leaky["top_exposed"][:3]]
    assert "Most exposed records" in mia
    assert mia.index(top[0]) < mia.index(top[1]) < mia.index(top[2])
    # Readings: strong evidence for the leaky attack, none for the blind one.
    assert "Strong evidence of membership leakage" in mia
    assert "No evidence of membership leakage" in mia
    # The summary names membership.
    summary = _section(page, "summary")
    assert "Membership inference (2 attack(s))" in summary and "dcr" in summary


def test_roc_axis_reaches_one_over_n() -> None:
    assert roc_axis_min(400) == 1e-3
    assert roc_axis_min(20_000) == 1e-5
    assert roc_axis_min(None) == 1e-3


def test_html_and_card_say_what_was_audited(study_report: AuditReport) -> None:
    page = render_html(study_report)
    block = _section(page, "audited")
    card = render_audit_card(study_report)
    audited = card.split("## What was audited")[1].split("## Inputs")[0]
    for text in (
        "tabular_generator",
        "dpgan",
        "batch_size = 64",
        "n_iter = 50",
        "epsilon = 1",
        "generator_dim = [32, 32]",
        "ε = 1, δ = 1e-05",
        "ab" * 32,
        "re-train the generator on data of their choice",
        "dp-sweep",
        "0123456789abcdef",
    ):
        assert text in block.replace("&#x27;", "'"), text
        assert text in _md_plain(audited), text
    assert "Privacy audit of the tabular generator 'dpgan'" in page.replace("&#x27;", "'")


def test_card_membership_section_and_summary(study_report: AuditReport, leaky: dict) -> None:
    card = render_audit_card(study_report)
    summary = card.split("## Summary")[1].split("## 1.")[0]
    assert "Membership inference (2 attack(s)): highest AUC" in summary
    assert "Strong evidence" in summary
    mia = card.split("## 4. Membership inference")[1].split("## 5. Utility")[0]
    assert "Not assessed" not in mia
    t1 = next(t for t in leaky["tpr_at"] if t["target_fpr"] == 0.01)
    row = next(line for line in mia.splitlines() if line.startswith("| dcr |"))
    assert f"{leaky['auc']:.3f}"[:4] in row and f"{t1['tpr'] * 100:.1f} %" in row
    assert "| record | 1 |" in row and "dcr_reference" in _md_plain(row)
    assert "No evidence of membership leakage" in mia  # domias: AUC CI contains 0.5
    assert "does no better than its baseline" in mia
    assert "Most exposed records" in mia
    assert leaky["top_exposed"][0]["record_id"] in _md_plain(mia)


def test_epsilon_bound_above_claimed_epsilon_is_said(
    study_report: AuditReport, leaky: dict
) -> None:
    eps = leaky["epsilon"]["epsilon"]
    assert eps > 0.5
    low_claim = {**TARGET.to_dict(), "privacy": {"epsilon": eps / 2, "delta": 1e-5}}
    card = render_audit_card(dataclasses.replace(study_report, target=low_claim))
    assert "exceeds the claimed ε" in card
    no_claim = {**low_claim, "privacy": {}}
    card = render_audit_card(dataclasses.replace(study_report, target=no_claim))
    assert "exceeds the claimed ε" not in card and "no formal guarantee claimed" in card


def test_plain_evaluation_names_the_release_file(plain: AuditReport) -> None:
    card = render_audit_card(plain)
    audited = card.split("## What was audited")[1].split("## Inputs")[0]
    assert plain.inputs["synthetic"]["sha256"] in audited
    assert "holds the released data only (no box)" in audited
    assert "Membership inference: not assessed" in card


# ---- gate on membership ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gate_json(tmp_path_factory: pytest.TempPathFactory, study_report: AuditReport) -> Path:
    path = tmp_path_factory.mktemp("gate") / "report.json"
    path.write_text(study_report.to_json(), encoding="utf-8")
    return path


def test_gate_max_auc_and_tpr(
    gate_json: Path, study_report: AuditReport, leaky: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    from synth_audit.cli import main

    auc, auc_hi = leaky["auc"], leaky["auc_ci"][1]
    t1 = next(t for t in leaky["tpr_at"] if t["target_fpr"] == 0.01)
    # Limit between the estimate and the CI's upper end: the estimate passes, --conservative fails.
    mid = round((auc + auc_hi) / 2, 4)
    assert auc < mid < auc_hi
    assert main(["gate", str(gate_json), "--max-auc", str(mid)]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["gate", str(gate_json), "--max-auc", str(mid), "--conservative"]) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL" in out
        and "membership.dcr: AUC" in out
        and "membership.domias" not in out.split("FAIL:")[1]
    )
    assert main(["gate", str(gate_json), "--max-auc", "0.6"]) == 1
    tpr_limit = round(t1["tpr"] + 0.01, 4)
    assert main(["gate", str(gate_json), "--max-tpr-at-1pct-fpr", str(tpr_limit)]) == 0
    assert main(["gate", str(gate_json), "--max-tpr-at-1pct-fpr", str(tpr_limit - 0.02)]) == 1
    capsys.readouterr()
    # Together with --max-risk: both kinds of limits are checked.
    assert main(["gate", str(gate_json), "--max-risk", "1", "--max-auc", "0.6"]) == 1
    # A report without membership results cannot meet a membership limit.
    plain = gate_json.with_name("plain.json")
    plain.write_text(dataclasses.replace(study_report, membership={}).to_json(), encoding="utf-8")
    assert main(["gate", str(plain), "--max-auc", "0.9"]) == 1
    assert "no membership-inference result" in capsys.readouterr().out


def test_gate_needs_a_limit_exit_2(gate_json: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    res = subprocess.run(
        [sys.executable, "-m", "synth_audit", "gate", str(gate_json)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--max-auc" in res.stderr and "--max-risk" in res.stderr
