"""One engine for every target: a study's findings reach its reports, and a target plugin defined only
in the tests joins a study, the store, the frontier and the app's service without engine changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synth_audit import service
from synth_audit.executors import make_executor
from synth_audit.frontier import frontier_for_study
from synth_audit.store import Store, open_store
from synth_audit.study.runner import run_study
from synth_audit.study.spec import study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"


def _spec(name: str, generators: list[dict[str, Any]]) -> Any:
    return study_from_mapping(
        {
            "name": name,
            "seed": 11,
            "seeds": 1,
            "data": {"path": str(FAIR)},
            "split": {"train": 400, "control": 400, "reference": 400, "seed": 5},
            "generators": generators,
            "singling_out": {"n_attacks": 60, "modes": ["multivariate"]},
            "linkability": {"n_attacks": 200},
            "inference": {"secrets": ["affairs"], "n_attacks": 200},
            "utility": {"metrics": ["marginals"]},
            "membership": {"attacks": ["dcr"]},
        }
    )


def _run(spec: Any, store: Store) -> Any:
    with make_executor("inline") as ex:
        return run_study(spec, store=store, executor=ex)


@pytest.fixture(scope="module")
def studied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, str]]:
    store = open_store(tmp_path_factory.mktemp("trunk") / "store.sqlite")
    spec = _spec(
        "trunk",
        [
            {"name": "copy"},
            {"name": "independent_marginals"},
            {"name": "privbayes", "params": {"epsilon": 1.0}},
        ],
    )
    outcome = _run(spec, store)
    assert not outcome.failed, outcome.failed
    runs = {r.generator: r.id for r in store.list_runs(study="trunk")}
    return store, runs


def test_membership_of_every_study_run_reaches_its_report_files(
    studied: tuple[Store, dict[str, str]],
) -> None:
    store, runs = studied
    aucs = {}
    for gen, run_id in runs.items():
        files = service.report_files(store, run_id)
        report = json.loads(files["report.json"])
        dcr = report["membership"]["dcr"]
        aucs[gen] = (dcr["auc"], dcr["auc_ci"])
        assert report["target"]["name"] == gen
        assert report["target"]["kind"] == "tabular_generator"
        assert report["study"] == "trunk" and report["run_id"] == run_id
        html = files["report.html"].decode()
        card = files["audit_card.md"].decode()
        assert "Not assessed" not in card
        assert "dcr" in html and "dcr" in card
        assert gen in card and "trunk" in card
    assert aucs["copy"][0] >= 0.95
    lo, hi = aucs["independent_marginals"][1]
    assert lo <= 0.5 <= hi


def test_the_card_of_a_dp_run_names_its_generator_and_epsilon(
    studied: tuple[Store, dict[str, str]],
) -> None:
    store, runs = studied
    files = service.report_files(store, runs["privbayes"])
    report = json.loads(files["report.json"])
    assert report["target"]["privacy"]["epsilon"] == 1.0
    assert report["target"]["params"]["epsilon"] == 1.0
    card = files["audit_card.md"].decode()
    assert "privbayes" in card and "ε" in card
    run = store.get_run(runs["privbayes"])
    assert run.summary["target"]["privacy"]["epsilon"] == 1.0
    assert run.target_kind == "tabular_generator"


def test_membership_risk_rows_carry_roles(studied: tuple[Store, dict[str, str]]) -> None:
    store, runs = studied
    rows = {r.metric: r for r in store.results_for(runs["copy"])}
    adv = rows["membership.dcr.auc_advantage"]
    assert adv.extra["role"] == "risk" and adv.value is not None and adv.value > 0.9
    assert rows["linkability.risk"].extra["role"] == "risk"
    assert rows["utility.score"].extra["role"] == "utility"
    assert rows["membership.dcr.auc"].extra["role"] == "diagnostic"


def test_a_plugin_target_joins_study_store_frontier_and_app_service(
    echo_plugin: None, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "store.sqlite")
    spec = _spec("plugin", [{"name": "echo", "kind": "echo"}, {"name": "independent_marginals"}])
    outcome = _run(spec, store)
    assert not outcome.failed, outcome.failed
    runs = {r.generator: r for r in store.list_runs(study="plugin")}
    echo = runs["echo"]
    assert echo.status == "done" and echo.target_kind == "echo"
    report = json.loads(service.report_files(store, echo.id)["report.json"])
    assert report["target"]["kind"] == "echo"
    # A bootstrap of train releases about 63 % of the members: AUC near 0.5 + 0.63 / 2.
    assert report["membership"]["dcr"]["auc"] > 0.7
    front = frontier_for_study(store, "plugin")
    names = {p.generator for p in front.points}
    assert names == {"echo", "independent_marginals"}
    assert service.frontier_data(store, "plugin").points
    details = service.run_details(store, echo.id[:8])
    assert details
    listed = service.list_runs_frame(store, study="plugin").frame
    assert "echo" in set(listed.astype(str).to_numpy().ravel())


def test_the_runs_table_names_target_kind_and_claimed_privacy(
    studied: tuple[Store, dict[str, str]],
) -> None:
    store, _ = studied
    frame = service.list_runs_frame(store, study="trunk").frame.set_index("generator")
    assert frame.loc["privbayes", "target"] == "tabular_generator"
    assert frame.loc["privbayes", "privacy"].startswith("ε = 1")
    assert frame.loc["copy", "privacy"] is None


def test_runs_can_be_recorded_between_batches_of_execution(tmp_path: Path) -> None:
    """The runner's two halves: a search loop records runs, executes them, and adds more."""
    from synth_audit.study.runner import execute_pending, record_runs
    from synth_audit.study.spec import expand

    store = open_store(tmp_path / "store.sqlite")
    spec = _spec("halves", [{"name": "copy"}, {"name": "independent_marginals"}])
    first = record_runs(spec, store=store, runs=expand(spec)[:1])
    assert len(first) == 1 and len(store.list_runs(study="halves")) == 1
    with make_executor("inline") as ex:
        out1 = execute_pending(spec, first, store=store, executor=ex)
        assert len(out1.done) == 1
        both = record_runs(spec, store=store)
        assert set(first) <= set(both) and len(both) == 2
        out2 = execute_pending(spec, both, store=store, executor=ex)
    assert out2.already_done == 1 and len(out2.done) == 1
    assert {r.status for r in store.list_runs(study="halves")} == {"done"}


def test_cli_runs_list_and_show_name_seed_numbers_and_target_kind(
    studied: tuple[Store, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from synth_audit.cli import main

    store, runs = studied
    assert main(["runs", "list", "--store", store.url, "--study", "trunk"]) == 0
    listed = capsys.readouterr().out
    raw = str(store.get_run(runs["copy"]).seed)
    assert "#0" in listed and raw not in listed
    assert main(["runs", "show", runs["privbayes"][:8], "--store", store.url]) == 0
    shown = capsys.readouterr().out
    assert "tabular_generator" in shown and "seed #0" in shown
