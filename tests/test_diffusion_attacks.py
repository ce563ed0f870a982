"""Calibration of the diffusion audit on a tiny DDPM trained here on scikit-learn's digits.

One model is trained once (module fixture) on 32 digits for 90 epochs: it overfits. Its checkpoint
after 25 epochs is kept, so "more epochs" needs no second training run. The attacks must find the
members of the overfit model, must find nothing when the challenge images are all images the model
never saw, and must not get weaker with more epochs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from synth_audit.diffusion.attacks import (  # noqa: E402
    calibrated_loss_attack,
    loss_attack,
    pia_attack,
    run_attacks,
)
from synth_audit.diffusion.memorisation import memorisation  # noqa: E402
from synth_audit.diffusion.model import DiffusionModel  # noqa: E402
from synth_audit.diffusion.target import DiffusionTarget, audit_diffusion  # noqa: E402

DIGITS = Path(__file__).resolve().parents[1] / "samples" / "digits" / "digits.csv"
EARLY, LATE = 25, 90


@pytest.fixture(scope="module")
def digits() -> dict[str, pd.DataFrame]:
    df = pd.read_csv(DIGITS).sample(frac=1.0, random_state=0).reset_index(drop=True)
    return {
        "members": df.iloc[:32],
        "nonmembers": df.iloc[32:96],
        "reference": df.iloc[96:160],
        "utility": df.iloc[160:460],
    }


@pytest.fixture(scope="module")
def trained(digits: dict[str, pd.DataFrame]) -> dict[str, object]:
    torch.set_num_threads(1)
    checkpoints: dict[int, DiffusionModel] = {}

    def keep(epoch: int, model: DiffusionModel) -> None:
        if epoch == EARLY:
            checkpoints[epoch] = model.copy()

    target = DiffusionTarget(name="overfit", epochs=LATE, batch_size=32, n_generated=64)
    target.fit(digits["members"], random_state=0, on_epoch=keep)
    assert target.model is not None
    checkpoints[LATE] = target.model
    return {"target": target, "checkpoints": checkpoints}


def _images(target: DiffusionTarget, frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return target.images(frame)


@pytest.mark.slow
def test_an_overfit_model_leaks_membership_and_copies_training_images(
    trained: dict[str, object], digits: dict[str, pd.DataFrame]
) -> None:
    target = trained["target"]
    assert isinstance(target, DiffusionTarget)
    model = target.model
    assert model is not None
    mem, non = _images(target, digits["members"]), _images(target, digits["nonmembers"])
    loss = loss_attack(model, mem, non)
    assert loss.unit == "image" and loss.n_members == 32 and loss.n_nonmembers == 64
    assert loss.auc_ci[0] > 0.6, loss.auc_ci
    pia = pia_attack(model, mem, non)
    assert pia.auc_ci[0] > 0.6, pia.auc_ci
    generated = model.sample(64, random_state=1)
    memo = memorisation(generated, mem, non)
    assert memo.n_extracted > 0 and memo.extraction_rate > 0
    assert memo.extraction_ci[0] <= memo.extraction_rate <= memo.extraction_ci[1]


@pytest.mark.slow
def test_a_model_that_never_saw_the_challenge_images_shows_no_leak(
    trained: dict[str, object], digits: dict[str, pd.DataFrame]
) -> None:
    target = trained["target"]
    assert isinstance(target, DiffusionTarget) and target.model is not None
    # "members" here are images the model never saw: the labels are meaningless.
    a, b = _images(target, digits["nonmembers"]), _images(target, digits["reference"])
    results = run_attacks(target.model, a, b, None, attacks=["loss", "pia"])
    for name, res in results.items():
        lo, hi = res.auc_ci
        assert lo <= 0.5 <= hi, (name, res.auc_ci)
        assert "auc_ci_contains_half" in {w.code for w in res.warnings}


@pytest.mark.slow
def test_more_epochs_do_not_lower_the_membership_auc(
    trained: dict[str, object], digits: dict[str, pd.DataFrame]
) -> None:
    target = trained["target"]
    assert isinstance(target, DiffusionTarget)
    ck = trained["checkpoints"]
    assert isinstance(ck, dict) and set(ck) == {EARLY, LATE}
    mem, non = _images(target, digits["members"]), _images(target, digits["nonmembers"])
    early = loss_attack(ck[EARLY], mem, non)
    late = loss_attack(ck[LATE], mem, non)
    assert late.auc >= early.auc_ci[0], (early.auc_ci, late.auc)
    assert early.auc <= late.auc_ci[1], (early.auc, late.auc_ci)
    # The early checkpoint is the same training run, stopped after EARLY epochs.
    assert ck[EARLY].history == ck[LATE].history[:EARLY]


@pytest.mark.slow
def test_a_reference_model_equal_to_the_target_calibrates_every_score_to_zero(
    trained: dict[str, object], digits: dict[str, pd.DataFrame]
) -> None:
    from synth_audit.errors import ConfigError

    target = trained["target"]
    assert isinstance(target, DiffusionTarget) and target.model is not None
    mem, non = _images(target, digits["members"]), _images(target, digits["nonmembers"])
    res = calibrated_loss_attack(target.model, mem, non, reference_model=target.model, n_noise=1)
    assert res.auc == 0.5 and res.auc_ci[0] < 0.5 < res.auc_ci[1]
    assert res.params["reference_models"] == 1
    with pytest.raises(ConfigError, match="reference model"):
        run_attacks(target.model, mem, non, None, attacks=["loss_calibrated"])


@pytest.mark.slow
def test_the_audit_report_has_membership_memorisation_utility_and_samples(
    trained: dict[str, object], digits: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    from synth_audit.report.write import write_report

    target = trained["target"]
    assert isinstance(target, DiffusionTarget)
    report = audit_diffusion(
        target,
        digits["members"],
        digits["nonmembers"],
        reference=digits["reference"],
        utility_train=digits["utility"],
        random_state=3,
    )
    assert set(report.membership) == {"loss", "pia", "secmi"}
    loss = report.membership["loss"]
    assert loss["unit"] == "image" and loss["baseline"]["attack"] == "nearest_reference_baseline"
    assert loss["auc"] > loss["baseline"]["auc_ci"][1]
    memo = report.sections["memorisation"]
    rate = {f["name"]: f for f in memo["findings"]}["extraction_rate"]
    assert rate["role"] == "risk" and rate["ci_low"] <= rate["value"] <= rate["ci_high"]
    assert memo["images"][0]["media_type"] == "image/png"
    util = {f["name"]: f for f in report.sections["image_utility"]["findings"]}
    assert util["class_accuracy"]["role"] == "utility"
    assert 0.0 <= util["precision"]["value"] <= 1.0 and util["frechet_distance"]["value"] >= 0
    assert "Inception" in util["frechet_distance"]["reading"]
    assert report.sections["samples"]["images"]
    assert report.target is not None and report.target["kind"] == "diffusion"
    assert report.target["fingerprint"]
    assert set(report.timings_s) >= {"membership", "generate", "memorisation", "utility"}
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["sections"]["memorisation"]["findings"][0]["name"] == "extraction_rate"
    assert np.isfinite(data["membership"]["pia"]["auc"])
