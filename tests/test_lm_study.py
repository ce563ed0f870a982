"""A study of kind causal_lm: runs sweep the recipe, store role-tagged rows, and the frontier plots
held-out log-likelihood against the highest canary exposure."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from synth_audit.errors import ConfigError  # noqa: E402
from synth_audit.executors import make_executor  # noqa: E402
from synth_audit.frontier import frontier_for_study  # noqa: E402
from synth_audit.store import open_store  # noqa: E402
from synth_audit.study.runner import run_study  # noqa: E402
from synth_audit.study.spec import study_from_mapping  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "lm" / "corpus.csv"


def _spec(frontier: dict[str, str]) -> object:
    return study_from_mapping(
        {
            "name": "lm-study",
            "seed": 3,
            "seeds": 1,
            "data": {"path": str(CORPUS), "drop": ["doc_id", "service", "source"]},
            "split": {"train": 30, "control": 30, "reference": 40, "seed": 1},
            "generators": [
                {
                    "name": "tiny",
                    "kind": "causal_lm",
                    "params": {
                        "vocab_size": 400,
                        "n_embd": 32,
                        "context": 32,
                        "canary_digits": 2,
                        "canary_per_count": 1,
                        "epochs": 2,
                    },
                    "grid": {"noise_multiplier": [0.0]},
                }
            ],
            "frontier": frontier,
        }
    )


@pytest.mark.slow
def test_lm_study_runs_reach_store_and_frontier(tmp_path: Path) -> None:
    spec = _spec({"risk": "canaries.max_exposure", "utility": "model.heldout_log_likelihood"})
    store = open_store(tmp_path / "store.sqlite")
    with make_executor("inline") as ex:
        outcome = run_study(spec, store=store, executor=ex)
    assert not outcome.failed, outcome.failed
    runs = store.list_runs(study="lm-study")
    assert len(runs) == 1 and {r.target_kind for r in runs} == {"causal_lm"}
    front = frontier_for_study(store, "lm-study")
    assert len(front.points) == 1
    assert all(0 <= p.risk <= 2 * 3.33 for p in front.points)
    assert all(p.utility is not None and p.utility < 0 for p in front.points)
    rows = {r.metric: r for r in store.results_for(runs[0].id)}
    assert rows["membership.loss.auc_advantage"].extra["role"] == "risk"
    assert rows["model.heldout_perplexity"].extra["role"] == "utility"


def test_lm_study_frontier_names_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"canaries\.max_exposure"):
        _spec({"risk": "canaries.max_exposur", "utility": "model.heldout_log_likelihood"})
