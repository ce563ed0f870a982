"""Executors: the forms ``--executor`` accepts, one thread per task, and the same study giving the
same numbers on a local process pool and on a Dask LocalCluster."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w

from synth_audit.errors import ConfigError
from synth_audit.executors import InlineExecutor, limit_threads, make_executor
from synth_audit.store import open_store
from synth_audit.study import load_study, run_study

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"


def _thread_state() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    return {
        "pid": os.getpid(),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "pools": [p["num_threads"] for p in threadpool_info()],
    }


def _fail() -> None:
    raise ValueError("task failed")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ray://head:10001", "Unknown executor 'ray://head:10001'"),
        ("dask://scheduler", "no scheduler address of the form HOST:PORT"),
        ("threads", "Unknown executor"),
    ],
)
def test_bad_executor_specs_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_executor(spec)


def test_bad_worker_count() -> None:
    with (
        pytest.raises(ConfigError, match=r"number of workers must be an int >= 1\. Got 0"),
        make_executor("local", max_workers=0),
    ):
        pass


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with (
        pytest.raises(
            ConfigError, match=r"Cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"
        ),
        make_executor("dask://127.0.0.1:9", connect_timeout_s=1),
    ):
        pass


def test_inline_executor_runs_at_submit_and_keeps_errors_in_the_future() -> None:
    with make_executor("inline") as ex:
        assert isinstance(ex, InlineExecutor)
        assert ex.submit(sum, [1, 2]).result() == 3
        fut = ex.submit(_fail)
        with pytest.raises(ValueError, match="task failed"):
            fut.result()


def test_limit_threads_sets_env_and_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, "2")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=None):  # restore the pools afterwards
        limit_threads(1)
        state = _thread_state()
    assert state["omp"] == "1" and os.environ["MKL_NUM_THREADS"] == "1"
    assert all(n == 1 for n in state["pools"])


def test_thread_limit_limits_the_block_and_restores_the_pools() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    from synth_audit.executors import thread_limit

    with threadpool_limits(limits=2):
        before = [p["num_threads"] for p in threadpool_info()]
        with thread_limit(1):
            inside = [p["num_threads"] for p in threadpool_info()]
        after = [p["num_threads"] for p in threadpool_info()]
    assert inside and all(n == 1 for n in inside)
    assert after == before


def test_thread_pool_controller_is_rebuilt_after_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from synth_audit import executors

    first = executors._threadpools()
    assert first is not None and executors._threadpools() is first  # kept while nothing is imported
    monkeypatch.setitem(sys.modules, "_synth_audit_new_module", types.ModuleType("x"))
    assert executors._threadpools() is not first  # an import may have brought a new BLAS


def test_local_pool_workers_use_one_thread() -> None:
    with make_executor("local", max_workers=2) as ex:
        states = [f.result() for f in [ex.submit(_thread_state) for _ in range(4)]]
    assert all(s["pid"] != os.getpid() for s in states)
    assert all(s["omp"] == "1" and all(n == 1 for n in s["pools"]) for s in states)


def _results(store_path: Path) -> pd.DataFrame:
    store = open_store(str(store_path))
    df = store.results_for_study("exec")
    cols = ["generator", "seed", "metric", "value", "ci_low", "ci_high", "confidence_level", "n"]
    return df[cols].sort_values(["generator", "seed", "metric"]).reset_index(drop=True)


def test_dask_local_gives_the_same_results_as_local(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    spec_path = tmp_path / "study.toml"
    spec_path.write_text(
        tomli_w.dumps(
            {
                "name": "exec",
                "seed": 11,
                "seeds": 2,
                "data": {"path": str(FAIR)},
                "split": {"train": 300, "control": 300, "reference": 300, "seed": 5},
                "generators": [
                    {"name": "independent_marginals"},
                    {"name": "leaky", "params": {"fraction": 0.5}},
                ],
                "singling_out": {"n_attacks": 50, "modes": ["univariate"]},
                "linkability": {"n_attacks": 100},
                "inference": {"secrets": ["affairs"], "n_attacks": 100},
                "utility": {"metrics": ["marginals"]},
                "membership": {"attacks": ["dcr", "domias"]},
            }
        ),
        encoding="utf-8",
    )
    spec = load_study(spec_path)
    outcomes = {}
    for name, executor in (("local", "local"), ("dask", "dask://local")):
        store = open_store(str(tmp_path / name / "store.sqlite"))
        with make_executor(executor, max_workers=2) as ex:
            outcomes[name] = run_study(spec, store=store, executor=ex)
        assert outcomes[name].complete, outcomes[name].failed
    local, dask = (
        _results(tmp_path / "local" / "store.sqlite"),
        _results(tmp_path / "dask" / "store.sqlite"),
    )
    assert len(local) == len(dask) > 4 * 10
    pd.testing.assert_frame_equal(local, dask, check_exact=True)
    workers = {
        r.summary["worker"] for r in open_store(str(tmp_path / "dask" / "store.sqlite")).list_runs()
    }
    assert all(not w.endswith(f":{os.getpid()}") for w in workers)  # ran in Dask's worker processes
