"""One audit split over query records as executor tasks: the same answers as the unsplit audit.

``synth_audit.partition.partition_queries`` makes every neighbour search of ``synth_audit.encoding``
cut its queries into slices and run them as tasks. Each query's answer depends on that query and the
candidates only, so the split must change nothing: checked bit for bit for every search, on a real
extract (IMDB movies: missing-heavy, ordinal ratings, a few categories) and on a table with a
10,000-category column, in-process, on a spawned process pool and on a Dask LocalCluster; and for a
whole release audit (risks and per-record outcomes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_speed_shared_search import movies_extract

from synth_audit.data import prepare_inputs
from synth_audit.encoding import (
    MixedEncoder,
    knn_gower,
    nearest_gower,
    nearest_gower_multi,
    nearest_neighbors,
)
from synth_audit.errors import ConfigError
from synth_audit.evaluate import evaluate_release
from synth_audit.executors import InlineExecutor, make_executor
from synth_audit.partition import partition_queries

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "randhie"


class CountingExecutor(Executor):
    """Inline, counting the tasks (to show that the search was split at all)."""

    def __init__(self) -> None:
        self.inner = InlineExecutor()
        self.n = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.n += 1
        return self.inner.submit(fn, *args, **kwargs)


def high_cardinality(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)

    def table(m: int) -> pd.DataFrame:
        df = pd.DataFrame(
            {
                "code": [f"c{v}" for v in rng.integers(0, 10_000, m)],
                "region": rng.choice(["n", "s", "e", "w"], m),
                "scale": rng.integers(1, 6, m).astype(float),
                "income": np.round(rng.lognormal(10, 1, m), -2),
            }
        )
        df.loc[rng.random(m) < 0.3, "scale"] = np.nan
        df.loc[rng.random(m) < 0.1, "region"] = None
        return df

    return prepare_inputs(table(n), table(n), table(n))


def searches(data) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every search of synth_audit.encoding on the same data: name -> (distances, indices)."""
    enc = MixedEncoder(data.schema).fit([data.train, data.synthetic, data.control])
    cols = list(data.columns)
    query = pd.concat([data.train, data.control], ignore_index=True)
    emb_q, emb_c = enc.transform_pair(query, data.synthetic, cols[:3])
    return {
        "nearest_gower": nearest_gower(query, data.synthetic, enc, cols),
        "nearest_gower_multi": nearest_gower_multi(query, data.synthetic, enc, cols),
        "knn_gower": knn_gower(query, data.synthetic, enc, cols, 3),
        "nearest_neighbors": nearest_neighbors(emb_q, emb_c, 2, n_columns=3),
    }


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for x, y in zip(a[name], b[name]):
            assert x.shape == y.shape, name
            assert np.array_equal(x, y), name  # the same bits, not only close


@pytest.mark.parametrize("make", [lambda: movies_extract(600, 700), lambda: high_cardinality(500)])
def test_split_searches_equal_the_unsplit_ones(make) -> None:  # type: ignore[no-untyped-def]
    data = make()
    whole = searches(data)
    ex = CountingExecutor()
    with partition_queries(ex, n_tasks=7, min_rows=50):
        split = searches(data)
    assert ex.n == 4 * 7  # every search was split into 7 slices
    assert_same(whole, split)


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["local", "dask://local"])
def test_split_searches_on_real_executors(spec: str) -> None:
    data = high_cardinality(400, seed=3)
    whole = searches(data)
    with make_executor(spec, max_workers=2) as ex, partition_queries(ex, min_rows=100):
        split = searches(data)
    assert_same(whole, split)


def test_partition_refuses_bad_sizes() -> None:
    for kw in ({"n_tasks": 0}, {"min_rows": 0}, {"n_tasks": True}):
        with pytest.raises(ConfigError), partition_queries(InlineExecutor(), **kw):
            pass


@pytest.mark.slow
def test_release_audit_on_a_dask_cluster_equals_the_local_audit() -> None:
    data = movies_extract(2500, 2500)
    config = {
        "seed": 3,
        "singling_out": {"n_attacks": 50},
        "inference": {"secrets": "all"},
        "utility": {"enabled": False},
    }
    kw = {"train": data.train, "synthetic": data.synthetic, "control": data.control}
    local = evaluate_release(**kw, config=config)
    with make_executor("dask://local", max_workers=2) as ex:
        spread = evaluate_release(**kw, config=config, executor=ex)
    assert spread.timings_s.keys() == local.timings_s.keys()
    a, b = dict(local.risks()), dict(spread.risks())
    assert a.keys() == b.keys() and len(a) > 20
    for name in a:
        assert a[name].to_dict() == b[name].to_dict(), name
        pd.testing.assert_frame_equal(a[name].per_record, b[name].per_record)
    # linkability, the inference secrets and the DCR diagnostic ran at once (lanes): same DCR too
    assert local.dcr is not None and local.dcr == spread.dcr


def test_lanes_keep_the_inference_secrets_together_and_in_order() -> None:
    from synth_audit.audits import DcrDiagnosticAudit, Inference, Linkability
    from synth_audit.evaluate import _lanes

    audits = {
        "linkability": Linkability(),
        "inference[a]": Inference(secret="a"),
        "dcr": DcrDiagnosticAudit(),
        "inference[b]": Inference(secret="b"),
    }
    assert _lanes(list(audits), audits) == [
        ["linkability"],
        ["inference[a]", "inference[b]"],
        ["dcr"],
    ]


@pytest.mark.slow
def test_cli_evaluate_on_a_process_pool_writes_the_same_report(tmp_path: Path) -> None:
    """``synth-audit evaluate --executor local --workers 2`` on the randhie sample (inference
    searches for 2,000 train and 2,000 control records: split in two slices) gives the report of an audit in one process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    base = ["evaluate", "--config", SAMPLES / "audit.toml", "--quiet"]
    base += [f"--{r}={SAMPLES / f'{r}.csv'}" for r in ("train", "synthetic", "control")]
    base += ["--secrets", "all"]
    reports = []
    for extra in ([], ["--executor", "local", "--workers", "2"]):
        out = tmp_path / ("pool" if extra else "alone")
        cmd = [sys.executable, "-m", "synth_audit", *map(str, base), "--out", str(out), *extra]
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert res.returncode == 0, res.stderr
        reports.append(json.loads((out / "report.json").read_text(encoding="utf-8")))
    alone, pool = reports
    assert alone["attacks"] == pool["attacks"]
    assert alone["attacks"]["inference"] and alone["attacks"]["linkability"]


def test_cli_evaluate_refuses_a_bad_executor_before_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synth_audit.cli import main

    args = ["evaluate", "--out", str(tmp_path / "o")]
    args += [f"--{r}={SAMPLES / f'{r}.csv'}" for r in ("train", "synthetic", "control")]
    assert main([*args, "--executor", "ray://x"]) == 2
    err = capsys.readouterr().err
    assert "Unknown executor 'ray://x'" in err and "Traceback" not in err
    assert main([*args, "--executor", "local", "--workers", "0"]) == 2
    assert "number of workers" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _search_inside_a_task() -> tuple[bool, bool, bool]:
    """Run on a Dask worker: the worker's own executor splits a search over the cluster."""
    from synth_audit.partition import dask_worker_executor

    data = high_cardinality(300, seed=5)
    whole = searches(data)
    with dask_worker_executor(100) as none:
        pass
    with dask_worker_executor(10_000) as ex:
        assert ex is not None
        counting = CountingExecutor()
        counting.inner = ex  # type: ignore[assignment]
        with partition_queries(counting, n_tasks=3, min_rows=50):
            split = searches(data)
    assert_same(whole, split)
    return none is None, counting.n == 4 * 3, True


@pytest.mark.slow
def test_a_task_on_a_dask_worker_spreads_its_searches_over_the_cluster() -> None:
    from synth_audit.partition import dask_worker_executor

    with dask_worker_executor(10_000) as outside:
        assert outside is None  # not on a Dask worker
    with make_executor("dask://local", max_workers=2) as ex:
        assert ex.submit(_search_inside_a_task).result(timeout=300) == (True, True, True)
