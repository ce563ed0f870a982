"""PET search over a classifier's training: k-anonymisation, data minimisation and DP-SGD as target
parameters (issue 15 part 2); each search runs end to end through ``run_search`` on a small split."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synth_audit.errors import ConfigError
from synth_audit.executors import make_executor
from synth_audit.models.target import ClassifierTarget
from synth_audit.pet import load_search, run_search, search_from_mapping
from synth_audit.pet.anonymise import min_group_size
from synth_audit.store import open_store

ROOT = Path(__file__).resolve().parents[1]
RANDHIE = ROOT / "samples" / "randhie" / "population.csv"


def _raw(
    name: str, target: dict[str, Any], params: dict[str, Any], **search: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "seed": 3,
        "data": {"path": str(RANDHIE), "group_by": "person_id", "drop": ["person_id", "year"]},
        "split": {"train": 150, "control": 150, "reference": 150, "seed": 5},
        "membership": {"attacks": []},
        "frontier": {"risk": "membership.rmia.tpr_at_0.01_fpr", "utility": "model.test_accuracy"},
        "target": {
            "name": "clf",
            "kind": "classifier",
            "params": {
                "label": "health",
                "audit_attacks": ["loss", "rmia"],
                "audit_n_reference": 2,
                **target,
            },
        },
        "search": {
            "trials": 3,
            "batch": 1,
            "seed": 11,
            "confirm_top": 1,
            "confirm_seeds": 1,
            "params": params,
            "objectives": [{"metric": "model.test_accuracy", "direction": "maximize"}],
            "constraint": {"metric": "membership.rmia.auc", "stat": "value", "max": 0.9},
            **search,
        },
    }


def _members(n: int = 200) -> pd.DataFrame:
    pop = pd.read_csv(RANDHIE)
    pop = pop.groupby("person_id").sample(n=1, random_state=0).sample(frac=1.0, random_state=0)
    return pop.drop(columns=["person_id", "year"]).reset_index(drop=True).iloc[:n]


def test_a_search_over_anonymise_k_stores_every_trial_and_recommends_one(tmp_path: Path) -> None:
    raw = _raw(
        "pet-anon",
        {"model": "logistic", "epochs": 200},
        {"anonymise_k": {"type": "int", "low": 1, "high": 40}},
        start=[{"anonymise_k": 1}, {"anonymise_k": 40}],
    )
    spec = search_from_mapping(raw)
    store = open_store(tmp_path / "s.sqlite")
    with make_executor("inline") as ex:
        out = run_search(spec, store=store, executor=ex)
    assert len(out.trials) == 3 and all(t.state == "complete" for t in out.trials)
    by_k: dict[int, Any] = {}
    for t in out.trials:
        (rid,) = t.run_ids
        run = store.get_run(rid)
        assert run.status == "done" and run.study == "pet-anon"
        assert run.params["anonymise_k"] == t.params["anonymise_k"]
        target = run.summary["target"]
        assert target["params"]["anonymise_k"] == t.params["anonymise_k"]
        k = int(t.params["anonymise_k"])
        if k > 1:  # the members were k-anonymised before training, and the run says how
            anon = target["params"]["pets"]["anonymisation"]
            assert anon["k"] == k and anon["min_group"] >= k
        else:
            assert "pets" not in target["params"]
        by_k[k] = run
    assert {1, 40} <= set(by_k)
    # same seed, same data: only anonymise_k differs, and the trained models do
    assert by_k[1].summary["target"]["fingerprint"] != by_k[40].summary["target"]["fingerprint"]
    assert by_k[1].summary["utility"] != by_k[40].summary["utility"]
    rec = out.recommendation
    assert rec is not None and rec["setting"] is not None
    assert rec["setting"]["anonymise_k"] in {t.params["anonymise_k"] for t in out.trials}
    assert {k: v for k, v in rec["setting"].items() if k != "anonymise_k"} == (
        raw["target"]["params"]
    )


def test_a_search_over_dp_sgd_noise_records_the_claimed_epsilon(tmp_path: Path) -> None:
    raw = _raw(
        "pet-dpsgd",
        {
            "model": "torch_mlp",
            "hidden": [16],
            "epochs": 3,
            "learning_rate": 0.05,
            "max_grad_norm": 1.0,
        },
        {"noise_multiplier": {"type": "float", "low": 0.3, "high": 3.0, "log": True}},
        start=[{"noise_multiplier": 0.3}, {"noise_multiplier": 3.0}],
    )
    spec = search_from_mapping(raw)
    store = open_store(tmp_path / "s.sqlite")
    with make_executor("inline") as ex:
        out = run_search(spec, store=store, executor=ex)
    assert len(out.trials) == 3 and all(t.state == "complete" for t in out.trials)
    eps = {}
    for t in out.trials:
        (rid,) = t.run_ids
        run = store.get_run(rid)
        assert (
            run.status == "done" and run.params["noise_multiplier"] == t.params["noise_multiplier"]
        )
        privacy = run.summary["target"]["privacy"]
        assert math.isfinite(privacy["epsilon"]) and privacy["epsilon"] > 0
        assert privacy["delta"] == 1e-5
        eps[t.params["noise_multiplier"]] = privacy["epsilon"]
    # more noise, smaller ε (same epochs, batch size and data)
    assert eps[3.0] < eps[0.3]
    rec = out.recommendation
    assert rec is not None
    if rec["setting"] is not None:
        assert rec["setting"]["noise_multiplier"] in eps


def test_k_anonymising_the_members_changes_what_the_model_is_trained_on() -> None:
    """The model trained with anonymise_k = 25 is the recipe trained on the k-anonymised members
    (every QI tuple shared by >= 25 records), not on the members themselves."""
    members = _members()
    features = [c for c in members.columns if c != "health"]
    qi = ["age", "income", "sex", "race"]
    recipe = {"label": "health", "model": "logistic", "epochs": 200}
    plain = ClassifierTarget(**recipe).fit(members, random_state=4)
    anon = ClassifierTarget(**recipe, anonymise_k=25, quasi_identifiers=qi).fit(
        members, random_state=4
    )
    pets = anon.info().params["pets"]
    assert pets["anonymisation"]["min_group"] >= 25 and pets["quasi_identifiers"] == qi
    assert min_group_size(members, qi) < 25  # the original members are far from 25-anonymous
    # Rebuild the anonymised members the way the target does and train the plain recipe on them:
    # the same model, so the target trained on them, not on the members.
    from synth_audit.pet.training import apply_training_pets

    X, y = members[features], members["health"]
    built = apply_training_pets(anon.get_params(), X, y, anon.classes, 4)
    assert min_group_size(built.features, qi) >= 25
    assert built.features.drop(columns=qi).equals(X.drop(columns=qi))
    again = ClassifierTarget(**recipe).fit(built.features.assign(health=y), random_state=4)
    probe = members.iloc[:50]
    np.testing.assert_allclose(anon.predict_proba(probe), again.predict_proba(probe))
    assert not np.allclose(anon.predict_proba(probe), plain.predict_proba(probe))
    # anonymise_k = 1 is off: the same model as without it
    off = ClassifierTarget(**recipe, anonymise_k=1).fit(members, random_state=4)
    np.testing.assert_allclose(off.predict_proba(probe), plain.predict_proba(probe))


def test_minimisation_generalises_training_data_and_queries_alike() -> None:
    """minimise_accuracy = 0.9: the model is the recipe trained on the minimised members, and
    every record it is asked about is generalised the same way first."""
    from synth_audit.pet.training import apply_training_pets

    members = _members()
    features = [c for c in members.columns if c != "health"]
    recipe = {"label": "health", "model": "logistic", "epochs": 200}
    t = ClassifierTarget(**recipe, minimise_accuracy=0.9).fit(members, random_state=2)
    m = t.info().params["pets"]["minimisation"]
    assert m["accuracy"] >= 0.9 and m["generalised"]
    X, y = members[features], members["health"]
    built = apply_training_pets(t.get_params(), X, y, t.classes, 2)
    assert built.minimisation is not None and built.minimisation.generalised == m["generalised"]
    gen = m["generalised"]
    assert all(built.features[g].nunique() <= m["n_cells"] for g in gen)
    assert any(X[g].nunique() > m["n_cells"] for g in gen)  # some feature did get coarser
    again = ClassifierTarget(**recipe).fit(built.features.assign(health=y), random_state=2)
    probe = members.iloc[:50]
    np.testing.assert_allclose(
        t.predict_proba(probe), again.predict_proba(built.minimisation.transform(probe))
    )
    assert not np.allclose(t.predict_proba(probe), again.predict_proba(probe))


def test_pet_parameters_are_checked_and_default_keys_are_unchanged() -> None:
    with pytest.raises(ConfigError) as err:
        ClassifierTarget(
            label="health",
            anonymise_k=0,
            minimise_accuracy=1.5,
            quasi_identifiers=["age", "health"],
        )
    text = str(err.value)
    assert "anonymise_k" in text and "minimise_accuracy" in text and "holds the label" in text
    with pytest.raises(ConfigError, match="cannot be combined"):
        ClassifierTarget(label="health", model="torch_mlp", noise_multiplier=1.0, anonymise_k=5)
    # PETs left unset stay out of get_params() (reference-model cache keys) and info()
    plain = ClassifierTarget(label="health")
    assert not {"anonymise_k", "minimise_accuracy", "quasi_identifiers"} & set(plain.get_params())
    assert not {"anonymise_k", "minimise_accuracy", "quasi_identifiers"} & set(plain.info().params)
    assert ClassifierTarget(label="health", anonymise_k=5).get_params()["anonymise_k"] == 5


def test_the_shipped_classifier_search_file_loads() -> None:
    spec = load_search(ROOT / "samples" / "classifier" / "search.toml")
    assert spec.target.kind == "classifier"
    assert set(spec.search.params) & {"anonymise_k", "noise_multiplier"}
    assert spec.search.constraint is not None
