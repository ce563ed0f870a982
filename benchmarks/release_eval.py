"""Per-record release audit: native engine against anonymeter 1.1.0 on the same work.

Work measured: every training record (and every control record) attacked for linkability, every
column in turn as the inference secret, both singling-out modes at 500 predicates. Data: the randhie
sample's population (samples/randhie/population.csv) scaled up with an SDV GaussianCopula fitted on
it (the real table has 20k person-years, too few for 50k + 50k disjoint rows); the release is a
GaussianCopula fitted on train. Each engine runs in its own process, so peak memory (max RSS) is its own.

anonymeter's nearest-neighbour search costs attacks × synthetic rows, so at 50k it needs hours for this
work. It is timed on a subset of attacks (and of secrets) and extrapolated linearly in the number of
attacks: that is stated in the output beside every extrapolated figure.

    python benchmarks/release_eval.py                 # 10k and 50k rows
    python benchmarks/release_eval.py --sizes 10000   # one size
    python benchmarks/release_eval.py --quick         # 2k rows, for a smoke test
    python benchmarks/release_eval.py --sizes 10000 --old-encoding 79ba4ac
        # also the native engine with nearest_gower from encoding.py at that git revision
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


def make_data(n: int, out: Path, seed: int = 0) -> None:
    import warnings

    import pandas as pd
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    warnings.filterwarnings("ignore")
    pop = pd.read_csv(ROOT / "samples/randhie/population.csv").drop(columns=["person_id", "year"])

    def fit_sample(df: pd.DataFrame, rows: int, s: int) -> pd.DataFrame:
        md = Metadata.detect_from_dataframes({"t": df})
        for c in ("sex", "race", "site", "individual_deductible", "physical_limitation", "health"):
            md.update_column(column_name=c, sdtype="categorical", table_name="t")
        synth = GaussianCopulaSynthesizer(md)
        synth.fit({"t": df})
        synth._set_random_state(s)  # after fit: SDV 2.0 seeds the fitted model
        out = synth.sample(rows)
        return out["t"] if isinstance(out, dict) else out

    pool = fit_sample(pop, 2 * n, seed)
    train, control = pool.iloc[:n].reset_index(drop=True), pool.iloc[n:].reset_index(drop=True)
    synthetic = fit_sample(train, n, seed + 1)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("train", train), ("control", control), ("synthetic", synthetic)):
        df.to_parquet(out / f"{name}.parquet", index=False)


def _config(engine: str, secrets: list[str] | str, n_attacks: int | str) -> dict:
    return {
        "seed": 0,
        "engine": engine,
        "columns": {"site": "categorical"},
        "singling_out": {"n_attacks": 500, "n_cols": 3},
        "linkability": {
            "aux_cols": [
                ["age", "sex", "race", "site", "family_size"],
                ["income", "decision_maker_educ", "coinsurance_pct", "health", "chronic_diseases"],
            ],
            "n_attacks": n_attacks,
        },
        "inference": {"secrets": secrets, "n_attacks": n_attacks},
        "utility": {"enabled": False},
        "diagnostics": {"dcr": False},
    }


def worker(args: argparse.Namespace) -> None:
    """Runs in a child process: one engine on one dataset; prints a JSON line."""
    from synth_audit import evaluate_release

    if args.old_encoding:
        import synth_audit.attacks.inference as inference

        sys.path.insert(0, str(ROOT / "benchmarks"))  # "benchmarks" is taken in site-packages
        from nn_real import _load_old

        inference.nearest_gower = _load_old(args.old_encoding).nearest_gower  # type: ignore[attr-defined]
    d = Path(args.data)
    secrets: list[str] | str = "all" if args.secrets == "all" else args.secrets.split(",")
    n_attacks: int | str = "all" if args.n_attacks == "all" else int(args.n_attacks)
    cfg = _config(args.engine, secrets, n_attacks)
    t0 = time.perf_counter()
    report = evaluate_release(
        train=d / "train.parquet",
        synthetic=d / "synthetic.parquet",
        control=d / "control.parquet",
        config=cfg,
    )
    wall = time.perf_counter() - t0
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
    print(
        json.dumps(
            {"wall_s": wall, "timings": dict(report.timings_s), "rss_mb": rss_mb, "risks": risks}
        )
    )


def run_child(
    data: Path, engine: str, secrets: str, n_attacks: str, old_encoding: str | None = None
) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--data",
        str(data),
        "--engine",
        engine,
        "--secrets",
        secrets,
        "--n-attacks",
        n_attacks,
        *(["--old-encoding", old_encoding] if old_encoding else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(
    n: int, sub_attacks: int, sub_secrets: list[str], old_encoding: str | None = None
) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"n{n}"
        t0 = time.perf_counter()
        make_data(n, data)
        n_cols = pd.read_parquet(data / "train.parquet").shape[1]
        print(
            f"\n=== {n:,} training rows, {n:,} control rows, {n:,} synthetic rows, {n_cols} columns "
            f"(data generated in {time.perf_counter() - t0:.0f} s)"
        )

        load = os.getloadavg()[0]
        nat = run_child(data, "native", "all", "all")
        if old_encoding:
            load_old = os.getloadavg()[0]
            old = run_child(data, "native", "all", "all", old_encoding)
            inf_new = sum(v for k, v in nat["timings"].items() if k.startswith("inference["))
            inf_old = sum(v for k, v in old["timings"].items() if k.startswith("inference["))
            same = all(
                old["risks"][k]["attack_rate"] == r["attack_rate"] for k, r in nat["risks"].items()
            )
            print(
                f"native inference, all secrets: new {inf_new:.1f} s (load {load:.1f}), "
                f"old encoding.py@{old_encoding} {inf_old:.1f} s (load {load_old:.1f}), "
                f"old/new {inf_old / inf_new:.1f}x; total audit new {nat['wall_s']:.1f} s, old "
                f"{old['wall_s']:.1f} s; attack rates {'identical' if same else 'differ'}"
            )
        # anonymeter: singling out in full (its cost does not grow with the number of records attacked)
        # and linkability / inference on `sub_attacks` targets, `sub_secrets` secrets; extrapolated.
        sub = min(sub_attacks, n)
        ano = run_child(data, "anonymeter", ",".join(sub_secrets), str(sub))
        scale = n / sub
        t = ano["timings"]
        so_time = sum(v for k, v in t.items() if k.startswith("singling_out"))
        link_est = t["linkability"] * scale
        per_secret = [v for k, v in t.items() if k.startswith("inference[")]
        inf_est = (sum(per_secret) / len(per_secret)) * scale * n_cols
        ano_est = so_time + link_est + inf_est

        nt = nat["timings"]
        nat_inf = sum(v for k, v in nt.items() if k.startswith("inference["))
        rows = [
            (
                "singling out (both modes)",
                sum(v for k, v in nt.items() if k.startswith("singling_out")),
                so_time,
                "measured",
            ),
            (
                "linkability, every record",
                nt["linkability"],
                link_est,
                f"extrapolated x{scale:.0f} from {sub:,} attacks",
            ),
            (
                f"inference, {n_cols} secrets, every record",
                nat_inf,
                inf_est,
                f"extrapolated from {len(sub_secrets)} secrets x {sub:,} attacks",
            ),
            ("total audit", nat["wall_s"], ano_est, "sum of the above"),
        ]
        print(
            f"{'step':42s} {'native s':>10s} {'anonymeter s':>13s} {'ratio':>8s}  anonymeter figure"
        )
        for name, a, b, how in rows:
            print(f"{name:42s} {a:10.1f} {b:13.1f} {b / a:7.0f}x  {how}")
        print(
            f"peak memory (max RSS): native {nat['rss_mb']:.0f} MB, anonymeter "
            f"{ano['rss_mb']:.0f} MB (on its subset)"
        )
        target = (
            "met"
            if n < 50_000 or (nat["wall_s"] < 60 and ano_est / nat["wall_s"] >= 50)
            else "NOT met"
        )
        if n >= 50_000:
            print(f"target at 50k (>= 50x anonymeter and < 60 s): {target}")

        print(f"\nrisks side by side (anonymeter on {sub:,} attacks; native on all {n:,}):")
        print(
            f"{'attack':32s} {'native risk [CI]':>26s} {'anonymeter risk [CI]':>26s}  "
            f"{'attack rates (nat / ano)':>26s}"
        )
        for name, a in ano["risks"].items():
            b = nat["risks"][name]
            print(
                f"{name:32s} {b['value']:8.3f} [{b['ci'][0]:.3f},{b['ci'][1]:.3f}] "
                f"{a['value']:9.3f} [{a['ci'][0]:.3f},{a['ci'][1]:.3f}]   "
                f"{b['attack_rate']:.3f}±{b['attack_error']:.3f} / {a['attack_rate']:.3f}±{a['attack_error']:.3f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    ap.add_argument("--quick", action="store_true", help="2k rows only")
    ap.add_argument("--sub-attacks", type=int, default=2000)
    ap.add_argument("--sub-secrets", default="health,income")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--secrets", help=argparse.SUPPRESS)
    ap.add_argument("--n-attacks", help=argparse.SUPPRESS)
    ap.add_argument(
        "--old-encoding",
        default=None,
        help="git revision: also time the native engine with nearest_gower from encoding.py there",
    )
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    print(
        f"synth-audit release-evaluation benchmark; {os.cpu_count()} cores; python {sys.version.split()[0]}"
    )
    sizes = [2000] if args.quick else args.sizes
    for n in sizes:
        bench(n, args.sub_attacks, args.sub_secrets.split(","), args.old_encoding)


if __name__ == "__main__":
    main()
