"""The language-model audit's reference model is a cached fit (issue 11): by recipe, tokenizer,
reference texts, seed and scored texts; in a study through the store's fit cache (a fit task the
runner makes before the run, ``CausalLMTarget.plan_fits``), from Python/the CLI in a directory.

Fits are counted with a spy around the real ``_reference_losses`` (the real model still trains),
and the in-process model memo is emptied, so a second run can only skip the fit through the cache.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

import synth_audit.lm.audit as lm_audit  # noqa: E402
from synth_audit.executors import make_executor  # noqa: E402
from synth_audit.lm.target import CausalLMTarget  # noqa: E402
from synth_audit.store import Store, open_store  # noqa: E402
from synth_audit.study.runner import record_runs, run_study  # noqa: E402
from synth_audit.study.spec import StudySpec, study_from_mapping  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "lm" / "corpus.csv"
RECIPE = {"vocab_size": 400, "n_embd": 32, "context": 32, "epochs": 2}


@pytest.fixture
def ref_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = lm_audit._reference_losses

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(lm_audit, "_reference_losses", counting)
    monkeypatch.setattr(lm_audit, "_ref_cache", {})
    return calls


def _spec() -> StudySpec:
    return study_from_mapping(
        {
            "name": "lm-ref",
            "seed": 3,
            "seeds": 1,
            "data": {"path": str(CORPUS), "drop": ["doc_id", "service", "source"]},
            "split": {"train": 30, "control": 30, "reference": 40, "seed": 1},
            "generators": [
                {
                    "name": "tiny",
                    "kind": "causal_lm",
                    "params": {**RECIPE, "canary_digits": 2, "canary_per_count": 1},
                }
            ],
            "frontier": {"risk": "membership.reference.auc", "utility": "model.heldout_perplexity"},
        }
    )


def _reference_rows(store: Store, run_id: str) -> list[Any]:
    return sorted(
        (r.metric, r.value, r.ci_low, r.ci_high)
        for r in store.results_for(run_id)
        if r.metric.startswith("membership.reference.")
    )


def test_a_study_fits_the_reference_model_once_as_a_fit_task(
    tmp_path: Path, ref_fits: list[int]
) -> None:
    spec = _spec()
    store = open_store(str(tmp_path / "store.sqlite"))
    (rid,) = record_runs(spec, store=store)
    tasks = CausalLMTarget.plan_fits(store, store.get_run(rid))
    assert len(tasks) == 1 and len(tasks[0].key()) == 64
    pickle.loads(pickle.dumps(tasks))  # a process pool or Dask can ship it

    with make_executor("inline") as ex:
        out = run_study(spec, store=store, executor=ex)
    assert out.complete, out.failed
    assert len(ref_fits) == 1  # by the fit task; the run read it from the cache
    assert [f.key for f in store.list_fits()] == [tasks[0].key()]
    summary = store.get_run(rid).summary
    assert summary["reference_cache_hits"] == 1 and summary["reference_fitted"] == 0
    before = _reference_rows(store, rid)
    assert before  # the reference attack ran

    store.requeue_run(rid, force=True)
    with make_executor("inline") as ex:
        again = run_study(spec, store=store, executor=ex)
    assert again.done == [rid]
    assert len(ref_fits) == 1  # the second run fits no reference model
    assert len(store.list_fits()) == 1
    assert store.get_run(rid).summary["reference_cache_hits"] == 1
    assert _reference_rows(store, rid) == before
    store.close()


def test_the_cli_audit_reuses_its_reference_model_from_a_cache_dir(
    tmp_path: Path, ref_fits: list[int]
) -> None:
    cfg = {
        "name": "lm-cache",
        "target": {"kind": "causal_lm", "name": "tiny", "recipe": RECIPE},
        "data": {
            "path": str(CORPUS),
            "text_column": "text",
            "members": 30,
            "nonmembers": 30,
            "reference": 40,
            "seed": 2,
        },
        "attacks": {"names": ["loss", "reference"], "baseline": False},
        "audit": {"random_state": 4, "cache_dir": "ref_cache"},
    }
    first = lm_audit.audit_lm_from_config(cfg, base=tmp_path)
    assert first.config["reference_model"] == {"cache_hits": 0, "fitted": 1}
    assert len(list((tmp_path / "ref_cache").glob("*.parquet"))) == 1
    second = lm_audit.audit_lm_from_config(cfg, base=tmp_path)
    assert second.config["reference_model"] == {"cache_hits": 1, "fitted": 0}
    assert len(ref_fits) == 1
    assert second.membership["reference"]["auc"] == first.membership["reference"]["auc"]

    # another seed is another reference model
    other = lm_audit.audit_lm_from_config(
        {**cfg, "audit": {**cfg["audit"], "random_state": 5}}, base=tmp_path
    )
    assert other.config["reference_model"]["fitted"] == 1
    assert len(list((tmp_path / "ref_cache").glob("*.parquet"))) == 2
