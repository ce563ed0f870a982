"""Audits as parameter objects: the contract suite over every release audit, validation, engines."""

from __future__ import annotations

import pandas as pd
import pytest

from synth_audit.audits import DcrDiagnosticAudit, Inference, Linkability, SinglingOut
from synth_audit.config import AuditConfig
from synth_audit.data import AuditData, prepare_inputs
from synth_audit.errors import ConfigError
from synth_audit.evaluate import evaluate_release
from synth_audit.testing import check_audit


@pytest.fixture(scope="module")
def data(randhie: dict[str, pd.DataFrame]) -> AuditData:
    cols = ["age", "sex", "income", "health", "site", "family_size"]
    return prepare_inputs(
        randhie["train"][cols].iloc[:400],
        randhie["synthetic"][cols].iloc[:400],
        randhie["control"][cols].iloc[:400],
        column_kinds={"site": "categorical"},
    )


AUDITS = [
    lambda: SinglingOut(mode="univariate", n_attacks=40),
    lambda: SinglingOut(mode="multivariate", n_attacks=40, n_cols=2),
    lambda: Linkability(aux_cols=[["age", "sex"], ["income", "health"]], n_attacks=100),
    lambda: Inference(secret="health", n_attacks=100),
    lambda: Inference(secret="income", n_attacks=100, tolerance_mode="relative"),
    lambda: DcrDiagnosticAudit(),
]


@pytest.mark.parametrize("make", AUDITS, ids=lambda m: repr(m()))
def test_every_release_audit_passes_the_contract(make, data: AuditData) -> None:  # type: ignore[no-untyped-def]
    check_audit(make, data=data, random_state=3)


def test_parameter_errors_are_collected_and_named(data: AuditData) -> None:
    audit = Linkability(n_neighbors=0, n_attacks=-1, engine="fast")
    with pytest.raises(ConfigError) as info:
        audit.run(data, random_state=0)
    msg = str(info.value)
    assert "The 'n_neighbors' parameter of Linkability must be an int >= 1. Got 0." in msg
    assert "'n_attacks' parameter of Linkability" in msg and "'engine' parameter" in msg


def test_engine_is_a_parameter_not_a_branch(data: AuditData) -> None:
    native = Inference(secret="sex", n_attacks=100)
    other = native.clone().set_params(engine="anonymeter")
    assert native.engine == "native" and other.engine == "anonymeter"
    assert native.run(data, random_state=0).engine == "native"
    assert other.run(data, random_state=0).engine == "anonymeter"


def test_evaluate_release_runs_the_audits_of_its_config(randhie: dict[str, pd.DataFrame]) -> None:
    cfg = AuditConfig.from_mapping(
        {
            "singling_out": {"n_attacks": 40, "modes": ["multivariate"]},
            "linkability": {"n_attacks": 100},
            "inference": {"secrets": ["health"], "n_attacks": 100},
            "utility": {"enabled": False},
        }
    )
    cols = ["age", "sex", "income", "health"]
    report = evaluate_release(
        train=randhie["train"][cols].iloc[:400],
        synthetic=randhie["synthetic"][cols].iloc[:400],
        control=randhie["control"][cols].iloc[:400],
        config=cfg,
    )
    assert set(report.attacks) == {"singling_out_multivariate", "linkability"}
    assert set(report.inference) == {"health"}
    assert report.dcr is not None
    from synth_audit.data import prepare_inputs as prep

    data = prep(
        randhie["train"][cols].iloc[:400],
        randhie["synthetic"][cols].iloc[:400],
        randhie["control"][cols].iloc[:400],
    )
    direct = Inference(secret="health", n_attacks=100).run(data, random_state=cfg.seed)
    assert direct.to_dict() == report.inference["health"].to_dict()
