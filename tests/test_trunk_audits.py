"""Membership attacks as Audit objects: DcrMembership, DomiasMembership, ShadowMembership."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synth_audit.audits import (
    DcrMembership,
    DomiasMembership,
    MembershipData,
    ShadowMembership,
    membership_audits,
    run_membership_audits,
)
from synth_audit.errors import ConfigError
from synth_audit.membership.nobox import run_nobox_attacks
from synth_audit.membership.shadow import shadow_attack
from synth_audit.study.spec import MembershipSpec
from synth_audit.targets import Capability, ReleaseTarget
from synth_audit.targets.generator import GeneratorTarget
from synth_audit.testing import check_audit

ROOT = Path(__file__).resolve().parents[1]
FAIR = ROOT / "samples" / "fair" / "population.csv"


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    df = pd.read_csv(FAIR).sample(n=900, random_state=0).reset_index(drop=True)
    return {
        "members": df.iloc[:120],
        "nonmembers": df.iloc[120:240].reset_index(drop=True),
        "reference": df.iloc[240:480].reset_index(drop=True),
        "fresh": df.iloc[480:600].reset_index(drop=True),  # never seen: an independent release
    }


def _data(frames: dict[str, pd.DataFrame], release: pd.DataFrame, **kw: object) -> MembershipData:
    return MembershipData(
        members=frames["members"],
        nonmembers=frames["nonmembers"],
        reference=frames["reference"],
        release=release,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_nobox_membership_audits_pass_the_contract_and_are_calibrated(
    frames: dict[str, pd.DataFrame],
) -> None:
    copy = _data(frames, frames["members"])
    for make in (DcrMembership, DomiasMembership):
        check_audit(make, data=copy, random_state=3)
    check_audit(lambda: DcrMembership(calibrated=False))
    assert DcrMembership.requires == frozenset({Capability.RELEASE})
    leaked = DcrMembership().run(copy, random_state=1)
    assert leaked.auc >= 0.95
    assert DomiasMembership().run(copy, random_state=1).auc >= 0.9
    fresh = _data(frames, frames["fresh"])
    for audit in (DcrMembership(), DomiasMembership()):
        res = audit.run(fresh, random_state=1)
        assert res.auc_ci[0] <= 0.5 <= res.auc_ci[1], (audit, res.auc_ci)


def test_run_together_they_give_the_numbers_a_study_always_gave(
    frames: dict[str, pd.DataFrame],
) -> None:
    data = _data(frames, frames["fresh"])
    audits = membership_audits(MembershipSpec(attacks=["dcr", "domias"]))
    assert list(audits) == ["dcr", "domias"]
    got = run_membership_audits(audits, data, random_state=11)  # type: ignore[arg-type]
    want = run_nobox_attacks(
        synthetic=frames["fresh"],
        members=frames["members"],
        nonmembers=frames["nonmembers"],
        reference=frames["reference"],
        attacks=["dcr", "domias"],
        random_state=11,
    )
    assert {k: v.to_dict() for k, v in got.items()} == {k: v.to_dict() for k, v in want.items()}
    # a non-default DOMIAS runs on its own, with its baseline
    gmm = DomiasMembership(density="gmm", gmm_components=3).run(data, random_state=2)
    assert gmm.baseline is not None and gmm.params["density"] == "gmm"


def test_membership_audit_errors_name_the_parameter_and_the_missing_input(
    frames: dict[str, pd.DataFrame],
) -> None:
    data = _data(frames, frames["fresh"])
    with pytest.raises(ConfigError, match="'density' parameter of DomiasMembership"):
        DomiasMembership(density="histogram").run(data, random_state=0)
    with pytest.raises(ConfigError, match="'n_shadow' parameter of ShadowMembership"):
        ShadowMembership(n_shadow=2).run(data, random_state=0)
    with pytest.raises(ConfigError, match="needs 'release'"):
        DcrMembership().run(_data(frames, None), random_state=0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs 'target'"):
        ShadowMembership().run(data, random_state=0)
    release = ReleaseTarget(frames["fresh"])
    with pytest.raises(ConfigError, match="re-fits a tabular generator"):
        ShadowMembership().run(_data(frames, frames["fresh"], target=release), random_state=0)


@pytest.mark.slow
def test_shadow_membership_is_the_shadow_attack_and_passes_the_contract(
    frames: dict[str, pd.DataFrame],
) -> None:
    target = GeneratorTarget.from_name("copy")
    data = _data(frames, frames["members"], target=target)
    params = {"n_challenges": 2, "n_shadow": 4, "n_eval": 2, "train_size": 20}

    def make() -> ShadowMembership:
        return ShadowMembership(**params, classifier="logistic")  # type: ignore[arg-type]

    check_audit(make)  # the parameter contract; the finding is checked against shadow_attack below
    assert ShadowMembership.requires == frozenset({Capability.RELEASE, Capability.REFIT})
    got = make().run(data, random_state=5)
    kw = make().shadow_kwargs(data, random_state=5)
    assert len(kw["challenges"]) == 2 and kw["synth_size"] == 20
    assert set(kw["challenges"].index) <= set(frames["members"].index)
    want = shadow_attack(**kw, classifier="logistic")
    assert got.to_dict() == want.to_dict()  # same seed, same finding
    assert type(got).from_dict(got.to_dict()) == got
    assert got.params["n_challenges"] == 2 and len(got.params["per_target"]) == 2
