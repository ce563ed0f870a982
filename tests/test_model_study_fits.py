"""Reference models of classifier studies as fit tasks on the study executor (issue 10).

``ClassifierTarget.plan_fits`` plans a run's LiRA/RMIA reference models as fit tasks with the keys
the run looks up; the study runner makes them on its executor before the run. Fits are counted with
a spy around the real ``_fit_reference`` (the real model still trains).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import synth_audit.models.attacks as attacks_mod
from synth_audit.executors import make_executor
from synth_audit.models.target import ClassifierTarget
from synth_audit.store import Store, open_store
from synth_audit.study.data import load_study_data
from synth_audit.study.runner import record_runs, run_study
from synth_audit.study.spec import StudySpec, study_from_mapping

ROOT = Path(__file__).resolve().parents[1]
POP = ROOT / "samples" / "randhie" / "population.csv"
N_REF = 2


def _spec(name: str = "clf-fits") -> StudySpec:
    base = {
        "label": "health",
        "model": "logistic",
        "audit_attacks": ["loss", "lira_online_global", "rmia"],
        "audit_n_reference": N_REF,
        "audit_n_population": 60,
    }
    return study_from_mapping(
        {
            "name": name,
            "seed": 5,
            "seeds": 1,
            "data": {"path": str(POP), "group_by": "person_id", "drop": ["person_id", "year"]},
            "split": {"train": 120, "control": 120, "reference": 200, "seed": 2},
            "generators": [
                {"name": "logistic", "kind": "classifier", "params": base},
                {
                    # offline reference models, and a PET whose fit summary is no part of the key
                    "name": "logistic_k",
                    "kind": "classifier",
                    "params": {
                        **base,
                        "anonymise_k": 3,
                        "audit_reference_mode": "offline",
                        "audit_attacks": ["lira_offline_global", "rmia"],
                    },
                },
            ],
            "membership": {"attacks": []},
            "frontier": {
                "risk": "membership.rmia.tpr_at_0.01_fpr",
                "utility": "model.test_accuracy",
            },
        }
    )


@pytest.fixture
def fit_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the reference fits made in this process (a spy: the real fit still runs)."""
    calls: list[int] = []
    real = attacks_mod._fit_reference

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(attacks_mod, "_fit_reference", counting)
    return calls


def _results(store: Store, run_ids: list[str]) -> dict[str, Any]:
    out = {}
    for rid in run_ids:
        run = store.get_run(rid)
        out[run.run_key] = sorted(
            (r.metric, r.value, r.ci_low, r.ci_high) for r in store.results_for(rid)
        )
    return out


def test_planned_keys_are_the_keys_the_run_reads(tmp_path: Path, fit_counter: list[int]) -> None:
    spec = _spec()
    store = open_store(str(tmp_path / "store.sqlite"))
    ids = record_runs(spec, store=store)
    data = load_study_data(spec)
    planned: dict[str, list[str]] = {}
    for rid in ids:
        tasks = ClassifierTarget.plan_fits(store, store.get_run(rid), data)
        assert len(tasks) == N_REF
        assert all(len(t.key()) == 64 and t.resources == {"threads": 1, "gpus": 0} for t in tasks)
        pickle.loads(pickle.dumps(tasks))  # a process pool or Dask can ship them
        planned[rid] = [t.key() for t in tasks]
    assert len({k for keys in planned.values() for k in keys}) == 2 * N_REF
    assert fit_counter == []  # planning fits nothing

    with make_executor("inline") as ex:
        out = run_study(spec, store=store, executor=ex)
    assert out.complete, out.failed
    assert len(fit_counter) == 2 * N_REF  # each reference model once, by its fit task
    assert {f.key for f in store.list_fits()} == {k for keys in planned.values() for k in keys}
    for rid in ids:
        run = store.get_run(rid)
        assert run.summary["reference_cache_hits"] == N_REF  # every model found in the cache
        assert run.summary["reference_fitted"] == 0  # none fitted in the run
    store.close()


def test_without_the_fit_tasks_the_run_fits_the_same_models_itself(
    tmp_path: Path, fit_counter: list[int]
) -> None:
    """The run's own fits (no runner, as under ``synth-audit worker``) land on the planned keys."""
    from synth_audit.study.runner import execute_run

    spec = _spec()
    store = open_store(str(tmp_path / "store.sqlite"))
    ids = record_runs(spec, store=store)
    rid = next(iter(ids))
    keys = {t.key() for t in ClassifierTarget.plan_fits(store, store.get_run(rid))}
    execute_run(store, rid)
    run = store.get_run(rid)
    assert run.status == "done", run.error
    assert run.summary["reference_fitted"] == N_REF and run.summary["reference_cache_hits"] == 0
    assert {f.key for f in store.list_fits()} == keys
    assert len(fit_counter) == N_REF
    store.close()


def test_a_two_worker_pool_fits_in_its_workers_and_equals_the_inline_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    spec = _spec()
    pooled = open_store(str(tmp_path / "pooled.sqlite"))
    with make_executor("local", max_workers=2) as ex:
        out = run_study(spec, store=pooled, executor=ex)
    assert out.complete, out.failed
    fits = pooled.list_fits()
    assert len(fits) == 2 * N_REF
    workers = {f.worker_id for f in fits}
    assert all(w and ":" in w for w in workers), workers
    assert not any(w.endswith(f":{os.getpid()}") for w in workers if w)  # not the study process
    for rid in out.done:
        assert pooled.get_run(rid).summary["reference_cache_hits"] == N_REF

    inline = open_store(str(tmp_path / "inline.sqlite"))
    with make_executor("inline") as ex:
        ref = run_study(spec, store=inline, executor=ex)
    assert ref.complete, ref.failed
    assert _results(pooled, out.done) == _results(inline, ref.done)
    assert {f.key for f in inline.list_fits()} == {f.key for f in fits}
    for f in fits:
        pd.testing.assert_frame_equal(pooled.read_fit(f.key), inline.read_fit(f.key))
    pooled.close()
    inline.close()


def test_a_second_run_of_the_study_fits_nothing(tmp_path: Path, fit_counter: list[int]) -> None:
    spec = _spec()
    store = open_store(str(tmp_path / "store.sqlite"))
    with make_executor("inline") as ex:
        out = run_study(spec, store=store, executor=ex)
    assert out.complete, out.failed
    first = {f.key: f.created_at for f in store.list_fits()}
    before = _results(store, out.done)
    assert len(fit_counter) == 2 * N_REF
    for rid in out.done:
        store.requeue_run(rid, force=True)
    with make_executor("inline") as ex:
        again = run_study(spec, store=store, executor=ex)
    assert sorted(again.done) == sorted(out.done)
    assert len(fit_counter) == 2 * N_REF  # nothing fitted again, by tasks or runs
    assert {f.key: f.created_at for f in store.list_fits()} == first
    for rid in again.done:
        summary = store.get_run(rid).summary
        assert summary["reference_cache_hits"] == N_REF and summary["reference_fitted"] == 0
    assert _results(store, again.done) == before
    store.close()
