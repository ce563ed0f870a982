"""Benchmark of the diffusion shadow attack (LiRA on the denoising loss) against the loss attack.

On scikit-learn's digits: a tiny class-conditional DDPM (UNet2DModel (16, 32), T = 100, batch 32)
trained on ``n`` members for each number of epochs; ``n`` non-members; ``2n`` reference images;
8 shadow models (:mod:`synth_audit.diffusion.shadow`) of which the first 4 (2 complementary pairs)
also give the K = 4 numbers. Prints AUC (95 % CI) and TPR at 10 % FPR of the model-free baseline,
the loss attack and the shadow attack online and offline.

Run ``python benchmarks/diffusion_shadow.py`` (n = 64, epochs 30 and 60: about 2 minutes on one
CPU thread) or ``python benchmarks/diffusion_shadow.py --n 32 --epochs 10 30``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

DIGITS = Path(__file__).resolve().parents[1] / "samples" / "digits" / "digits.csv"


def main() -> None:
    import torch

    from synth_audit.diffusion.attacks import loss_attack, reference_baseline
    from synth_audit.diffusion.shadow import shadow_attack, shadow_losses
    from synth_audit.diffusion.target import DiffusionTarget, shadow_plan

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64, help="members (and non-members)")
    ap.add_argument("--epochs", type=int, nargs="+", default=[30, 60])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)
    df = pd.read_csv(DIGITS).sample(frac=1.0, random_state=1).reset_index(drop=True)
    n = args.n
    mem, non, ref = df.iloc[:n], df.iloc[n : 2 * n], df.iloc[2 * n : 4 * n]
    print("| epochs | attack | AUC (95 % CI) | TPR at 10 % FPR |")
    print("|---|---|---|---|")
    for epochs in args.epochs:
        target = DiffusionTarget(
            name="target",
            epochs=epochs,
            batch_size=32,
            num_train_timesteps=100,
            num_classes=10,
            n_shadow=8,
            attacks=["loss", "shadow"],
            device=args.device,
        )
        t0 = time.perf_counter()
        target.fit(mem, random_state=0)
        plan = shadow_plan(target, mem, non, ref, random_state=1)
        shadow = shadow_losses(plan)
        seconds = time.perf_counter() - t0
        assert target.model is not None
        m, nn = target.images(mem), target.images(non)
        rows = {
            "baseline (nearest reference)": reference_baseline(m, nn, target.images(ref)),
            "loss": loss_attack(target.model, m, nn, random_state=0),
        }
        for k in (4, 8):
            for mode in ("online", "offline"):
                sub = replace(
                    plan,
                    tasks=plan.tasks[:k],
                    in_mask=plan.in_mask[:k],
                    online=mode == "online",
                    mode=mode,
                )
                part = replace(shadow, plan=sub, losses=shadow.losses[:k])
                rows[f"shadow K={k} {mode}"] = shadow_attack(target.model, m, nn, shadow=part)
        for name, r in rows.items():
            lo, hi = r.auc_ci
            print(
                f"| {epochs} | {name} | {r.auc:.3f} ({lo:.3f}, {hi:.3f}) | {r.tpr_at[0.1].tpr:.3f} |"
            )
        print(f"<!-- epochs {epochs}: target + 8 shadow models trained in {seconds:.0f} s -->")


if __name__ == "__main__":
    main()
