"""``synth-audit audit-model`` end to end, and a study of kind ``classifier``."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from synth_audit.cli import main

ROOT = Path(__file__).resolve().parents[1]
POP = ROOT / "samples" / "randhie" / "population.csv"

CONFIG = f"""
[target]
kind = "classifier"
name = "small_logistic"
label = "health"
model = "logistic"
params = {{ weight_decay = 0.1 }}

[data]
path = "{POP.as_posix()}"
group_by = "person_id"
drop = ["person_id", "year"]

[split]
members = 150
nonmembers = 150
reference = 400
seed = 3

[audit]
n_reference = 2
n_population = 100
sensitive = ["race"]
subgroups = ["sex"]
cache_dir = "cache"
"""


@pytest.mark.slow
def test_audit_model_writes_the_reports_and_reuses_cached_reference_models(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "model_audit.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    assert main(["audit-model", str(cfg), "--out", str(tmp_path / "r1"), "--quiet"]) == 0
    files = {p.name for p in (tmp_path / "r1").iterdir()}
    assert {"report.json", "report.html", "audit_card.md"} <= files
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert report["target"]["kind"] == "classifier"
    assert {"model", "risk_factors", "attribute_inference", "dp"} <= set(report["sections"])
    assert set(report["membership"]) >= {"loss", "lira_online", "lira_offline_global", "rmia"}
    for res in report["membership"].values():
        assert res["baseline"]["attack"] == "features_only"
        assert {t["target_fpr"] for t in res["tpr_at"]} == {0.001, 0.01, 0.1}
    model = {f["name"]: f for f in report["sections"]["model"]["findings"]}
    assert model["test_accuracy"]["role"] == "utility"
    factors = {f["name"]: f for f in report["sections"]["risk_factors"]["findings"]}
    assert factors["accuracy_gap"]["role"] == "evidence"
    assert factors["accuracy_gap"]["value"] == pytest.approx(
        model["train_accuracy"]["value"] - model["test_accuracy"]["value"]
    )
    assert factors["n_train"]["value"] == 150 and factors["n_classes"]["value"] == 4
    # the same gate as for releases reads a model report
    report_json = str(tmp_path / "r1" / "report.json")
    assert main(["gate", report_json, "--max-auc", "0.99"]) == 0
    assert main(["gate", report_json, "--max-auc", "0.01"]) == 1
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 2
    # The same audit again: the reference models come from the cache, the numbers are the same.
    assert main(["audit-model", str(cfg), "--out", str(tmp_path / "r2"), "--quiet"]) == 0
    again = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert again["config"]["reference_models"]["cache_hits"] == 2
    assert again["membership"]["rmia"]["auc"] == report["membership"]["rmia"]["auc"]


def test_audit_model_refuses_a_pickle_with_exit_code_2(tmp_path: Path) -> None:
    marker = tmp_path / "UNPICKLED"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_Booby(marker)))
    cfg = tmp_path / "model_audit.toml"
    cfg.write_text(
        '[target]\nlabel = "digit"\nfile = "model.pkl"\n[data]\nbuiltin = "digits"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synth_audit",
            "audit-model",
            str(cfg),
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "pickle" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists() and not (tmp_path / "r").exists()


class _Booby:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def test_bad_config_names_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "model_audit.toml"
    cfg.write_text(
        '[target]\nmodel = "forest"\n[audit]\nn_reference = 0\nbogus = 1\n', encoding="utf-8"
    )
    assert main(["audit-model", str(cfg), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "model" in err and "n_reference" in err and "bogus" in err


@pytest.mark.slow
def test_a_classifier_study_records_rows_and_a_frontier(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from synth_audit.executors import make_executor
    from synth_audit.frontier import frontier_for_study
    from synth_audit.store import open_store
    from synth_audit.study.runner import run_study
    from synth_audit.study.spec import study_from_mapping

    torch.set_num_threads(1)
    spec = study_from_mapping(
        {
            "name": "clf",
            "seed": 1,
            "seeds": 1,
            "data": {"path": str(POP), "group_by": "person_id", "drop": ["person_id", "year"]},
            "split": {"train": 120, "control": 120, "reference": 300, "seed": 1},
            "generators": [
                {
                    "name": "mlp",
                    "kind": "classifier",
                    "params": {
                        "label": "health",
                        "model": "torch_mlp",
                        "hidden": [16],
                        "audit_attacks": ["loss", "lira_online_global", "rmia"],
                        "audit_n_population": 100,
                    },
                    "grid": {"epochs": [2, 30]},
                }
            ],
            "membership": {"attacks": []},
            "frontier": {
                "risk": "membership.lira_online_global.tpr_at_0.01_fpr",
                "utility": "model.test_accuracy",
            },
        }
    )
    store = open_store(tmp_path / "store.sqlite")
    with make_executor("inline") as ex:
        outcome = run_study(spec, store=store, executor=ex)
    assert not outcome.failed, outcome.failed
    runs = store.list_runs(study="clf")
    assert {r.target_kind for r in runs} == {"classifier"} and len(runs) == 2
    for run in runs:
        rows = {r.metric: r for r in store.results_for(run.id)}
        assert rows["model.test_accuracy"].extra["role"] == "utility"
        assert rows["membership.rmia.auc_advantage"].extra["role"] == "risk"
        assert run.summary["utility"] == rows["model.test_accuracy"].value
        assert run.summary["risk"] == rows["membership.lira_online_global.tpr_at_0.01_fpr"].value
        assert "audit_attacks" not in run.summary["target"]["params"]
    assert len(store.list_fits()) == 4  # 2 reference models per run, in the store's fit cache
    assert len(frontier_for_study(store, "clf").points) == 2
