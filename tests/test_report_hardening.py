"""Issue 7, reporting side: control banners, gate reasons, unmeasurable criteria, interval display,
CSV formula injection, output-directory guard, utility breakdown, one format per quantity."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from synth_audit.cli._common import print_summary
from synth_audit.errors import SynthAuditError
from synth_audit.evaluate import evaluate_release
from synth_audit.report.card import render_audit_card
from synth_audit.report.html import render_html
from synth_audit.report.model import AuditReport
from synth_audit.report.wording import (
    GENERATOR_PALETTE,
    display_ci,
    fmt_ci,
    fmt_num,
    fmt_pct,
    fmt_risk,
    generator_colour,
    run_label,
)
from synth_audit.report.write import write_report
from synth_audit.results import UNMEASURABLE, AttackResult, AuditWarning
from synth_audit.stats import RiskEstimate, residual_risk

ROOT = Path(__file__).resolve().parents[1]

# ---- item 25: one format per quantity ------------------------------------------------------------


def test_card_reexports_the_wording_formatters() -> None:
    from synth_audit.report import card

    assert card.fmt_pct is fmt_pct
    assert card.fmt_ci is fmt_ci


def test_fmt_pct_never_prints_none() -> None:
    assert fmt_pct(None) == "n/a"
    assert fmt_pct(float("nan")) == "n/a"
    assert fmt_pct(0.0083) == "0.83 %"
    assert fmt_pct(0.145) == "14.5 %"


def test_generator_colour_is_stable_across_processes_and_distinct_for_shipped() -> None:
    names = ["copy", "leaky", "independent_marginals", "gaussian_copula", "ctgan", "tvae"]
    here = [generator_colour(n) for n in [*names, "my_plugin_gen"]]
    code = (
        "from synth_audit.report.wording import generator_colour as g;"
        f"print(','.join(g(n) for n in {[*names, 'my_plugin_gen']!r}))"
    )
    # A fresh interpreter with another hash seed gives the same colours (no use of hash()).
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )
    assert out.stdout.strip().split(",") == here
    assert len(set(here[: len(names)])) == len(names)
    assert all(c in GENERATOR_PALETTE for c in here)


def test_run_label_uses_the_seed_number_not_the_raw_seed() -> None:
    assert (
        run_label("gaussian_copula", {"b": 2, "a": "x"}, 3) == "gaussian_copula(a=x, b=2) · seed #3"
    )
    assert run_label("copy", {}, None) == "copy"


# ---- item 9: display of a zero-width interval ----------------------------------------------------


def test_legacy_zero_width_interval_reads_as_an_upper_bound() -> None:
    # An old report: the whole unclipped interval below 0, clipped to [0, 0], error 0.0083.
    assert fmt_risk(0.0, 0.0, 0.0, 0.0083) == "< 0.83 % [0.00 %, 0.83 %]"
    assert display_ci(0.0, 0.0, 0.0, 0.0083) == (0.0, 0.0083, True)
    # A new report (interval already honest) is shown as it is.
    assert fmt_risk(0.0, 0.0, 0.0083, 0.004) == "0.00 % [0.00 %, 0.83 %]"
    assert fmt_risk(0.0315, 0.0, 0.0777, 0.046) == "3.15 % [0.00 %, 7.77 %]"


# ---- fixtures: one real audit, and variants of it built by hand ---------------------------------

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "randhie"
CONFIG = {
    "seed": 3,
    "columns": {"site": "categorical"},
    "singling_out": {"n_attacks": 40, "max_attempts": 20_000},
    "inference": {"secrets": ["health"]},
}


@pytest.fixture(scope="module")
def report() -> AuditReport:
    frames = [
        pd.read_csv(SAMPLES / f"{role}.csv").head(300) for role in ("train", "synthetic", "control")
    ]
    return evaluate_release(train=frames[0], synthetic=frames[1], control=frames[2], config=CONFIG)


def _no_control(report: AuditReport) -> AuditReport:
    """The same audit as if run with --no-control: every risk the raw attack rate."""

    def strip(r: AttackResult) -> AttackResult:
        return dataclasses.replace(
            r, control_rate=None, risk=residual_risk(r.attack_rate, None), per_record=None
        )

    inputs = {k: v for k, v in report.inputs.items() if k != "control"}
    return dataclasses.replace(
        report,
        inputs=inputs,
        attacks={k: strip(v) for k, v in report.attacks.items()},
        inference={k: strip(v) for k, v in report.inference.items()},
        dcr=None,
        warnings=(AuditWarning("no_control", "The user ran the audit without a control set."),),
    )


def _overlap(report: AuditReport) -> AuditReport:
    return dataclasses.replace(
        report,
        warnings=(
            *report.warnings,
            AuditWarning("control_overlap", "120 of 300 control rows (40.0 %) are also in train."),
        ),
    )


def _with_unmeasurable(report: AuditReport) -> AuditReport:
    """Univariate singling out with 2 predicates: CI [0, 1], estimate 0.5, flagged unmeasurable."""
    r = report.attacks["singling_out_univariate"]
    risk = RiskEstimate(
        value=0.5, ci_low=0.0, ci_high=1.0, residual=0.5, error=0.9, confidence_level=0.95
    )
    bad = dataclasses.replace(
        r,
        risk=risk,
        warnings=(AuditWarning(UNMEASURABLE, "Only 2 predicates could be generated."),),
    )
    return dataclasses.replace(report, attacks={**report.attacks, "singling_out_univariate": bad})


def _gate(tmp_path: Path, rep: AuditReport, *args: str) -> tuple[int, str]:
    path = tmp_path / "report.json"
    path.write_text(rep.to_json(), encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "synth_audit", "gate", str(path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        cwd=str(tmp_path),
    )
    assert "Traceback" not in res.stderr
    return res.returncode, " ".join((res.stdout + res.stderr).split())


def _summary_text(rep: AuditReport) -> str:
    console = Console(file=io.StringIO(), width=200, highlight=False)
    print_summary(rep, console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


# ---- items 1 and 2: no control set, control overlapping train ----------------------------------


def test_no_control_banner_on_every_surface(report: AuditReport) -> None:
    rep = _no_control(report)
    page = render_html(rep)
    assert 'id="banner-no_control"' in page
    assert page.index('id="banner-no_control"') < page.index('id="summary"')
    # The page does not describe a control attack that was never run.
    assert "a baseline and a control attack" not in page
    assert "never used (control)" not in page
    assert "Control: the same attack on real people" not in page
    assert "No control set was used in this audit, so no control attack was run" in page
    # ... and does not band raw rates as "High measured risk".
    summary = page.split('id="summary"')[1].split("</section>")[0]
    assert "measured risk" not in summary
    card = render_audit_card(rep)
    assert card.index("No control set: risks are raw attack success rates") < card.index(
        "## Purpose and scope"
    )
    assert "Each attack is run three times" not in card
    cli = _summary_text(rep)
    assert cli.lstrip().startswith("WARNING (no_control)")


def test_controlled_report_has_no_banner(report: AuditReport) -> None:
    assert report.control_status() == "ok"
    assert "banner-" not in render_html(report)
    assert "WARNING (" not in _summary_text(report)
    assert "a baseline and a control attack" in render_html(report)


def test_control_overlap_banner_names_the_share(report: AuditReport) -> None:
    rep = _overlap(report)
    assert rep.control_status() == "overlap"
    page = render_html(rep)
    assert page.index('id="banner-control_overlap"') < page.index('id="summary"')
    assert "40.0\u00a0%" in page.split('id="banner-control_overlap"')[1].split("</section>")[0]
    card = render_audit_card(rep)
    assert card.index("overlaps the training data") < card.index("## Purpose and scope")
    assert "WARNING (control_overlap)" in _summary_text(rep)


def test_gate_fails_without_control_and_says_why(report: AuditReport, tmp_path: Path) -> None:
    rep = _no_control(report)
    code, out = _gate(tmp_path, rep, "--max-risk", "0.01")
    assert code == 1
    assert "control (no_control)" in out and "--allow-no-control" in out
    # Every failing risk check says that it compares a raw rate, and gives the baseline.
    n_fail = out.count("raw attack success rate: no control set")
    assert n_fail == sum(r.risk.value > 0.01 for _, r in rep.risks()) > 0
    # Allowed explicitly, a generous limit passes and the pass line says what was allowed.
    code, out = _gate(tmp_path, rep, "--max-risk", "1", "--allow-no-control")
    assert code == 0 and "no control set, allowed by --allow-no-control" in out
    code, out = _gate(tmp_path, rep, "--max-risk", "1")
    assert code == 1 and "control (no_control)" in out


def test_gate_fails_on_control_overlap_unless_allowed(report: AuditReport, tmp_path: Path) -> None:
    rep = _overlap(report)
    code, out = _gate(tmp_path, rep, "--max-risk", "1")
    assert code == 1 and "control (control_overlap)" in out and "40.0 %" in out
    code, _ = _gate(tmp_path, rep, "--max-risk", "1", "--allow-overlap")
    assert code == 0
    code, _ = _gate(tmp_path, report, "--max-risk", "1")
    assert code == 0


# ---- item 8: a criterion that could not be measured ---------------------------------------------


def test_unmeasurable_stays_out_of_headlines(report: AuditReport) -> None:
    rep = _with_unmeasurable(report)
    s = rep.summary()
    assert s["max_risk_attack"] != "singling_out_univariate"
    assert s["max_risk_ci_high"] < 1.0
    assert s["unmeasurable"] == ["singling_out_univariate"]
    assert rep.max_risk(include_unmeasurable=True)[0] == "singling_out_univariate"  # type: ignore[index]
    page = render_html(rep)
    kpi = page.split('id="summary"')[1].split("<table>")[0]
    assert "100\u00a0%" not in kpi and "100.0\u00a0%" not in kpi
    assert "Not measurable, left out of these figures: Singling out (univariate)" in kpi
    table = page.split('id="summary"')[1].split("</table>")[0]
    assert "not measurable" in table  # still shown, with its warning
    card = render_audit_card(rep)
    head = card.split("## Summary")[1].split("| criterion")[0]
    assert "100.0 %" not in head and "Not measurable" in head
    cli = _summary_text(rep)
    assert "singling_out_univariate (not measurable)" in cli
    assert "highest upper CI bound: 100.0 %" not in cli


def test_gate_skips_unmeasurable_unless_asked(report: AuditReport, tmp_path: Path) -> None:
    rep = _with_unmeasurable(report)
    limit = max(r.risk.ci_high for n, r in rep.risks() if r.measurable)
    code, out = _gate(tmp_path, rep, "--max-risk", f"{limit:.6f}", "--conservative")
    assert code == 0, out
    assert "not measurable, skipped" in out and "singling_out_univariate" in out
    code, out = _gate(
        tmp_path, rep, "--max-risk", f"{limit:.6f}", "--conservative", "--include-unmeasurable"
    )
    assert code == 1 and "singling_out_univariate: risk 50.0 %" in out


def test_old_report_without_measurable_key_is_measurable(report: AuditReport) -> None:
    d = json.loads(report.to_json())
    for r in [*d["attacks"].values()]:
        if isinstance(r, dict) and "measurable" in r:
            del r["measurable"]
    for r in d["attacks"]["inference"].values():
        del r["measurable"]
    back = AuditReport.from_dict(d)
    assert all(r.measurable for _, r in back.risks())
    assert back.summary()["unmeasurable"] == []


# ---- item 9: legacy zero-width interval in the documents ----------------------------------------


def test_legacy_zero_width_interval_is_not_shown_as_certainty(report: AuditReport) -> None:
    r = report.attacks["linkability"]
    zero = RiskEstimate(
        value=0.0, ci_low=0.0, ci_high=0.0, residual=-0.02, error=0.0083, confidence_level=0.95
    )
    rep = dataclasses.replace(
        report, attacks={**report.attacks, "linkability": dataclasses.replace(r, risk=zero)}
    )
    page = render_html(rep)
    block = page.split('id="risk-linkability"')[1].split('class="attack"')[0]
    assert "[0.00\u00a0%, 0.83\u00a0%]" in block
    assert "[0.00\u00a0%, 0.00\u00a0%]" not in page
    card = render_audit_card(rep)
    assert "| < 0.83 % | [0.00 %, 0.83 %] |" in card
    assert "< 0.83 % [0.00 %, 0.83 %]" in _summary_text(rep)


# ---- item 23: utility readings and breakdown ----------------------------------------------------


def test_utility_breakdown_on_every_surface(report: AuditReport) -> None:
    det = report.utility["detection"]["details"]
    cols = report.utility["marginals"]["details"]["columns"]
    worst_col = min(cols, key=lambda c: (cols[c]["score"], c))
    pairs = report.utility["pairwise"]["details"]["pairs"]
    worst_pair = " × ".join(min(pairs, key=lambda e: e["score"])["columns"])
    auc = fmt_num(det["auc"], 3)
    page = render_html(report)
    util = page.split('id="utility"')[1].split("</section>")[0]
    assert f"AUC {auc}" in util
    assert "Columns matched least" in util and worst_col in util
    assert "Pairs of columns matched least" in util and html.escape(worst_pair) in util
    assert "independent_marginals" in util
    card = render_audit_card(report)
    cu = card.split("## 5. Utility")[1].split("## Diagnostics")[0]
    assert f"AUC {auc}" in cu and f"| {worst_col} |" in cu and "independent_marginals" in cu
    cli = _summary_text(report)
    assert f"AUC {auc}" in cli and f"Columns matched least: {worst_col}" in cli
    assert "independent_marginals" in cli


# ---- item 18: CSV formula injection -------------------------------------------------------------


def test_every_csv_written_neutralises_formulas(report: AuditReport, tmp_path: Path) -> None:
    # A hostile inference secret value and column name in the per-record outcomes.
    r = report.inference["health"]
    per = r.per_record.copy()  # type: ignore[union-attr]
    per["guess"] = ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-2+3", "\tx", "plain"] * (
        len(per) // 6
    ) + ["plain"] * (len(per) % 6)
    per["=cmd|' /C calc'!A0"] = "-"
    per["score"] = -1.5  # a negative number is a number, not a formula
    rep = dataclasses.replace(report, inference={"health": dataclasses.replace(r, per_record=per)})
    paths = write_report(rep, tmp_path / "out")
    for name in ("per_record.csv", "exposed_records.csv"):
        with open(paths[name], newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        for row in rows:
            for cell in row:
                if cell and cell[0] in "=+@\t\r":
                    raise AssertionError(f"{name}: formula cell {cell!r}")
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with '-'
    text = paths["per_record.csv"].read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+1" in text and "'@SUM" in text and "'-2+3" in text
    assert "'=cmd|" in text.splitlines()[0]
    assert ",-1.5" in text


# ---- item 20: the output directory guard covers every file written -----------------------------


@pytest.mark.parametrize("existing", ["report.html", "per_record.csv", "audit_card.md"])
def test_out_dir_with_any_report_file_is_refused(
    report: AuditReport, tmp_path: Path, existing: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / existing).write_text("precious", encoding="utf-8")
    with pytest.raises(SynthAuditError, match=existing) as info:
        write_report(report, out)
    assert "--overwrite" in str(info.value)
    assert (out / existing).read_text(encoding="utf-8") == "precious"
    assert not (out / "report.json").exists()
    write_report(report, out, overwrite=True)
    assert (out / existing).read_text(encoding="utf-8") != "precious"


def test_evaluate_cli_refuses_out_dir_with_report_html(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("precious", encoding="utf-8")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "synth_audit",
            "evaluate",
            "--train",
            str(SAMPLES / "train.csv"),
            "--synthetic",
            str(SAMPLES / "synthetic.csv"),
            "--control",
            str(SAMPLES / "control.csv"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert "report.html" in res.stderr and "--overwrite" in res.stderr
    assert "Traceback" not in res.stderr
    assert (out / "report.html").read_text(encoding="utf-8") == "precious"


def test_no_literal_none_in_the_documents(report: AuditReport) -> None:
    r = report.attacks["linkability"]
    rep = dataclasses.replace(
        report, attacks={**report.attacks, "linkability": dataclasses.replace(r, seed=None)}
    )
    page = render_html(rep)
    assert ">None<" not in page and "seed None" not in page
    card = render_audit_card(rep)
    assert "seed None" not in card and "| None |" not in card
