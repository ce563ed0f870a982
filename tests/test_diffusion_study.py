"""A study of kind ``diffusion``: runs train, audit and store a report, rows by role and a frontier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from synth_audit.executors import make_executor  # noqa: E402
from synth_audit.frontier import frontier_for_study  # noqa: E402
from synth_audit.store import open_store  # noqa: E402
from synth_audit.study.runner import run_study  # noqa: E402
from synth_audit.study.spec import study_from_mapping  # noqa: E402

DIGITS = Path(__file__).resolve().parents[1] / "samples" / "digits" / "digits.csv"


def _spec(frontier: dict[str, str]) -> Any:
    return study_from_mapping(
        {
            "name": "digits-diffusion",
            "seed": 3,
            "seeds": 1,
            "data": {"path": str(DIGITS)},
            "split": {"train": 24, "control": 24, "reference": 60, "holdout": 60, "seed": 1},
            "generators": [
                {
                    "name": "ddpm",
                    "kind": "diffusion",
                    "params": {
                        "batch_size": 24,
                        "num_train_timesteps": 50,
                        "sample_steps": 5,
                        "n_generated": 16,
                        "attacks": ["loss", "pia", "loss_calibrated"],
                    },
                    "grid": {"epochs": [1, 2]},
                }
            ],
            "frontier": frontier,
        }
    )


@pytest.mark.slow
def test_a_diffusion_study_stores_reports_rows_and_a_frontier(tmp_path: Path) -> None:
    from synth_audit import service

    torch.set_num_threads(1)
    spec = _spec(
        {"risk": "membership.loss.tpr_at_0.01_fpr", "utility": "image_utility.class_accuracy"}
    )
    store = open_store(tmp_path / "store.sqlite")
    with make_executor("inline") as ex:
        outcome = run_study(spec, store=store, executor=ex)
    assert not outcome.failed, outcome.failed
    runs = store.list_runs(study="digits-diffusion")
    assert len(runs) == 2 and {r.target_kind for r in runs} == {"diffusion"}
    for run in runs:
        rows = {r.metric: r for r in store.results_for(run.id)}
        assert rows["membership.loss.auc_advantage"].extra["role"] == "risk"
        assert rows["memorisation.extraction_rate"].extra["role"] == "risk"
        assert rows["image_utility.class_accuracy"].extra["role"] == "utility"
        assert run.summary["utility"] == rows["image_utility.class_accuracy"].value
        assert run.summary["risk"] == rows["membership.loss.tpr_at_0.01_fpr"].value
        assert run.summary["target"]["kind"] == "diffusion"
        files = service.report_files(store, run.id)
        report = json.loads(files["report.json"])
        assert report["target"]["params"]["epochs"] in (1, 2)
        assert report["membership"]["loss"]["unit"] == "image"
        calibrated = report["membership"]["loss_calibrated"]
        assert calibrated["params"]["reference_models"] == 1
        assert "reference_model" in report["timings_s"]
        assert {"memorisation", "image_utility", "samples"} <= set(report["sections"])
    front = frontier_for_study(store, "digits-diffusion")
    assert len(front.points) == 2


def test_the_sample_study_loads_and_names_diffusion_results() -> None:
    from synth_audit.study.spec import load_study

    spec = load_study(DIGITS.parent / "study.toml")
    assert spec.generators[0].kind == "diffusion"
    assert spec.frontier.utility == "image_utility.class_accuracy"
    assert [c["epochs"] for c in spec.generators[0].configurations()] == [25, 100, 200]
