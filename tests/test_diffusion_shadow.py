"""Shadow modelling (LiRA on the denoising loss) against tiny DDPMs on 8×8 digits, through the
fit cache: it finds the members of an overfit model, finds nothing on images no model of the
target saw, and in a study the runner's fit tasks are exactly the fits the run reads (a re-run
fits nothing)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from synth_audit.diffusion.attacks import run_attacks  # noqa: E402
from synth_audit.diffusion.shadow import shadow_attack, shadow_losses  # noqa: E402
from synth_audit.diffusion.target import (  # noqa: E402
    DiffusionTarget,
    audit_diffusion,
    shadow_plan,
)
from synth_audit.errors import ConfigError  # noqa: E402
from synth_audit.store import open_store  # noqa: E402

DIGITS = Path(__file__).resolve().parents[1] / "samples" / "digits" / "digits.csv"
N = 16  # members, non-members and the unseen model's training images
TINY = {
    "block_out_channels": [8, 16],
    "num_train_timesteps": 50,
    "batch_size": N,
    "num_classes": 10,
    "n_shadow": 4,
    "attacks": ["loss", "shadow"],
}
SEED = 5


@pytest.fixture(scope="module")
def digits() -> dict[str, pd.DataFrame]:
    df = pd.read_csv(DIGITS).sample(frac=1.0, random_state=0).reset_index(drop=True)
    return {
        "members": df.iloc[:N],
        "nonmembers": df.iloc[N : 2 * N],
        "reference": df.iloc[2 * N : 4 * N],
        "other": df.iloc[4 * N : 5 * N],
    }


@pytest.fixture(scope="module")
def overfit(digits: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An overfit model (50 epochs on 16 images), one of the same recipe trained on 16 other
    images, and the 4 shadow models' losses, cached in a store."""
    torch.set_num_threads(1)
    target = DiffusionTarget(name="overfit", epochs=50, **TINY).fit(
        digits["members"], random_state=0
    )
    unseen = DiffusionTarget(name="unseen", epochs=50, **TINY).fit(digits["other"], random_state=0)
    store = open_store(tmp_path_factory.mktemp("fits") / "store.sqlite")
    plan = shadow_plan(
        target, digits["members"], digits["nonmembers"], digits["reference"], random_state=SEED
    )
    losses = shadow_losses(plan, store=store)
    return {"target": target, "unseen": unseen, "store": store, "plan": plan, "losses": losses}


@pytest.mark.slow
def test_the_shadow_attack_finds_the_members_of_an_overfit_model_and_none_of_an_unseen_one(
    overfit: Any, digits: dict[str, pd.DataFrame]
) -> None:
    plan, losses = overfit["plan"], overfit["losses"]
    assert losses.fitted == 4 and losses.hits == 0 and losses.losses.shape == (4, 2 * N)
    # Complementary halves: each challenge image is IN exactly 2 of the 4 shadow models.
    assert plan.in_mask.sum(axis=0).tolist() == [2] * (2 * N) and plan.online
    for model in ("target", "unseen"):
        target = overfit[model]
        mem = target.images(digits["members"])
        non = target.images(digits["nonmembers"])
        res = shadow_attack(target.model, mem, non, shadow=losses)
        assert res.attack == "shadow" and res.unit == "image"
        assert res.params["n_shadow"] == 4 and res.params["variance"] == "global"
        lo, hi = res.auc_ci
        if model == "target":
            assert lo > 0.6, res.auc_ci
        else:  # trained on other images: the challenge images' "membership" is noise
            assert lo <= 0.5 <= hi, res.auc_ci
    # Through run_attacks, with the model-free baseline beside it.
    target = overfit["target"]
    mem, non = target.images(digits["members"]), target.images(digits["nonmembers"])
    ref = target.images(digits["reference"])
    out = run_attacks(target.model, mem, non, ref, attacks=["shadow"], shadow=losses)
    assert out["shadow"].baseline is not None
    assert out["shadow"].auc == shadow_attack(target.model, mem, non, shadow=losses).auc
    with pytest.raises(ConfigError, match="shadow"):
        run_attacks(target.model, mem, non, ref, attacks=["shadow"])


@pytest.mark.slow
def test_an_audit_after_the_shadow_fits_reads_them_all_from_the_cache(
    overfit: Any, digits: dict[str, pd.DataFrame]
) -> None:
    store = overfit["store"]
    n_fits = len(store.list_fits())
    report = audit_diffusion(
        overfit["target"],
        digits["members"],
        digits["nonmembers"],
        reference=digits["reference"],
        random_state=SEED,
        store=store,
    )
    assert report.inputs["shadow_models"] == {
        "n_shadow": 4,
        "cached": 4,
        "fitted": 0,
        "train_size": N,
    }
    assert len(store.list_fits()) == n_fits
    target = overfit["target"]
    direct = shadow_attack(
        target.model,
        target.images(digits["members"]),
        target.images(digits["nonmembers"]),
        shadow=overfit["losses"],
    )
    assert report.membership["shadow"]["auc"] == pytest.approx(direct.auc)


def test_the_plan_is_deterministic_and_its_tasks_travel(
    digits: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    target = DiffusionTarget(name="t", epochs=1, **TINY)
    args = (digits["members"], digits["nonmembers"], digits["reference"])
    a = shadow_plan(target, *args, random_state=SEED)
    b = shadow_plan(target, *args, random_state=SEED)
    assert a.keys() == b.keys() and len(set(a.keys())) == 4
    assert set(shadow_plan(target, *args, random_state=SEED + 1).keys()).isdisjoint(a.keys())
    # Another recipe, other keys.
    other = DiffusionTarget(name="t", epochs=2, **TINY)
    assert set(shadow_plan(other, *args, random_state=SEED).keys()).isdisjoint(a.keys())
    task = a.tasks[0]
    assert pickle.loads(pickle.dumps(task)).key() == task.key()
    assert task.resources == {"threads": 1, "gpus": 0}
    assert task.recipe()["kind"] == "diffusion_shadow"
    # With 32 challenge images and a target trained on 16, each shadow trains on one half.
    assert all(len(t.train) == N for t in a.tasks)
    # One epoch on one batch: the same losses inline and on an executor, cached under a URL.
    from synth_audit.executors import make_executor

    torch.set_num_threads(1)
    inline = shadow_losses(a)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with make_executor("inline") as ex:
        pooled = shadow_losses(b, executor=ex, store=url)
    assert (inline.losses == pooled.losses).all() and pooled.fitted == 4
    again = shadow_losses(a, store=url)
    assert again.hits == 4 and again.fitted == 0 and (again.losses == inline.losses).all()
    for bad in ({"n_shadow": 3}, {"n_shadow": 0}, {"shadow_mode": "both"}):
        with pytest.raises(ConfigError):
            DiffusionTarget(name="t", **{**TINY, **bad})


def _spec(name: str, attacks: list[str]) -> Any:
    from synth_audit.study.spec import study_from_mapping

    return study_from_mapping(
        {
            "name": name,
            "seed": 3,
            "seeds": 1,
            "data": {"path": str(DIGITS)},
            "split": {"train": N, "control": N, "reference": 32, "holdout": 32, "seed": 1},
            "generators": [
                {
                    "name": "ddpm",
                    "kind": "diffusion",
                    "params": {
                        **TINY,
                        "epochs": 2,
                        "sample_steps": 5,
                        "n_generated": 8,
                        "attacks": attacks,
                    },
                }
            ],
            "frontier": {
                "risk": "membership.shadow.auc_advantage",
                "utility": "image_utility.class_accuracy",
            },
        }
    )


@pytest.mark.slow
def test_a_study_fits_its_shadow_models_as_fit_tasks_and_a_rerun_fits_nothing(
    tmp_path: Path,
) -> None:
    from synth_audit.executors import make_executor
    from synth_audit.study.runner import record_runs, run_study
    from synth_audit.study.tasks import plan_run_fits

    torch.set_num_threads(1)
    store = open_store(tmp_path / "store.sqlite")
    spec = _spec("digits-shadow", ["loss", "shadow"])
    (run_id,) = record_runs(spec, store=store)
    planned = {t.key() for t in plan_run_fits(store, store.get_run(run_id))}
    assert len(planned) == 4
    with make_executor("inline") as ex:
        assert not run_study(spec, store=store, executor=ex).failed
    # The runner fitted exactly the planned tasks before the run; the run read all 4 of them.
    assert {f.key for f in store.list_fits()} == planned
    run = store.get_run(run_id)
    assert run.summary["shadow_fits"] == {"n_shadow": 4, "cached": 4, "fitted": 0, "train_size": N}
    rows = {r.metric: r for r in store.results_for(run_id)}
    assert rows["membership.shadow.auc_advantage"].extra["role"] == "risk"
    assert run.summary["risk_attack"] == "membership.shadow.auc_advantage"
    # Another study with the same data, recipe and seed: the same fits, none made again.
    again = _spec("digits-shadow-again", ["loss", "shadow"])
    with make_executor("inline") as ex:
        assert not run_study(again, store=store, executor=ex).failed
    (rerun,) = store.list_runs(study="digits-shadow-again")
    assert rerun.summary["shadow_fits"]["fitted"] == 0
    assert {f.key for f in store.list_fits()} == planned
    assert rerun.summary["membership_auc"]["shadow"] == run.summary["membership_auc"]["shadow"]
    # Without the attack "shadow" a diffusion run plans no fits (and keeps its key).
    (plain,) = record_runs(_spec("digits-plain", ["loss"]), store=store)
    assert plan_run_fits(store, store.get_run(plain)) == []
