"""Calibration of the classifier audit: an overfit model shows high risk, a model that never saw
the challenge records shows an AUC CI containing 0.5, and a DP model's empirical ε lower bound
does not exceed its claimed ε beyond its CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.models.attacks import MembershipSettings, run_membership
from synth_audit.models.target import ClassifierTarget

torch = pytest.importorskip("torch")

POP = Path(__file__).resolve().parents[1] / "samples" / "randhie" / "population.csv"


@pytest.fixture(scope="module")
def pool() -> pd.DataFrame:
    torch.set_num_threads(1)
    df = pd.read_csv(POP)
    order = np.random.default_rng(0).permutation(len(df))
    df = df.iloc[order].drop_duplicates("person_id").drop(columns=["person_id", "year"])
    return df.reset_index(drop=True)


def _overfit() -> ClassifierTarget:
    return ClassifierTarget(
        name="overfit", label="health", model="mlp", hidden=[128], epochs=150, learning_rate=0.003
    )


@pytest.fixture(scope="module")
def overfit_outcome(pool: pd.DataFrame):  # type: ignore[no-untyped-def]
    members, nonmembers, reference = pool.iloc[:300], pool.iloc[300:600], pool.iloc[600:1300]
    target = _overfit().fit(members, random_state=0)
    settings = MembershipSettings(
        attacks=("loss", "lira_online_global", "lira_offline_global", "rmia"),
        n_reference=2,
        reference_mode="online",
        n_population=300,
    )
    return run_membership(target, members, nonmembers, reference, settings=settings, random_state=1)


@pytest.mark.slow
def test_overfit_model_lira_and_rmia_find_members(overfit_outcome) -> None:  # type: ignore[no-untyped-def]
    res = overfit_outcome.results
    for name in ("lira_online_global", "rmia"):
        r = res[name]
        assert r.auc_ci[0] > 0.55, (name, r.auc_ci)
        assert r.tpr_at[0.01].tpr_ci[0] > 0.01, (name, r.tpr_at[0.01])
        assert r.baseline is not None and r.baseline.auc_ci[0] <= 0.5 <= r.baseline.auc_ci[1]
        assert r.n_target_models == 1 and r.unit == "record"
    # RMIA with 2 reference models beats the LOSS attack at 1 % FPR
    assert res["rmia"].tpr_at[0.01].tpr > res["loss"].tpr_at[0.01].tpr
    assert overfit_outcome.reference["n_models"] == 2
    codes = {w.code for w in res["lira_offline_global"].warnings}
    assert "few_reference_models" not in codes  # only the per-example variants warn


@pytest.mark.slow
def test_model_that_never_saw_the_challenge_records_shows_no_leak(pool: pd.DataFrame) -> None:
    # The model trains on records 1300..1600; "members" and "non-members" are both unseen.
    target = _overfit().fit(pool.iloc[1300:1600], random_state=0)
    members, nonmembers, reference = pool.iloc[:300], pool.iloc[300:600], pool.iloc[600:1300]
    settings = MembershipSettings(n_reference=2, n_population=300, confidence_level=0.99)
    out = run_membership(target, members, nonmembers, reference, settings=settings, random_state=1)
    for name, r in out.results.items():
        assert r.auc_ci[0] <= 0.5 <= r.auc_ci[1], (name, r.auc, r.auc_ci)


@pytest.mark.slow
def test_dp_model_empirical_epsilon_does_not_exceed_its_claim(pool: pd.DataFrame) -> None:
    from synth_audit.models.audit import audit_model

    members, nonmembers, reference = pool.iloc[:300], pool.iloc[300:600], pool.iloc[600:900]
    target = ClassifierTarget(
        name="dp",
        label="health",
        model="torch_mlp",
        hidden=[32],
        epochs=5,
        learning_rate=0.05,
        noise_multiplier=1.5,
        max_grad_norm=1.0,
    ).fit(members, random_state=0)
    info = target.info()
    assert info.epsilon is not None and info.epsilon > 0 and info.delta == 1e-5
    report = audit_model(
        target,
        members=members,
        nonmembers=nonmembers,
        reference=reference,
        settings=MembershipSettings(
            attacks=("loss", "modified_entropy", "entropy"), reference_mode="none"
        ),
        random_state=0,
    )
    dp = report.sections["dp"]
    f = {x["name"]: x for x in dp["findings"]}
    lb = f["epsilon_lower_bound"]["value"]
    assert f["claimed_epsilon"]["value"] == pytest.approx(info.epsilon)
    assert lb <= info.epsilon  # the bound holds at 95 %: no claim refuted
    assert f["epsilon_ceiling"]["value"] > 0
    assert "epsilon_claim_refuted" not in {w["code"] for w in dp["warnings"]}
    assert report.target is not None and report.target["privacy"]["epsilon"] == info.epsilon
    assert set(report.sections) == {"model", "risk_factors", "dp"}
