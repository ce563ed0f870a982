"""Exact Gower nearest neighbours on real, high-cardinality, ordinal-heavy data: old vs new.

Real data: the RAND Health Insurance Experiment extract that ships inside the statsmodels wheel
(``statsmodels.datasets.randhie``, public domain; 20,190 person-years), as cleaned into
``samples/randhie/population.csv`` by ``scripts/make_samples.py``. ``person_id`` is dropped.

Cases (every figure is a ratio measured in this run, never a timed test):

* ``survey``: the table read as a survey is: every integer column with at most 15 distinct values
  (year, family size, coinsurance, site, ...) is a categorical scale, and 5 % item nonresponse is
  blanked at random (seeded) in six attitude/health columns (the extract itself has 4 missing
  cells). Half the rows train, the other half control; the release is an SDV GaussianCopula of
  20,000 rows fitted on train. Per-secret inference cost through ``evaluate_release`` (one secret,
  ``n_attacks`` 1,000 and "all").
* ``highcard``: 12,000 rows with ``income_age`` = income and age joined as one category (9,971
  distinct values: a real 10,000-category column); the release keeps every column's values and
  shuffles them independently (independent marginals). Same inference run.
* ``exact``: the new search against a brute-force Gower matrix (``gower_matrix``) on query subsets.

The old implementation is ``synth_audit/encoding.py`` at ``--ref`` (default: the commit before the
rewrite), loaded from git into each old-engine child process, which patches the name that the
inference attack calls. Each run is a child process with a wall-clock limit (``--limit``); a run
that hits it prints ">limit".

    python benchmarks/nn_real.py                 # all cases
    python benchmarks/nn_real.py --cases highcard --limit 300
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_REF = "79ba4ac"
NONRESPONSE = [
    "health",
    "physical_limitation",
    "mental_health_index",
    "chronic_diseases",
    "decision_maker_educ",
    "income",
]


def _population():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.read_csv(ROOT / "samples/randhie/population.csv").drop(columns=["person_id"])


def make_survey(out: Path, seed: int = 0) -> dict:
    import numpy as np
    import pandas as pd
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    pop = _population()
    rng = np.random.default_rng(seed)
    for c in NONRESPONSE:
        pop[c] = pop[c].astype(object if pop[c].dtype == object else float)
        pop.loc[rng.random(len(pop)) < 0.05, c] = np.nan
    scales = [
        c
        for c in pop.columns
        if pd.api.types.is_numeric_dtype(pop[c])
        and pop[c].dropna().nunique() <= 15
        and (pop[c].dropna() % 1 == 0).all()
    ]
    perm = rng.permutation(len(pop))
    half = len(pop) // 2
    train = pop.iloc[perm[:half]].reset_index(drop=True)
    control = pop.iloc[perm[half : 2 * half]].reset_index(drop=True)
    md = Metadata.detect_from_dataframes({"t": train})
    for c in [*scales, "sex", "race", "individual_deductible", "physical_limitation", "health"]:
        md.update_column(column_name=c, sdtype="categorical", table_name="t")
    synth = GaussianCopulaSynthesizer(md)
    synth.fit({"t": train})
    synth._set_random_state(seed + 1)
    release = synth.sample(20_000)
    release = release["t"] if isinstance(release, dict) else release
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("train", train), ("control", control), ("synthetic", release)):
        df.to_parquet(out / f"{name}.parquet", index=False)
    return {"columns": {c: "categorical" for c in scales}, "secret": "health"}


def make_highcard(out: Path, seed: int = 0) -> dict:
    import numpy as np

    pop = _population()
    pop["income_age"] = pop["income"].astype(str) + "|" + pop["age"].astype(str)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pop))
    train = pop.iloc[perm[:12_000]].reset_index(drop=True)
    control = pop.iloc[perm[12_000:]].reset_index(drop=True)
    release = train.apply(lambda s: s.to_numpy()[rng.permutation(len(s))])
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("train", train), ("control", control), ("synthetic", release)):
        df.to_parquet(out / f"{name}.parquet", index=False)
    return {
        "columns": {"income_age": "categorical", "site": "categorical"},
        "secret": "health",
        "distinct": int(train["income_age"].nunique()),
    }


def _load_old(ref: str):  # type: ignore[no-untyped-def]
    import importlib.util

    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:synth_audit/encoding.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "encoding_old.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("encoding_old", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["encoding_old"] = mod
    spec.loader.exec_module(mod)
    return mod


def worker(args: argparse.Namespace) -> None:
    """Child process: one inference run through evaluate_release; prints one JSON line."""
    import synth_audit.attacks.inference as inference
    from synth_audit import evaluate_release

    if args.engine == "old":
        inference.nearest_gower = _load_old(args.ref).nearest_gower  # type: ignore[attr-defined]
    meta = json.loads(args.meta)
    d = Path(args.data)
    n_attacks: int | str = "all" if args.n_attacks == "all" else int(args.n_attacks)
    cfg = {
        "seed": 0,
        "columns": meta["columns"],
        "singling_out": {"enabled": False},
        "linkability": {"enabled": False},
        "inference": {"secrets": [meta["secret"]], "n_attacks": n_attacks},
        "utility": {"enabled": False},
        "diagnostics": {"dcr": False},
    }
    t0 = time.perf_counter()
    report = evaluate_release(
        train=d / "train.parquet",
        synthetic=d / "synthetic.parquet",
        control=d / "control.parquet",
        config=cfg,
    )
    wall = time.perf_counter() - t0
    t = dict(report.timings_s)
    inf = {k: v for k, v in t.items() if k.startswith("inference[")}
    risks = {n: [r.attack_rate.value, r.n_attacks] for n, r in report.risks()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "inference_s": inf, "rss_mb": rss, "risks": risks}))


def run_child(data: Path, meta: dict, engine: str, n_attacks: str, ref: str, limit: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--data", str(data), "--meta", json.dumps(meta)]
    cmd += ["--engine", engine, "--n-attacks", n_attacks, "--ref", ref]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    load = os.getloadavg()[0]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "load": load}
    if out.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["load"] = load
    return res


def _fmt(r: dict, limit: int) -> str:
    if r.get("timeout"):
        return f"{'>' + str(limit):>9s} s  (load {r['load']:.1f})"
    secs = sum(r["inference_s"].values())
    return (
        f"{secs:9.2f} s  (wall {r['wall_s']:.1f} s, RSS {r['rss_mb']:.0f} MB, load {r['load']:.1f})"
    )


def bench_inference(name: str, data: Path, meta: dict, args: argparse.Namespace) -> None:
    print(f"\n=== {name}: inference[{meta['secret']}] via evaluate_release", flush=True)
    for n_attacks in ("1000", "all"):
        new = run_child(data, meta, "new", n_attacks, args.ref, args.limit)
        old = run_child(data, meta, "old", n_attacks, args.ref, args.limit)
        ratio = ""
        if not old.get("timeout"):
            ratio = f"  old/new {sum(old['inference_s'].values()) / sum(new['inference_s'].values()):.1f}x"
            same = old["risks"] == new["risks"]
            ratio += f"; attack rates {'identical' if same else 'differ: ' + str([old['risks'], new['risks']])}"
        print(f"n_attacks={n_attacks:>4s}  new {_fmt(new, args.limit)}", flush=True)
        print(f"{'':16s}old {_fmt(old, args.limit)}{ratio}", flush=True)


def brute_force_nearest(q, c, enc, cols):  # type: ignore[no-untyped-def]
    """Smallest Gower distance of each query row, column by column from the definition (numpy)."""
    import numpy as np
    import pandas as pd

    from synth_audit.encoding import _category_keys, _numeric_values

    parts = []
    for col in cols:
        if enc.schema.kind(col).is_numeric:
            rng = enc._ranges[col]
            qv, cv = _numeric_values(q[col]), _numeric_values(c[col])
            parts.append(("num", qv / rng if rng > 0 else qv * 0, cv / rng if rng > 0 else cv * 0))
        else:
            codes, _ = pd.factorize(
                np.concatenate([_category_keys(q[col]), _category_keys(c[col])])
            )
            parts.append(("cat", codes[: len(q)], codes[len(q) :]))
    out = np.empty(len(q))
    for s in range(0, len(q), 25):
        total = np.zeros((min(25, len(q) - s), len(c)))
        for kind, a, b in parts:
            a = a[s : s + 25, None]
            if kind == "cat":
                total += a != b[None, :]
            else:
                na, nb = np.isnan(a), np.isnan(b)[None, :]
                diff = np.abs(a - b[None, :])
                total += np.where(na & nb, 0.0, np.where(na | nb, 1.0, diff))
        out[s : s + 25] = total.min(axis=1) / len(cols)
    return out


def bench_exact(data: Path, meta: dict, n_query: int) -> None:
    import numpy as np
    import pandas as pd

    from synth_audit.encoding import MixedEncoder, nearest_gower
    from synth_audit.schema import infer_schema

    train = pd.read_parquet(data / "train.parquet")
    synth = pd.read_parquet(data / "synthetic.parquet")
    schema = infer_schema(train, meta["columns"])
    cols = [c for c in schema.used if c != meta["secret"]]
    enc = MixedEncoder(schema).fit([train, synth])
    q = train.iloc[:n_query]
    nearest_gower(q.iloc[:10], synth, enc, cols)  # numba: load or compile the kernel first
    t0 = time.perf_counter()
    dist, _ = nearest_gower(q, synth, enc, cols)
    t_new = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = brute_force_nearest(q, synth, enc, cols)
    t_ref = time.perf_counter() - t0
    worst = float(np.abs(dist - ref).max())
    print(
        f"exactness on {n_query} queries x {len(synth):,} candidates: max |new - brute force| = "
        f"{worst:.2e}; new {t_new:.2f} s, brute force (numpy, by definition) {t_ref:.1f} s, "
        f"ratio {t_ref / t_new:.0f}x (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", nargs="*", default=["highcard", "survey"])
    ap.add_argument("--ref", default=DEFAULT_REF, help="git revision of the old encoding.py")
    ap.add_argument("--limit", type=int, default=600, help="seconds per child run")
    ap.add_argument("--exact-queries", type=int, default=200)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--meta", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--n-attacks", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"nearest-neighbour benchmark; {os.cpu_count()} cores; old = encoding.py at {args.ref}")
    makers = {"highcard": make_highcard, "survey": make_survey}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            data = Path(tmp) / case
            meta = makers[case](data)
            print(f"\n[{case}] data written; {json.dumps(meta)}", flush=True)
            bench_exact(data, meta, args.exact_queries)
            bench_inference(case, data, meta, args)


if __name__ == "__main__":
    main()
