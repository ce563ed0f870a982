"""[anonymity] in a study file: each run's release is measured (exact k, ℓ, t), the findings are
stored as risk rows that the frontier can use, and a study without it keeps its stored form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synth_audit.errors import ConfigError
from synth_audit.executors import make_executor
from synth_audit.frontier import frontier_for_study
from synth_audit.store import open_store
from synth_audit.study.runner import run_study
from synth_audit.study.spec import study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"
QI = ["age", "yrs_married", "children", "educ", "occupation"]


def _raw(**extra: Any) -> dict[str, Any]:
    return {
        "name": "anon",
        "seed": 3,
        "data": {"path": str(FAIR)},
        "split": {"train": 300, "control": 300, "reference": 0, "seed": 1},
        "generators": [{"name": "copy"}, {"name": "independent_marginals"}],
        "singling_out": {"enabled": False},
        "linkability": {"enabled": False},
        "inference": {"secrets": ["affairs"], "n_attacks": 100},
        "utility": {"metrics": ["marginals"]},
        "membership": {"enabled": False},
        **extra,
    }


def test_unset_anonymity_keeps_the_stored_form() -> None:
    assert "anonymity" not in study_from_mapping(_raw()).to_dict()


def test_unknown_quasi_identifier_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\[anonymity\] quasi_identifiers.*'zip'"):
        study_from_mapping(_raw(anonymity={"quasi_identifiers": ["age", "zip"]}))


def test_study_runs_store_anonymity_risks_the_frontier_can_use(tmp_path: Path) -> None:
    spec = study_from_mapping(
        _raw(
            anonymity={"quasi_identifiers": QI, "sensitive": ["rate_marriage"], "k": 5},
            frontier={"risk": "anonymity.release_share_below_k", "utility": "utility.score"},
        )
    )
    assert spec.to_dict()["anonymity"]["k"] == 5
    store = open_store(str(tmp_path / "s.sqlite"))
    with make_executor("inline") as ex:
        outcome = run_study(spec, store=store, executor=ex)
    assert outcome.complete and not outcome.failed, outcome.failed
    res = store.results_for_study("anon")
    below = res[res["metric"] == "anonymity.release_share_below_k"].set_index("generator")
    # A copy of train is as (non-)anonymous as train; fair's train has 734 of 1,500 rows below
    # k = 5, so a 300-row sample has most rows in small classes. Independent marginals make
    # new combinations, nearly all unique.
    assert 0.3 < below.loc["copy", "value"] < 1.0
    assert below.loc["independent_marginals", "value"] > below.loc["copy", "value"]
    for run in store.list_runs(study="anon"):
        rows = {r.metric: r for r in store.results_for(run.id)}
        assert rows["anonymity.release_share_below_k"].extra["role"] == "risk"
        assert rows["anonymity.training_share_below_k"].extra["role"] == "evidence"
    assert (res["metric"] == "anonymity.release_t_closeness[rate_marriage]").sum() == 2
    front = frontier_for_study(store, "anon", risk="anonymity.release_share_below_k")
    risks = {p.generator: p.risk for p in front.points}
    assert risks["copy"] == pytest.approx(below.loc["copy", "value"])
