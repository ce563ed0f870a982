"""PET search throughput: trials per hour on 1 and 2 local workers and a Dask LocalCluster, and the
engine's overhead per trial.

Each configuration runs the same search (same seeds, a fresh store) of ``--trials`` trials in
batches of the worker count, then the confirmation runs. Reported per configuration:

* ``trials_per_hour``: trials / wall seconds of the whole search (confirmation included) x 3600;
* ``run_s_mean``: mean seconds a run took inside its worker (its summary's ``seconds``);
* ``overhead_s_per_trial``: (wall - sum of run seconds / workers) / runs: what the search loop,
  the store, process start-up and waiting for the slowest run of a batch add per run.

Usage::

    .venv/bin/python benchmarks/pet_search.py                       # leaky, 8 trials
    .venv/bin/python benchmarks/pet_search.py --generator privbayes --trials 6 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _raw(name: str, generator: str, trials: int, batch: int, train: int) -> dict[str, Any]:
    params = (
        {"fraction": {"type": "float", "low": 0.0, "high": 1.0}}
        if generator == "leaky"
        else {"epsilon": {"type": "float", "low": 0.05, "high": 50.0, "log": True}}
    )
    return {
        "name": name,
        "seed": 42,
        "data": {
            "path": str(ROOT / "samples" / "randhie" / "population.csv"),
            "group_by": "person_id",
            "drop": ["person_id", "year"],
        },
        "split": {"train": train, "control": train, "reference": train, "seed": 42},
        "singling_out": {"enabled": False},
        "linkability": {"enabled": False},
        "inference": {"secrets": ["health"], "n_attacks": 200},
        "utility": {"metrics": ["marginals", "pairwise"]},
        "membership": {"attacks": ["dcr", "domias"]},
        "target": {"name": generator},
        "search": {
            "trials": trials,
            "batch": batch,
            "seed": 1,
            "confirm_top": 2,
            "confirm_seeds": 2,
            "params": params,
            "objectives": [{"metric": "utility.score", "direction": "maximize"}],
            "constraint": {"metric": "worst", "stat": "ci_high", "max": 0.5},
        },
    }


def one(executor: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    from synth_audit.executors import make_executor
    from synth_audit.pet import run_search, search_from_mapping
    from synth_audit.store import open_store

    # batches of 2 everywhere: the same trials on every executor, so the results must agree
    spec = search_from_mapping(_raw("bench", args.generator, args.trials, 2, args.train))
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "store.sqlite")
        t0 = time.perf_counter()
        with make_executor(executor, max_workers=workers) as ex:
            out = run_search(spec, store=store, executor=ex)
        wall = time.perf_counter() - t0
        runs = [r for r in store.list_runs(study="bench") if r.status == "done"]
        run_s = [float(r.summary.get("seconds") or 0.0) for r in runs]
    n_runs = len(runs)
    return {
        "executor": executor,
        "workers": workers,
        "trials": len(out.trials),
        "runs": n_runs,
        "wall_s": round(wall, 2),
        "trials_per_hour": round(len(out.trials) / wall * 3600, 1),
        "run_s_mean": round(sum(run_s) / max(n_runs, 1), 3),
        "overhead_s_per_trial": round((wall - sum(run_s) / workers) / max(n_runs, 1), 3),
        "recommendation": (out.recommendation or {}).get("label"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--generator", choices=["leaky", "privbayes"], default="leaky")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--train", type=int, default=300)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    rows = []
    for executor, workers in (("local", 1), ("local", 2), ("dask://local", 2)):
        row = one(executor, workers, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    recs = {r["recommendation"] for r in rows}
    print(f"same recommendation on every executor: {len(recs) == 1} ({recs})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
