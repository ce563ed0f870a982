"""Benchmark of the classifier audit (not a test).

A torch MLP trained on the RAND HIE person-years (``samples/randhie/population.csv``, ~20k rows:
members, non-members and the attacker's reference sample split at random), then

* time per reference model and per scored record;
* RMIA (offline) with 8 reference models, LOSS and LiRA offline, AUC and TPR at 1 % FPR;
* beside them, on the same model and records, IBM's Adversarial Robustness Toolbox: the rule-based
  attack (``MembershipInferenceBlackBoxRuleBased``: member if the prediction is right) and its
  LOSS attack (``MembershipInferenceBlackBox(input_type="loss")``, an attack model trained on
  half the members and non-members, scored on the other half).

Run::

    python benchmarks/model_audit.py                  # ~20k records, 8 reference models
    python benchmarks/model_audit.py --quick          # a smaller smoke run

Prints one JSON document with every figure.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-reference", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from synth_audit.membership import MembershipResult
    from synth_audit.models.attacks import MembershipSettings, run_membership
    from synth_audit.models.target import ClassifierTarget

    df = pd.read_csv(ROOT / "samples" / "randhie" / "population.csv").drop(
        columns=["person_id", "year"]
    )
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    if args.quick:
        df = df.iloc[:4000]
    n = len(df)
    n_mem = n_non = int(n * 0.3)
    members = df.iloc[:n_mem]
    nonmembers = df.iloc[n_mem : n_mem + n_non]
    reference = df.iloc[n_mem + n_non :]
    recipe = dict(
        label="health",
        model="torch_mlp",
        hidden=[256, 256],
        epochs=args.epochs,
        batch_size=128,
        learning_rate=0.002,
    )
    out: dict = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or "?"},
        "records": {"total": n, "members": n_mem, "nonmembers": n_non, "reference": len(reference)},
        "recipe": recipe,
    }
    t0 = time.perf_counter()
    target = ClassifierTarget(name="bench_mlp", **recipe).fit(members, random_state=0)
    out["target_fit_s"] = round(time.perf_counter() - t0, 2)

    executor = None
    if args.workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(
            args.workers, mp_context=multiprocessing.get_context("spawn")
        )
    settings = MembershipSettings(
        attacks=("loss", "lira_offline", "lira_offline_global", "rmia"),
        n_reference=args.n_reference,
        reference_mode="offline",
        n_population=1000 if not args.quick else 300,
    )
    t0 = time.perf_counter()
    res = run_membership(
        target, members, nonmembers, reference, settings=settings, random_state=0, executor=executor
    )
    total = time.perf_counter() - t0
    if executor is not None:
        executor.shutdown()
    fits = res.reference["fit_seconds"]
    out["audit_s"] = round(total, 2)
    out["reference_models"] = res.reference
    out["per_reference_model_s"] = round(float(np.mean(fits)), 2) if fits else None
    scored = n_mem + n_non + settings.n_population
    out["per_scored_record_ms"] = round(
        1000 * (total - sum(fits) / max(args.workers, 1)) / scored, 4
    )
    out["timings_s"] = res.timings_s

    def row(r: MembershipResult) -> dict:
        t = r.tpr_at[0.01]
        return {
            "auc": round(r.auc, 4),
            "auc_ci": [round(x, 4) for x in r.auc_ci],
            "tpr_at_1pct_fpr": round(t.tpr, 4),
        }

    out["synth_audit"] = {k: row(v) for k, v in res.results.items()}

    # ---- ART on the same model and records -----------------------------------------------------
    from art.attacks.inference.membership_inference import (
        MembershipInferenceBlackBox,
        MembershipInferenceBlackBoxRuleBased,
    )
    from art.estimators.classification import PyTorchClassifier

    from synth_audit.models.features import class_index

    backend = target._backend
    enc = backend.encoder
    xm = enc.transform(members.drop(columns=["health"]))
    xn = enc.transform(nonmembers.drop(columns=["health"]))
    ym = class_index(members["health"], target.classes)
    yn = class_index(nonmembers["health"], target.classes)
    clf = PyTorchClassifier(
        model=backend.module,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=(xm.shape[1],),
        nb_classes=len(target.classes),
    )
    labels = np.r_[np.ones(len(xm)), np.zeros(len(xn))]
    t0 = time.perf_counter()
    rule = MembershipInferenceBlackBoxRuleBased(clf)
    pred = np.r_[rule.infer(xm, ym), rule.infer(xn, yn)].ravel()
    out["art_rule_based"] = {
        **row(MembershipResult.from_scores(pred, labels, attack="art_rule", target="bench")),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    t0 = time.perf_counter()
    half_m, half_n = len(xm) // 2, len(xn) // 2
    loss_attack = MembershipInferenceBlackBox(clf, input_type="loss", attack_model_type="rf")
    loss_attack.fit(xm[:half_m], ym[:half_m], xn[:half_n], yn[:half_n])
    pm = loss_attack.infer(xm[half_m:], ym[half_m:], probabilities=True)
    pn = loss_attack.infer(xn[half_n:], yn[half_n:], probabilities=True)
    scores = np.r_[np.asarray(pm)[:, -1], np.asarray(pn)[:, -1]]
    lab2 = np.r_[np.ones(len(xm) - half_m), np.zeros(len(xn) - half_n)]
    out["art_loss_attack_model"] = {
        **row(MembershipResult.from_scores(scores, lab2, attack="art_loss", target="bench")),
        "seconds": round(time.perf_counter() - t0, 2),
        "note": "scored on the second half of the members and non-members (the first trains it)",
    }
    # our LOSS on the same second half, for a like-for-like AUC
    ours = np.r_[res.scores["loss"][half_m:n_mem], res.scores["loss"][n_mem + half_n :]]
    out["synth_audit_loss_same_half"] = row(
        MembershipResult.from_scores(ours, lab2, attack="loss", target="bench")
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
