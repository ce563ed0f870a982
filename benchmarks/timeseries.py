"""Time-series releases: fit + sample + audit time of SDV PAR and synthcity TimeGAN on the wage panel,
and the entity-level audit alone at 10x the panel's entities.

Part 1 (``--mode generators``): the shipped NLSY wage panel (samples/wage_panel, 545 persons x 8
years) split by person as the sample study does but using every person (train 200, control 150,
reference 150, holdout 45); each generator is fitted on the train persons, releases 200 persons,
and the release is audited with :func:`synth_audit.timeseries.evaluate_panel_release` (singling
out, linkability, inference on the static attributes, DCR and DOMIAS, the time-series utility
section and the sequence plots). Settings as in samples/wage_panel/study.toml (PAR 32 epochs,
TimeGAN 200 iterations) unless given.

Part 2 (``--mode audit``): the audit alone at 10x the entities: persons resampled with
replacement under new ids (5,450 persons: train 2,000, control 1,500, reference 1,500, release
2,000 persons from ``independent_marginals``).

torch runs on ``--threads`` threads (default 2: the CI machine's cores). Each line printed is JSON.

    python benchmarks/timeseries.py [--mode all|generators|audit] [--par-epochs 32]
        [--timegan-iter 200] [--threads 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.timeseries import PanelData, evaluate_panel_release, split_panel
from synth_audit.timeseries.generators import make_panel_generator

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "samples" / "wage_panel" / "panel.csv"
#: CPU seconds of the last phases (process_time: every thread of this process), beside wall time,
#: so that figures taken on a busy machine can be read.
CPU: dict[str, float] = {}
CONFIG: dict[str, Any] = {
    "singling_out": {"n_attacks": 300},
    "inference": {"secrets": ["educ", "black", "hisp"]},
}


def load() -> PanelData:
    return PanelData(pd.read_csv(PANEL).drop(columns="expersq"), entity="nr", time="year")


def audit(parts: dict[str, PanelData], release: PanelData, seed: int) -> tuple[float, Any]:
    c = time.process_time()
    t = time.perf_counter()
    report = evaluate_panel_release(
        train=parts["train"],
        synthetic=release,
        control=parts["control"],
        reference=parts["reference"],
        config={**CONFIG, "seed": seed, "n_jobs": 1},
    )
    CPU["audit"] = time.process_time() - c
    return time.perf_counter() - t, report


def summary(report: Any) -> dict[str, Any]:
    util = {f["name"]: f["value"] for f in report.sections["timeseries_utility"]["findings"]}
    return {
        "linkability": round(report.attacks["linkability"].risk.value, 3),
        "auc_dcr": round(report.membership["dcr"]["auc"], 3),
        "auc_domias": round(report.membership["domias"]["auc"], 3),
        "discriminative": round(util["discriminative"], 3),
        "autocorrelation": round(util["autocorrelation"], 3),
        "predictive": round(util["predictive"], 3),
    }


def generators(args: argparse.Namespace) -> None:
    sizes = {"train": 200, "control": 150, "reference": 150, "holdout": 45}
    parts = split_panel(load(), sizes, random_state=args.seed)
    for name, params in (
        ("par", {"epochs": args.par_epochs}),
        ("timegan", {"n_iter": args.timegan_iter}),
    ):
        if args.only and name not in args.only:
            continue
        gen = make_panel_generator(name, **params)
        c, t = time.process_time(), time.perf_counter()
        gen.fit(parts["train"], random_state=args.seed)
        fit_s, CPU["fit"] = time.perf_counter() - t, time.process_time() - c
        c, t = time.process_time(), time.perf_counter()
        release = gen.sample(len(parts["train"]), random_state=args.seed + 1)
        sample_s, CPU["sample"] = time.perf_counter() - t, time.process_time() - c
        audit_s, report = audit(parts, release, args.seed)
        print(
            json.dumps(
                {
                    "mode": "generators",
                    "generator": name,
                    "params": params,
                    "entities": {k: len(v) for k, v in parts.items()},
                    "fit_s": round(fit_s, 1),
                    "sample_s": round(sample_s, 1),
                    "audit_s": round(audit_s, 1),
                    "total_s": round(fit_s + sample_s + audit_s, 1),
                    "cpu_s": {k: round(v, 1) for k, v in CPU.items()},
                    "load_avg": os.getloadavg(),
                    **summary(report),
                }
            ),
            flush=True,
        )


def resampled(panel: PanelData, n: int, seed: int) -> PanelData:
    """``n`` persons drawn with replacement, each under a new id."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(panel), n)
    f = panel.frame
    groups = {e: g for e, g in f.groupby(panel.entity, sort=False)}
    ids = panel.unit_ids()
    frames = [groups[ids[int(p)]].assign(**{panel.entity: i}) for i, p in enumerate(picks)]
    return PanelData(pd.concat(frames, ignore_index=True), entity=panel.entity, time=panel.time)


def audit_only(args: argparse.Namespace) -> None:
    big = resampled(load(), 10 * 545, args.seed)
    sizes = {"train": 2000, "control": 1500, "reference": 1500}
    parts = split_panel(big, sizes, random_state=args.seed)
    release = make_panel_generator("independent_marginals").fit(parts["train"]).sample(2000)
    audit_s, report = audit(parts, release, args.seed)
    print(
        json.dumps(
            {
                "mode": "audit",
                "entities": {**{k: len(v) for k, v in parts.items()}, "synthetic": 2000},
                "rows": int(sum(len(v.frame) for v in parts.values()) + len(release.frame)),
                "audit_s": round(audit_s, 1),
                "audit_cpu_s": round(CPU["audit"], 1),
                "load_avg": os.getloadavg(),
                "steps_s": {k: round(v, 1) for k, v in report.timings_s.items() if v >= 0.5},
                **summary(report),
            }
        ),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--mode", choices=["all", "generators", "audit"], default="all")
    ap.add_argument("--par-epochs", type=int, default=32)
    ap.add_argument("--timegan-iter", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", choices=["par", "timegan"], help="generators to time")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(
        json.dumps({"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "threads": args.threads})
    )
    if args.mode in ("all", "audit"):
        audit_only(args)
    if args.mode in ("all", "generators"):
        generators(args)


if __name__ == "__main__":
    main()
