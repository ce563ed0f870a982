"""Time-series generators in studies: entity splits, stored runs and reports, row splits refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w

from synth_audit.executors import make_executor
from synth_audit.store import open_store
from synth_audit.study import expand, load_study, run_study

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "wage_panel"


def study(tmp: Path, **overrides: Any) -> Path:
    df = pd.read_csv(SAMPLE / "panel.csv")
    df[df["nr"].isin(df["nr"].unique()[:200])].to_csv(tmp / "panel.csv", index=False)
    d: dict[str, Any] = {
        "name": "ts",
        "seed": 3,
        "seeds": 1,
        "data": {"path": "panel.csv", "entity": "nr", "time": "year", "drop": ["expersq"]},
        "split": {"train": 50, "control": 50, "reference": 50, "seed": 1},
        "generators": [
            {"name": "copy", "kind": "timeseries_generator"},
            {"name": "leaky", "kind": "timeseries_generator", "params": {"fraction": 0.0}},
        ],
        "singling_out": {"n_attacks": 50, "modes": ["univariate"]},
        "inference": {"secrets": ["educ"]},
        "utility": {"enabled": False},
        "membership": {"attacks": ["dcr"]},
        # Utility here is the panel's own section ([utility] scores tables, and is off).
        "frontier": {"utility": "timeseries_utility.indistinguishability"},
    }
    d.update(overrides)
    path = tmp / "study.toml"
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return path


def run(path: Path, tmp: Path) -> tuple[Any, Any]:
    spec = load_study(path)
    store = open_store(str(tmp / "store.sqlite"))
    with make_executor("inline") as ex:
        return run_study(spec, store=store, executor=ex), store


@pytest.mark.slow
def test_panel_study_runs_at_the_entity_level(tmp_path: Path) -> None:
    outcome, store = run(study(tmp_path), tmp_path)
    assert outcome.complete and not outcome.failed
    runs = {r.generator: r for r in store.list_runs(study="ts")}
    copy, leaky = runs["copy"], runs["leaky"]
    for r in (copy, leaky):
        assert r.target_kind == "timeseries_generator" and r.summary["unit"] == "entity"
        report = json.loads(store.read_artefact(r.id, "report")["report_json"].iloc[0])
        assert report["target"]["kind"] == "timeseries_generator"
        assert report["membership"]["dcr"]["unit"] == "entity"
        assert "timeseries_utility" in report["sections"] and "sequences" in report["sections"]
        synthetic = store.read_artefact(r.id, "synthetic")
        assert synthetic["nr"].nunique() == 50 and len(synthetic) == 400
        metrics = {m.metric: m for m in store.results_for(r.id)}
        assert "timeseries_utility.discriminative" in metrics
        assert metrics["timeseries_utility.indistinguishability"].extra["role"] == "utility"
    # Per-entity outcomes name the persons of the train split.
    per = store.read_artefact(copy.id, "per_record")
    train_ids = set(store.read_artefact(copy.id, "synthetic")["nr"].astype(str))
    assert len(train_ids) == 50  # the synthetic ids are 0..49, not persons
    linked = per[(per["attack"] == "linkability") & (per["role"] == "train")]
    panel = pd.read_csv(tmp_path / "panel.csv")
    assert set(linked["record"].astype(int)) <= set(panel["nr"])
    # Calibration through the engine: a copy is far riskier than unseen real persons.
    assert copy.summary["risk_ci_low"] >= 0.5
    assert copy.summary["membership_auc"]["dcr"] >= 0.95
    assert leaky.summary["membership_auc"]["dcr"] < 0.75
    # Time-series runs are frontier points (utility: 1 - 2 x the discriminative score).
    from synth_audit.frontier import frontier_for_study

    front = frontier_for_study(store, "ts", utility="timeseries_utility.indistinguishability")
    assert len(front.points) == 2 and not front.excluded


def test_a_row_level_split_of_a_panel_is_refused(tmp_path: Path) -> None:
    path = study(
        tmp_path,
        data={"path": "panel.csv", "drop": ["expersq"]},
        split={"train": 200, "control": 200, "reference": 200, "seed": 1},
        generators=[{"name": "copy", "kind": "timeseries_generator"}],
    )
    assert len(expand(load_study(path))) == 1
    outcome, _ = run(path, tmp_path)
    ((_, error),) = outcome.failed.items()
    assert "row-level split would put one person's rows on both sides" in error
    assert '[data] entity = "<id column>"' in error


@pytest.mark.slow
def test_shadow_modelling_of_a_panel_generator_attacks_entities(tmp_path: Path) -> None:
    shadow = {"n_shadow": 4, "n_eval": 2, "n_challenges": 3, "train_size": 20}
    path = study(
        tmp_path,
        membership={"attacks": ["dcr"], "shadow": shadow},
        generators=[{"name": "copy", "kind": "timeseries_generator"}],
        singling_out={"enabled": False},
        inference={"enabled": False},
    )
    outcome, store = run(path, tmp_path)
    assert outcome.complete and not outcome.failed
    (r,) = store.list_runs(study="ts")
    report = json.loads(store.read_artefact(r.id, "report")["report_json"].iloc[0])
    sh = report["membership"]["shadow"]
    assert sh["unit"] == "entity" and 0.0 <= sh["auc"] <= 1.0
    # Challenge records are persons of the train split: record ids carry their person numbers.
    persons = {str(p) for p in pd.read_csv(tmp_path / "panel.csv")["nr"]}
    top = [t["record_id"] for t in sh["top_exposed"]]
    assert top and all(t.split("/")[0].removeprefix("target:") in persons for t in top)
    assert "membership.shadow.auc" in {m.metric for m in store.results_for(r.id)}


def test_the_sample_study_loads_and_splits_by_person() -> None:
    from synth_audit.study import load_study_data

    spec = load_study(SAMPLE / "study.toml")
    runs = expand(spec)
    assert {r.generator for r in runs} == {
        "copy",
        "leaky",
        "independent_marginals",
        "par",
        "timegan",
    }
    assert len(runs) == 6 and {r.target_kind for r in runs} == {"timeseries_generator"}
    data = load_study_data(spec)
    assert data.unit == "entity" and data.train["nr"].nunique() == 150
    assert not set(data.train["nr"]) & set(data.control["nr"])
    assert data.holdout["nr"].nunique() == 545 - 450


def test_frontier_may_name_the_panel_utility(tmp_path: Path) -> None:
    # The panel utility section's names are results a panel study records, so [frontier] may
    # name them; a lower-is-better score (discriminative) is not a frontier utility.
    path = study(tmp_path, frontier={"utility": "timeseries_utility.indistinguishability"})
    assert load_study(path).frontier.utility == "timeseries_utility.indistinguishability"
    from synth_audit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"timeseries_utility\.discriminative"):
        load_study(study(tmp_path, frontier={"utility": "timeseries_utility.discriminative"}))
