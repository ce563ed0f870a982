"""Entity-level audit of panel releases: calibration, per-entity outcomes, utility, plots.

Real data: the shipped NLSY wage panel (samples/wage_panel), 100 train, 100 control, 100
reference and 100 holdout persons. A copy of the training persons must show high risk; a release
of real persons the generator never saw must show every risk CI containing 0 and every membership
AUC CI containing 0.5; risk must rise with the leaked fraction.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synth_audit.report.model import AuditReport
from synth_audit.timeseries import PanelData, evaluate_panel_release, split_panel
from synth_audit.timeseries.generators import make_panel_generator
from synth_audit.timeseries.utility import panel_utility

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "samples" / "wage_panel" / "panel.csv"
CONFIG: dict[str, Any] = {
    "seed": 5,
    "n_jobs": 1,
    "singling_out": {"n_attacks": 100, "modes": ["univariate"]},
    "inference": {"secrets": ["educ", "black"]},
}


@pytest.fixture(scope="module")
def parts() -> dict[str, PanelData]:
    panel = PanelData(pd.read_csv(PANEL).drop(columns="expersq"), entity="nr", time="year")
    sizes = {"train": 100, "control": 100, "reference": 100, "holdout": 100}
    return split_panel(panel, sizes, random_state=11)


def audit(parts: dict[str, PanelData], name: str, **params: Any) -> AuditReport:
    gen = make_panel_generator(name, **params)
    gen.fit(parts["train"], random_state=1, holdout=parts["holdout"])
    release = gen.sample(100, random_state=2)
    return evaluate_panel_release(
        train=parts["train"],
        synthetic=release,
        control=parts["control"],
        reference=parts["reference"],
        config=CONFIG,
        utility=False,
        plots=False,
        target={"kind": "timeseries_generator", "name": name},
    )


@pytest.fixture(scope="module")
def reports(parts: dict[str, PanelData]) -> dict[str, AuditReport]:
    return {
        "copy": audit(parts, "copy"),
        "leaky0": audit(parts, "leaky", fraction=0.0),
        "leaky50": audit(parts, "leaky", fraction=0.5),
    }


def test_copy_is_caught_at_the_entity_level(
    reports: dict[str, AuditReport], parts: dict[str, PanelData]
) -> None:
    r = reports["copy"]
    assert r.attacks["linkability"].risk.ci_low >= 0.5
    for name, m in r.membership.items():
        assert m["unit"] == "entity", name
        assert m["auc"] >= 0.95 and m["auc_ci"][0] >= 0.5, name
    # Per-entity outcomes name persons of the training split, not row positions.
    per = r.per_record()
    train_ids = set(parts["train"].unit_ids())
    linked = per[(per["attack"] == "linkability") & (per["role"] == "train")]
    assert set(linked["record"]) <= train_ids and len(linked) == 100
    top = r.membership["dcr"]["top_exposed"]
    assert all(t["record_id"].startswith("member:") and t["is_member"] for t in top[:5])


def test_unseen_real_entities_show_no_risk(reports: dict[str, AuditReport]) -> None:
    r = reports["leaky0"]
    for name, a in r.risks():
        if a.measurable:
            assert a.risk.ci_low <= 0.0 + 1e-12 <= a.risk.ci_high, name
    for name, m in r.membership.items():
        lo, hi = m["auc_ci"]
        assert lo <= 0.5 <= hi, name
    assert r.target is not None and r.target["kind"] == "timeseries_generator"


def test_risk_rises_with_the_leaked_fraction(reports: dict[str, AuditReport]) -> None:
    order = [reports["leaky0"], reports["leaky50"], reports["copy"]]
    link = [r.attacks["linkability"].risk.value for r in order]
    assert link[0] < link[1] < link[2]
    for attack in ("dcr", "domias"):
        aucs = [r.membership[attack]["auc"] for r in order]
        assert aucs[0] + 0.1 < aucs[1] < aucs[2], (attack, aucs)


def test_a_row_level_split_is_refused(parts: dict[str, PanelData]) -> None:
    from synth_audit.errors import DataValidationError

    train = parts["train"]
    # The control set holds rows of training persons (what a row-level split gives).
    leaked = pd.concat(
        [parts["control"].frame, train.frame[train.frame["nr"] == train.unit_ids()[0]]]
    )
    with pytest.raises(
        DataValidationError, match=r"both the train and the control.*Split by entity"
    ):
        evaluate_panel_release(
            train=train, synthetic=train, control=leaked, reference=parts["reference"]
        )


@pytest.mark.slow
def test_discriminative_score_copy_near_zero_marginals_clearly_above(
    parts: dict[str, PanelData],
) -> None:
    out = {}
    for name in ("copy", "independent_marginals"):
        gen = make_panel_generator(name).fit(parts["train"], random_state=1)
        release = gen.sample(100, random_state=2)
        findings, tables = panel_utility(
            train=parts["train"], synthetic=release, real=parts["control"], random_state=3
        )
        assert {f["role"] for f in findings} <= {"utility", "evidence"}
        assert tables[0]["rows"] and len(tables[0]["rows"]) == 9  # one per column
        out[name] = {f["name"]: f for f in findings}
    copy, marg = out["copy"], out["independent_marginals"]
    assert copy["discriminative"]["value"] <= 0.1
    assert copy["discriminative"]["ci_low"] == 0.0
    assert marg["discriminative"]["value"] >= 0.3
    assert marg["discriminative"]["ci_low"] > copy["discriminative"]["ci_high"]
    assert copy["discriminative"]["direction"] == "lower_is_better"
    assert copy["discriminative"]["bounds"] == [0.0, 0.5]
    assert marg["indistinguishability"]["value"] == pytest.approx(
        1 - 2 * marg["discriminative"]["value"]
    )
    # Independent draws per step destroy the temporal dependence; a copy keeps it exactly.
    assert copy["autocorrelation"]["value"] == pytest.approx(1.0, abs=0.05)
    assert marg["autocorrelation"]["value"] < copy["autocorrelation"]["value"] - 0.1
    # A forecaster trained on step-independent draws predicts real sequences worse.
    assert marg["predictive"]["value"] > copy["predictive"]["value"]


def test_report_has_utility_and_sequence_sections(parts: dict[str, PanelData]) -> None:
    small = {k: v.take(np.arange(40)) for k, v in parts.items()}
    release = make_panel_generator("independent_marginals").fit(small["train"]).sample(40)
    r = evaluate_panel_release(
        train=small["train"],
        synthetic=release.frame,  # a plain long table is validated against the train panel
        control=small["control"],
        reference=small["reference"],
        config={
            "seed": 1,
            "n_jobs": 1,
            "singling_out": {"enabled": False},
            "inference": {"enabled": False},
        },
        membership=["dcr"],
    )
    d = json.loads(r.to_json())
    assert d["membership"]["dcr"]["unit"] == "entity"
    util = {f["name"]: f for f in d["sections"]["timeseries_utility"]["findings"]}
    assert {"marginals", "autocorrelation", "discriminative", "predictive"} <= set(util)
    for f in util.values():
        assert f["direction"] in ("higher_is_better", "lower_is_better") and f["bounds"]
    imgs = d["sections"]["sequences"]["images"]
    assert len(imgs) == 4 and imgs[0]["media_type"] == "image/png"
    assert base64.b64decode(imgs[0]["data_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert d["inputs"]["train_panel"]["n_entities"] == 40


def test_svg_fallback_draws_every_sequence() -> None:
    from synth_audit.timeseries.plots import _svg

    svg = _svg(
        "wage", [np.array([1.0, 2.0])], [np.array([2.0, 3.0, 4.0])], (np.ones(2), np.ones(3))
    )
    text = svg.decode()
    assert text.startswith("<svg") and text.count("<polyline") == 4 and "wage" in text
