"""Panel shadow modelling through the study's fit cache: planned fits, prefit, cache hits, workers.

Small studies (50 entities per split, copy and independent_marginals panel generators, one
challenge entity, 4 shadow + 2 evaluation fits per run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w

from synth_audit.executors import make_executor
from synth_audit.store import Store, open_store
from synth_audit.study import load_study, load_study_data, run_study
from synth_audit.timeseries.panel import PanelData
from synth_audit.timeseries.shadow import (
    PanelCachedSamples,
    panel_shadow_attack,
    plan_panel_shadow_fits,
)
from synth_audit.timeseries.target import TimeSeriesGeneratorTarget, _run_split, _shadow_args

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "samples" / "wage_panel" / "panel.csv"
N_FITS = 4 + 2  # per run: one challenge x (n_shadow + n_eval)


def write_study(
    tmp: Path,
    name: str = "ts_cache",
    generators: tuple[str, ...] = ("copy", "independent_marginals"),
) -> Path:
    df = pd.read_csv(PANEL)
    df[df["nr"].isin(df["nr"].unique()[:150])].to_csv(tmp / "panel.csv", index=False)
    d: dict[str, Any] = {
        "name": name,
        "seed": 3,
        "seeds": 1,
        "data": {"path": "panel.csv", "entity": "nr", "time": "year", "drop": ["expersq"]},
        "split": {"train": 50, "control": 50, "reference": 50, "seed": 1},
        "generators": [{"name": g, "kind": "timeseries_generator"} for g in generators],
        "singling_out": {"enabled": False},
        "inference": {"enabled": False},
        "linkability": {"enabled": False},
        "utility": {"enabled": False},
        "membership": {
            "attacks": ["dcr"],
            "shadow": {"n_shadow": 4, "n_eval": 2, "n_challenges": 1, "train_size": 20},
        },
        "frontier": {"utility": "timeseries_utility.indistinguishability"},
    }
    path = tmp / f"{name}.toml"
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return path


def run_on(path: Path, store: Store, executor: str = "inline", workers: int | None = None) -> Any:
    with make_executor(executor, max_workers=workers) as ex:
        return run_study(load_study(path), store=store, executor=ex)


def membership_rows(store: Store, study: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    out = {}
    for r in store.list_runs(study=study):
        for m in store.results_for(r.id):
            if m.metric.startswith("membership."):
                out[(r.generator, m.metric)] = (m.value, m.ci_low, m.ci_high)
    return out


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Store]:
    tmp = tmp_path_factory.mktemp("inline")
    path = write_study(tmp)
    store = open_store(str(tmp / "store.sqlite"))
    outcome = run_on(path, store)
    assert outcome.complete and not outcome.failed, outcome.failed
    return tmp, store


def test_prefit_makes_every_shadow_fit_and_the_run_reads_them_all(
    inline: tuple[Path, Store],
) -> None:
    tmp, store = inline
    runs = store.list_runs(study="ts_cache")
    assert len(runs) == 2
    fits = {f.key: f for f in store.list_fits()}
    assert len(fits) == 2 * N_FITS
    data = load_study_data(load_study(tmp / "ts_cache.toml"))
    for r in runs:
        # The runner made the run's fits; the run made none itself.
        assert r.summary["shadow_cache_hits"] == N_FITS
        assert r.summary["shadow_fitted"] == 0
        tasks = TimeSeriesGeneratorTarget.plan_fits(store, r, data)
        assert {t.key() for t in tasks} <= set(fits) and len({t.key() for t in tasks}) == N_FITS
        rec = fits[tasks[0].key()]
        assert rec.recipe["kind"] == "timeseries_generator"
        assert rec.recipe["name"] == r.generator
        assert "synth_audit" in rec.recipe["versions"]
        # The cache holds the sampled long table: 20 entities (train_size), the panel's columns.
        long = store.read_fit(tasks[0].key())
        assert {"nr", "year", "lwage"} <= set(long.columns) and long["nr"].nunique() == 20


def test_the_cached_fits_give_the_result_of_fitting_in_the_run(inline: tuple[Path, Store]) -> None:
    # The shadow result stored by the run (cached fits) equals the attack that fits inline on
    # the split and arguments the run derives: no drift between plan, cache and attack.
    from synth_audit.study.tasks import spec_of

    _tmp, store = inline
    (r,) = [r for r in store.list_runs(study="ts_cache") if r.generator == "copy"]
    spec = spec_of(store, "ts_cache")
    train, parts = _run_split(spec, r, load_study_data(spec))
    args = _shadow_args(spec, r, train, parts)
    assert args is not None
    fresh = panel_shadow_attack(**args, confidence_level=spec.confidence_level)
    report = json.loads(store.read_artefact(r.id, "report")["report_json"].iloc[0])
    stored = report["membership"]["shadow"]
    assert stored["unit"] == "entity"
    assert stored["auc"] == fresh.auc and stored["n_members"] == fresh.n_members
    assert [t["record_id"] for t in stored["top_exposed"]] == [str(t[0]) for t in fresh.top_exposed]


def test_rerunning_fits_nothing(inline: tuple[Path, Store]) -> None:
    tmp, store = inline
    before = {f.key for f in store.list_fits()}
    steps: list[str] = []
    with make_executor("inline") as ex:
        again = run_study(
            load_study(tmp / "ts_cache.toml"),
            store=store,
            executor=ex,
            progress=lambda step, done, total: steps.append(step),
        )
    assert again.complete and len(again.reused) == 2 and not again.done
    # Another study on the same data and seeds plans the same fits: all cache hits.
    other = run_on(write_study(tmp, "ts_cache_again", ("copy",)), store)
    assert other.complete and len(other.done) == 1
    (r,) = store.list_runs(study="ts_cache_again")
    assert (r.summary["shadow_cache_hits"], r.summary["shadow_fitted"]) == (N_FITS, 0)
    assert {f.key for f in store.list_fits()} == before
    assert "shadow fits" not in steps
    first = membership_rows(store, "ts_cache")
    assert membership_rows(store, "ts_cache_again") == {
        k: v for k, v in first.items() if k[0] == "copy"
    }


def test_a_run_without_prefit_fits_and_caches_its_shadow_fits(tmp_path: Path) -> None:
    # What a `synth-audit worker` run does: no runner, so the run fits what is not cached.
    from synth_audit.study.runner import execute_run, record_runs

    spec = load_study(write_study(tmp_path, generators=("copy",)))
    store = open_store(str(tmp_path / "store.sqlite"))
    ids = record_runs(spec, store=store)
    (copy_id,) = ids
    assert execute_run(store, copy_id)["status"] == "done"
    r = store.get_run(copy_id)
    assert (r.summary["shadow_cache_hits"], r.summary["shadow_fitted"]) == (0, N_FITS)
    planned = {t.key() for t in TimeSeriesGeneratorTarget.plan_fits(store, r)}
    assert planned == {f.key for f in store.list_fits()}


@pytest.mark.slow
def test_a_local_pool_gives_the_inline_membership_results(
    inline: tuple[Path, Store], tmp_path: Path
) -> None:
    _tmp, inline_store = inline
    store = open_store(str(tmp_path / "store.sqlite"))
    outcome = run_on(write_study(tmp_path), store, "local", workers=2)
    assert outcome.complete and not outcome.failed, outcome.failed
    for r in store.list_runs(study="ts_cache"):
        assert (r.summary["shadow_cache_hits"], r.summary["shadow_fitted"]) == (N_FITS, 0)
    # The fits were made in the pool's worker processes, not here.
    from synth_audit.study.provenance import worker_id

    fits = store.list_fits()
    assert len(fits) == 2 * N_FITS
    assert worker_id() not in {f.worker_id for f in fits}
    rows = membership_rows(store, "ts_cache")
    assert ("copy", "membership.shadow.auc") in rows
    assert rows == membership_rows(inline_store, "ts_cache")


@pytest.mark.slow
def test_calibration_through_the_cache(tmp_path: Path) -> None:
    # A copy of the training entities is caught; a release of unseen real entities
    # (leaky, fraction 0) is not (AUC near 0.5). Fits made through the cache. A narrow panel
    # (4 years, 4 columns) keeps the 2 x 48 fits quick.
    df = pd.read_csv(PANEL)[["nr", "year", "educ", "hours", "union", "lwage"]]
    df = df[(df["year"] <= 1983) & df["nr"].isin(df["nr"].unique()[:150])]
    panel = PanelData(df, entity="nr", time="year", sort=True)
    reference, challenges = panel.take(np.arange(50, 150)), panel.take(np.arange(0, 4))
    store = open_store(str(tmp_path / "store.sqlite"))
    kw: dict[str, Any] = {
        "reference": reference,
        "challenges": challenges,
        "n_shadow": 6,
        "n_eval": 6,
        "train_size": 20,
        "random_state": 11,
    }
    copy_cache = PanelCachedSamples(store)
    copy = panel_shadow_attack(generator="copy", params={}, samples=copy_cache, **kw)
    unseen = panel_shadow_attack(
        generator="leaky", params={"fraction": 0.0}, samples=PanelCachedSamples(store), **kw
    )
    assert copy_cache.fitted == 4 * 12 and copy_cache.hits == 0
    assert copy.unit == unseen.unit == "entity"
    assert copy.auc >= 0.9 and copy.auc_ci[0] > 0.6
    assert unseen.auc < 0.75 and unseen.auc_ci[0] < 0.5 < unseen.auc_ci[1]
    # Planned and cached fits are the same fits.
    planned = plan_panel_shadow_fits(generator="copy", params={}, **kw)
    assert {t.key() for t in planned} <= {f.key for f in store.list_fits()}
