"""Benchmark of the image diffusion audit (synth_audit.diffusion) on scikit-learn's digits.

Measures, on the device given (CPU by default; ``--device cuda`` on a GPU):

* training steps per second of the tiny DDPM (UNet2DModel (16, 32), 8×8 images) at batch 32;
* the attack cost per image: denoising loss (3 timesteps × 4 noise draws), PIA (2 queries) and
  SecMI (inversion to 10 % of the schedule); DDIM sampling per generated image;
* a grid epochs × training-set size: membership AUC (with CI) of each attack, the extraction
  rate and image utility (class accuracy, precision, recall, Fréchet distance in the features of a
  classifier trained here).

Run ``python benchmarks/diffusion.py`` (about 10 minutes on 1 CPU thread) or ``--quick``
(a 2 × 2 grid of short runs). Prints a Markdown table; ``--json PATH`` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "samples" / "digits" / "digits.csv"


def main() -> None:
    import torch

    from synth_audit.diffusion.attacks import (
        calibrated_loss_attack,
        loss_attack,
        pia_attack,
        secmi_attack,
    )
    from synth_audit.diffusion.memorisation import memorisation
    from synth_audit.diffusion.model import DiffusionConfig, DiffusionModel, image_data
    from synth_audit.diffusion.utility import image_utility

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    df = pd.read_csv(DIGITS).sample(frac=1.0, random_state=0).reset_index(drop=True)
    sizes = [32, 128] if not args.quick else [32, 64]
    epochs_grid = [25, 100, 200] if not args.quick else [10, 40]
    n_non = 128
    nonmembers = df.iloc[:n_non]
    util_train = df.iloc[n_non : n_non + 600]
    pool = df.iloc[n_non + 600 :]

    def D(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
        return image_data(frame, pixel_range=(0.0, 16.0))

    out: dict[str, object] = {"device": args.device, "threads": args.threads, "grid": []}
    rows = []
    for n in sizes:
        members = pool.iloc[:n]
        keep: dict[int, DiffusionModel] = {}
        cfg = DiffusionConfig(
            epochs=max(epochs_grid), batch_size=32, device=args.device, num_classes=10
        )
        t0 = time.perf_counter()

        def on_epoch(
            epoch: int, model: DiffusionModel, keep: dict[int, DiffusionModel] = keep
        ) -> None:
            if epoch in epochs_grid:
                keep[epoch] = model.copy()

        DiffusionModel.train(D(members), cfg, random_state=0, on_epoch=on_epoch)
        train_s = time.perf_counter() - t0  # includes the checkpoint copies (negligible)
        # The attacker's reference model: the same recipe on n images the target never saw.
        ref_keep: dict[int, DiffusionModel] = {}

        def on_ref_epoch(
            epoch: int, model: DiffusionModel, keep: dict[int, DiffusionModel] = ref_keep
        ) -> None:
            if epoch in epochs_grid:
                keep[epoch] = model.copy()

        ref_cfg = DiffusionConfig(
            epochs=max(epochs_grid), batch_size=32, device=args.device, num_classes=10
        )
        DiffusionModel.train(D(util_train.iloc[:n]), ref_cfg, random_state=1, on_epoch=on_ref_epoch)
        steps = max(epochs_grid) * -(-n // 32)
        out.setdefault("train_steps_per_s", {})[str(n)] = steps / train_s  # type: ignore[index]
        mem, non = D(members), D(nonmembers)
        for e in epochs_grid:
            model = keep[e]
            costs = {}
            res = {}
            for name, fn in (("loss", loss_attack), ("pia", pia_attack), ("secmi", secmi_attack)):
                t = time.perf_counter()
                res[name] = fn(model, mem, non)  # type: ignore[operator]
                costs[name] = (time.perf_counter() - t) / (len(mem) + len(non)) * 1e3
            t = time.perf_counter()
            res["loss_calibrated"] = calibrated_loss_attack(
                model, mem, non, reference_model=ref_keep[e]
            )
            costs["loss_calibrated"] = (time.perf_counter() - t) / (len(mem) + len(non)) * 1e3
            t = time.perf_counter()
            gen = model.sample(256, random_state=1)
            sample_ms = (time.perf_counter() - t) / 256 * 1e3
            memo = memorisation(gen, mem, non)
            util = image_utility(gen, D(util_train), non)
            row = {
                "train_size": n,
                "epochs": e,
                "steps": e * -(-n // 32),
                **{f"auc_{k}": round(v.auc, 3) for k, v in res.items()},
                **{f"auc_{k}_ci": [round(c, 3) for c in v.auc_ci] for k, v in res.items()},
                "tpr_at_1pct_loss": round(res["loss"].tpr_at[0.01].tpr, 3),
                "extraction_rate": round(memo.extraction_rate, 4),
                "class_accuracy": None
                if util.class_accuracy is None
                else round(util.class_accuracy, 3),
                "precision": round(util.precision, 3),
                "recall": round(util.recall, 3),
                "frechet_distance": round(util.frechet_distance, 2),
                "frechet_distance_real": round(util.frechet_distance_real, 2),
                "ms_per_image": {
                    **{k: round(v, 2) for k, v in costs.items()},
                    "ddim_sample": round(sample_ms, 2),
                },
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    out["grid"] = rows
    print()
    print(
        f"device {args.device}, {args.threads} thread(s); training steps/s (batch 32):",
        {k: round(v, 1) for k, v in out["train_steps_per_s"].items()},
    )  # type: ignore[union-attr]
    print()
    print(
        "| train | epochs | AUC loss [CI] | AUC loss_calibrated | AUC PIA | AUC SecMI | TPR@1%FPR loss | extraction | class acc | precision | recall | FD (clf feats) | ms/img loss/PIA/SecMI/sample |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ms = r["ms_per_image"]
        print(
            f"| {r['train_size']} | {r['epochs']} | {r['auc_loss']} {r['auc_loss_ci']} | "
            f"{r['auc_loss_calibrated']} | {r['auc_pia']} | "
            f"{r['auc_secmi']} | {r['tpr_at_1pct_loss']} | {r['extraction_rate']} | {r['class_accuracy']} | "
            f"{r['precision']} | {r['recall']} | {r['frechet_distance']} (real {r['frechet_distance_real']}) | "
            f"{ms['loss']}/{ms['pia']}/{ms['secmi']}/{ms['ddim_sample']} |"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
