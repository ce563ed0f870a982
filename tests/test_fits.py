"""Fit tasks and the store's fit cache (shadow fits as cached tasks on the study executor).

Fits are counted with a spy around the real ``fit_and_sample`` (the real generator still fits);
the spread over a 2-worker local pool is shown without timing: a test generator's fit waits until
fits have started in two different worker processes (a rendezvous in a directory), so a pool that
gave every fit to one worker fails the test instead of passing by luck.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import tomli_w
from test_study import study_dict

import synth_audit.study.fits as fits_mod
from generators import make_generator
from generators import registry as generator_registry
from generators.baselines import CopyGenerator
from synth_audit.executors import make_executor
from synth_audit.membership.shadow import (
    ShadowFit,
    fit_and_sample,
    plan_shadow_fits,
    run_shadow_attack,
    shadow_attack,
)
from synth_audit.schema import Schema, infer_schema
from synth_audit.store import Store, open_store, upgrade_store
from synth_audit.store._migrate import MIGRATIONS_DIR, SCHEMA_REVISION
from synth_audit.study import load_study, run_study
from synth_audit.study.fits import FitTask, cached, cached_samples, fit_tasks, run_fit_task
from synth_audit.validation import TypeIs

ROOT = Path(__file__).resolve().parents[1]
SHADOW = {"n_targets": 1, "n_shadow": 4, "n_eval": 2, "train_size": 100, "classifier": "logistic"}


@pytest.fixture(scope="module")
def schema(randhie: dict[str, pd.DataFrame]) -> Schema:
    return infer_schema(randhie["train"], {"site": "categorical"})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    st = open_store(str(tmp_path / "store.sqlite"))
    yield st
    st.close()


@pytest.fixture
def fit_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the fits made in this process (a spy: the real fit still runs)."""
    calls: list[str] = []

    def counting(fit: ShadowFit) -> Any:
        calls.append(fit.phase)
        return fit_and_sample(fit)

    monkeypatch.setattr(fits_mod, "fit_and_sample", counting)
    return calls


def _attack_kwargs(randhie: dict[str, pd.DataFrame], schema: Schema, **kw: Any) -> dict[str, Any]:
    rows = np.random.default_rng(3).choice(len(randhie["train"]), size=2, replace=False)
    return {
        "generator": make_generator("independent_marginals"),
        "reference": randhie["holdout"].iloc[:400],
        "targets": randhie["train"].iloc[rows],
        "schema": schema,
        "n_shadow": 6,
        "n_eval": 4,
        "train_size": 100,
        "random_state": 7,
        **kw,
    }


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------


def test_fit_task_key_is_the_recipe_subset_and_seeds(
    randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    kwargs = _attack_kwargs(randhie, schema)
    a = fit_tasks(plan_shadow_fits(**kwargs))
    b = fit_tasks(plan_shadow_fits(**kwargs))
    assert len(a) == 2 * (6 + 4)
    assert [t.key() for t in a] == [t.key() for t in b]  # same plan, same keys
    assert len({t.key() for t in a}) == len(a)  # every fit of a plan is its own
    assert FitTask.resources == {"threads": 1, "gpus": 0}

    t = a[0]
    f = t.fit
    variants = {
        "seed": FitTask.of(ShadowFit(**{**f.__dict__, "fit_seed": f.fit_seed + 1})),
        "sample_seed": FitTask.of(ShadowFit(**{**f.__dict__, "sample_seed": f.sample_seed + 1})),
        "n_samples": FitTask.of(ShadowFit(**{**f.__dict__, "n_samples": f.n_samples + 1})),
        "order": FitTask.of(ShadowFit(**{**f.__dict__, "train": f.train.iloc[::-1]})),
        "rows": FitTask.of(ShadowFit(**{**f.__dict__, "train": f.train.iloc[1:]})),
        "params": FitTask.of(ShadowFit(**{**f.__dict__, "generator": make_generator("copy")})),
    }
    for what, other in variants.items():
        assert other.key() != t.key(), what
    # Labels of the plan (target, phase, member) are not part of what is fitted.
    same = FitTask.of(ShadowFit(**{**f.__dict__, "target": "x", "phase": "eval", "index": 9}))
    assert same.key() == t.key()
    # Row ids are content hashes: a copy of the frame with another index is the same subset.
    moved = f.train.copy()
    moved.index = moved.index + 1000
    assert FitTask.of(ShadowFit(**{**f.__dict__, "train": moved})).key() == t.key()


# --------------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------------


def test_same_fit_task_key_is_reused_not_refitted(
    randhie: dict[str, pd.DataFrame], schema: Schema, store: Store, fit_counter: list[str]
) -> None:
    task = fit_tasks(plan_shadow_fits(**_attack_kwargs(randhie, schema)))[0]
    key = run_fit_task(store, task)
    assert key == task.key() and len(fit_counter) == 1
    again = FitTask.of(task.fit)  # an equal task built again
    assert run_fit_task(store, again) == key
    assert len(fit_counter) == 1  # not refitted
    rec = store.get_fit(key)
    assert rec is not None and rec.n_rows == 100 and rec.path.startswith("fits/")
    assert rec.worker_id and rec.worker_id.endswith(f":{os.getpid()}")
    assert rec.recipe["name"] == "independent_marginals" and rec.seed == task.seed
    direct = fit_and_sample(task.fit).sample
    pd.testing.assert_frame_equal(cached(store, key), direct)
    assert [r.key for r in store.list_fits()] == [key]


def test_a_damaged_cached_fit_is_refitted_not_trusted(
    randhie: dict[str, pd.DataFrame], schema: Schema, store: Store, fit_counter: list[str]
) -> None:
    task = fit_tasks(plan_shadow_fits(**_attack_kwargs(randhie, schema)))[0]
    key = run_fit_task(store, task)
    rec = store.get_fit(key)
    assert rec is not None
    (store.artefact_root / rec.path).write_bytes(b"not parquet")
    assert cached(store, key) is None
    run_fit_task(store, task)
    assert len(fit_counter) == 2
    assert cached(store, key) is not None


def test_cached_samples_give_the_sequential_result(
    randhie: dict[str, pd.DataFrame], schema: Schema, store: Store, fit_counter: list[str]
) -> None:
    kwargs = _attack_kwargs(randhie, schema, classifier="rf")
    sequential = run_shadow_attack(**kwargs)  # fits inline, no cache: today's path
    first = cached_samples(store)
    via_cache = run_shadow_attack(samples=first, **kwargs)
    assert (first.hits, first.fitted) == (0, 20) and len(fit_counter) == 20
    second = cached_samples(store)
    again = shadow_attack(samples=second, **kwargs)
    assert (second.hits, second.fitted) == (20, 0) and len(fit_counter) == 20
    assert via_cache.result.to_dict() == sequential.result.to_dict()
    assert again.to_dict() == sequential.result.to_dict()
    for key, x in sequential.shadow_features.items():
        np.testing.assert_array_equal(via_cache.shadow_features[key], x)
    assert 0.0 <= sequential.result.auc <= 1.0


def test_samples_must_match_the_plan(randhie: dict[str, pd.DataFrame], schema: Schema) -> None:
    from synth_audit.errors import ConfigError

    kwargs = _attack_kwargs(randhie, schema)
    with pytest.raises(ConfigError, match="returned 1 sample"):
        shadow_attack(samples=lambda fits: [fits[0].train], **kwargs)
    with pytest.raises(ConfigError, match="must return DataFrames"):
        shadow_attack(samples=lambda fits: [None] * len(fits), **kwargs)


# --------------------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------------------


def _shadow_study(tmp_path: Path, name: str = "sh", **overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "seeds": 2,
        "generators": [{"name": "copy"}],
        "membership": {"attacks": [], "shadow": SHADOW},
        **overrides,
    }
    d = study_dict(name, **settings)
    path = tmp_path / f"{name}.toml"
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return load_study(path)


def _shadow_rows(store: Store, run_ids: list[str]) -> dict[str, Any]:
    out = {}
    for rid in run_ids:
        key = store.get_run(rid).run_key
        out[key] = {
            r.metric: (r.value, r.ci_low, r.ci_high)
            for r in store.results_for(rid)
            if r.metric.startswith("membership.shadow.")
        }
    return out


def test_a_study_rerun_reuses_its_fits(
    tmp_path: Path, store: Store, fit_counter: list[str]
) -> None:
    spec = _shadow_study(tmp_path)
    n_fits = 2 * 1 * (4 + 2)  # runs x targets x (shadow + eval)
    with make_executor("inline") as ex:
        out = run_study(spec, store=store, executor=ex)
    assert out.complete, out.failed
    assert len(fit_counter) == n_fits  # each fit once, by the fit tasks (the runs read them)
    assert len(store.list_fits()) == n_fits
    before = _shadow_rows(store, out.done)
    assert all(rows["membership.shadow.auc"][0] is not None for rows in before.values())
    for rid in out.done:
        store.requeue_run(rid, force=True)
    with make_executor("inline") as ex:
        again = run_study(spec, store=store, executor=ex)
    assert sorted(again.done) == sorted(out.done)
    assert len(fit_counter) == n_fits  # nothing refitted
    assert len(store.list_fits()) == n_fits
    assert _shadow_rows(store, again.done) == before


class RendezvousCopy(CopyGenerator):
    """``copy`` whose fit waits until fits have started in two processes (or fails after 120 s)."""

    name = "rendezvous_copy"
    _parameter_constraints: ClassVar[dict[str, Any]] = {"rendezvous": [TypeIs((str,), "a str")]}

    def __init__(self, *, rendezvous: str = "") -> None:
        self.rendezvous = rendezvous

    def fit(self, train: pd.DataFrame, **kw: Any) -> Any:
        if self.rendezvous:
            d = Path(self.rendezvous)
            (d / str(os.getpid())).touch()
            deadline = time.monotonic() + 120
            while len(list(d.iterdir())) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("fits ran in one process only")
                time.sleep(0.05)
        return super().fit(train, **kw)


@pytest.fixture
def rendezvous_plugin(tmp_path: Path):
    """Register RendezvousCopy through a real entry point, visible to spawned pool workers."""
    dist = tmp_path / "plugin" / "rendezvous_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rendezvous-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[synth_audit.generators]\nrendezvous_copy = test_fits:RendezvousCopy\n"
    )
    sys.path.insert(0, str(dist.parent))
    generator_registry._plugins = None
    yield
    sys.path.remove(str(dist.parent))
    generator_registry._plugins = None


def test_fits_are_spread_over_a_two_worker_pool_and_equal_the_inline_study(
    tmp_path: Path, rendezvous_plugin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rdv = tmp_path / "rendezvous"
    rdv.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    spec = _shadow_study(
        tmp_path, generators=[{"name": "rendezvous_copy", "params": {"rendezvous": str(rdv)}}]
    )
    pooled = open_store(str(tmp_path / "pooled.sqlite"))
    with make_executor("local", max_workers=2) as ex:
        out = run_study(spec, store=pooled, executor=ex)
    assert out.complete, out.failed
    rows = pooled.list_fits()
    assert len(rows) == 2 * (4 + 2)
    workers = {r.worker_id for r in rows}
    assert len(workers) == 2, workers  # both pool workers fitted
    assert f":{os.getpid()}" not in "".join(w or "" for w in workers)  # not the study process

    # The same study inline (one process, fits in order) gives the same shadow results.
    inline = open_store(str(tmp_path / "inline.sqlite"))
    with make_executor("inline") as ex:
        ref = run_study(spec, store=inline, executor=ex)
    assert _shadow_rows(pooled, out.done) == _shadow_rows(inline, ref.done)
    pooled.close()
    inline.close()


# --------------------------------------------------------------------------------------------------
# Migration 0003
# --------------------------------------------------------------------------------------------------


def test_store_at_0002_is_upgraded_to_the_fit_cache_keeping_its_runs(
    tmp_path: Path, randhie: dict[str, pd.DataFrame], schema: Schema
) -> None:
    old = tmp_path / "migrations_0002"
    shutil.copytree(MIGRATIONS_DIR, old, ignore=shutil.ignore_patterns("__pycache__"))
    for f in (old / "versions").glob("000[3-9]_*.py"):
        f.unlink()
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    st = open_store(url, _script_location=old)
    assert st.schema_revision() == "0002"
    st.ensure_study("s", {})
    run_id = st.add_run(
        study="s", run_key="k", generator="copy", params={}, seed=1, code_version="v"
    )
    st.close()
    con = sqlite3.connect(db)
    assert "fits" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()

    assert upgrade_store(url) == ("0002", SCHEMA_REVISION) and SCHEMA_REVISION == "0003"
    new = open_store(url)
    try:
        run = new.get_run(run_id)
        assert (
            run.run_key == "k" and run.status == "queued" and run.target_kind == "tabular_generator"
        )
        task = fit_tasks(plan_shadow_fits(**_attack_kwargs(randhie, schema)))[0]
        key = run_fit_task(new, task)
        assert new.get_fit(key) is not None and cached(new, key) is not None
    finally:
        new.close()


def test_fit_tasks_declare_their_resources_to_dask(
    randhie: dict[str, pd.DataFrame], schema: Schema, store: Store
) -> None:
    pytest.importorskip("distributed")
    from synth_audit.executors import with_resources
    from synth_audit.study.fits import submit_fit_tasks

    tasks = fit_tasks(plan_shadow_fits(**_attack_kwargs(randhie, schema)))[:3]
    with make_executor("dask://local", max_workers=1) as ex:
        declared = with_resources(ex, FitTask.resources)
        assert declared is not ex and declared._kwargs["resources"] == {"threads": 1.0}
        assert with_resources(ex, {"gpus": 1}) is ex  # no worker has a GPU: not restricted
        futures = submit_fit_tasks(ex, store, tasks)
        assert sorted(f.result(timeout=120) for f in futures) == sorted(t.key() for t in tasks)
    assert {r.key for r in store.list_fits()} == {t.key() for t in tasks}
    with make_executor("inline") as ex:
        assert with_resources(ex, FitTask.resources) is ex  # a local executor is left as is
        assert submit_fit_tasks(ex, store, tasks) == {}  # all cached: nothing submitted
