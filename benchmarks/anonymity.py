"""Exact anonymity measures on a large table: time and peak memory.

Builds ``--rows`` rows (default 1,000,000) × ``--qi`` quasi-identifiers (default 8) of mixed
kinds (integers with a few hundred values, strings, floats with 1 % missing values) and two
sensitive columns (an ordered numeric one and a categorical one), then times
:func:`synth_audit.anonymity.measure_anonymity` (k, class sizes, records below k, distinct /
entropy / recursive ℓ-diversity, ordered and equal-distance t-closeness). Peak memory is the
process's maximum resident set size (``resource.getrusage``) above what it held before the run,
and the peak of Python allocations (``tracemalloc``, numpy included).

    python benchmarks/anonymity.py [--rows 1000000] [--qi 8] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from synth_audit.anonymity import measure_anonymity


def make_table(rows: int, n_qi: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    cols: dict[str, object] = {}
    for i in range(n_qi):
        kind = i % 3
        if kind == 0:
            cols[f"q{i}"] = rng.integers(0, 90 if i == 0 else 12, rows)
        elif kind == 1:
            cols[f"q{i}"] = pd.Categorical.from_codes(
                rng.integers(0, 6, rows), [f"v{j}" for j in range(6)]
            ).astype(object)
        else:
            x = rng.integers(0, 5, rows).astype(float)
            x[rng.random(rows) < 0.01] = np.nan
            cols[f"q{i}"] = x
    cols["income"] = rng.lognormal(10, 1, rows).round(-2)
    cols["diagnosis"] = rng.choice(["none", "flu", "diabetes", "hiv", "cancer"], rows)
    return pd.DataFrame(cols)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--qi", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    df = make_table(args.rows, args.qi, args.seed)
    qi = [c for c in df.columns if c.startswith("q")]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    res = measure_anonymity(
        df, quasi_identifiers=qi, sensitive=["income", "diagnosis"], k=5, ell=2, t=0.2
    )
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{args.rows:,} rows × {len(qi)} quasi-identifiers, 2 sensitive columns: "
        f"{seconds:.2f} s; peak traced allocations {peak / 2**20:.0f} MiB; max RSS growth "
        f"{(rss1 - rss0) / 1024:.0f} MiB (table itself {df.memory_usage(deep=True).sum() / 2**20:.0f} MiB)"
    )
    print(
        f"k = {res.k}, {res.n_classes:,} classes, {res.records_below_k:,} records below k = 5; "
        + "; ".join(
            f"{s.column}: distinct ℓ {s.distinct_l}, entropy ℓ {s.entropy_l:.3f}, "
            f"t {s.t:.3f} ({s.t_distance})"
            for s in res.sensitive
        )
    )


if __name__ == "__main__":
    main()
