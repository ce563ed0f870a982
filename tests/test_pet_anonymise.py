"""k-anonymisation of training data (model-guided, Goldsteen et al.) as a PET."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.pet.anonymise import k_anonymise, min_group_size

ROOT = Path(__file__).resolve().parents[1]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 60),
    k=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    with_nan=st.booleans(),
)
def test_every_quasi_identifier_tuple_is_shared_by_at_least_k_rows(
    n: int, k: int, seed: int, with_nan: bool
) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n).astype(float),
            "sex": rng.choice(["f", "m", "x"], n),
            "income": rng.normal(3e4, 1e4, n),
            "y": rng.choice(["a", "b"], n),
        }
    )
    if with_nan:
        frame.loc[0, "age"] = np.nan
    if n < k:
        with pytest.raises(DataValidationError, match="fewer than k"):
            k_anonymise(frame, k=k, quasi_identifiers=["age", "sex", "income"], target="y")
        return
    out = k_anonymise(frame, k=k, quasi_identifiers=["age", "sex", "income"], target="y")
    assert min_group_size(out.frame, ["age", "sex", "income"]) >= k
    assert out.min_group >= k
    # rows and the other columns are kept; released values are real values of the column
    assert out.frame["y"].tolist() == frame["y"].tolist()
    assert set(out.frame["sex"]) <= set(frame["sex"])
    assert set(out.frame["age"].dropna()) <= set(frame["age"].dropna())


def test_hand_computed_cells() -> None:
    # Two clear cells by label; each is replaced by its record nearest the cell's median.
    frame = pd.DataFrame({"age": [20.0, 21.0, 22.0, 60.0, 61.0, 62.0], "y": list("aaabbb")})
    out = k_anonymise(frame, k=3, quasi_identifiers=["age"], target="y").frame
    assert out["age"].tolist() == [21.0, 21.0, 21.0, 61.0, 61.0, 61.0]


def test_bad_inputs_name_the_column_and_the_remedy() -> None:
    frame = pd.DataFrame({"age": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    with pytest.raises(DataValidationError, match=r"'zip'.*quasi_identifiers"):
        k_anonymise(frame, k=2, quasi_identifiers=["zip"])
    with pytest.raises(ConfigError, match="k must be"):
        k_anonymise(frame, k=0, quasi_identifiers=["age"])
    with pytest.raises(ConfigError, match="cannot also be"):
        k_anonymise(frame, k=2, quasi_identifiers=["age", "y"], target="y")


@pytest.mark.slow
def test_anonymising_the_training_data_lowers_the_membership_auc_of_the_overfit_classifier() -> (
    None
):
    """samples/classifier/model_audit.toml's overfit MLP (randhie, label health), members and
    non-members 500 each; the LOSS attack (score = -loss) before and after k-anonymising every
    feature of the members (k = 25, model-guided by the overfit model's predictions)."""
    import torch

    from synth_audit.membership import MembershipResult
    from synth_audit.models.target import ClassifierTarget

    torch.set_num_threads(1)
    pop = pd.read_csv(ROOT / "samples" / "randhie" / "population.csv")
    pop = pop.groupby("person_id").sample(n=1, random_state=0).sample(frac=1.0, random_state=0)
    pop = pop.drop(columns=["person_id", "year"]).reset_index(drop=True)
    members, nonmembers = pop.iloc[:500].reset_index(drop=True), pop.iloc[500:1000]
    params = {
        "label": "health",
        "model": "mlp",
        "hidden": [128],
        "epochs": 200,
        "weight_decay": 0.0,
        "learning_rate": 0.003,
    }

    def loss_auc(model: ClassifierTarget) -> MembershipResult:
        scores = np.concatenate([-model.loss(members), -model.loss(nonmembers)])
        labels = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
        return MembershipResult.from_scores(
            scores, labels, attack="loss", target="overfit_mlp", seed=0
        )

    original = ClassifierTarget(name="overfit_mlp", **params).fit(members, random_state=0)
    base = loss_auc(original)
    preds = original.predict_proba(members).argmax(axis=1)
    features = [c for c in members.columns if c != "health"]
    anon = k_anonymise(members, k=25, quasi_identifiers=features, labels=preds)
    assert anon.min_group >= 25
    retrained = ClassifierTarget(name="overfit_mlp", **params).fit(anon.frame, random_state=0)
    after = loss_auc(retrained)
    assert base.auc > 0.6  # the sample's classifier is overfit: the attack works
    # lower, and by more than the noise: the intervals do not overlap
    assert after.auc < base.auc
    assert after.auc_ci[1] < base.auc_ci[0], (base.auc, base.auc_ci, after.auc, after.auc_ci)


def test_minimisation_generalises_what_the_model_does_not_need() -> None:
    """A model that reads only ``a`` (a > 0): ``b`` and ``c`` can be generalised to a few cell
    values, the model's accuracy on the minimised data stays at the target, and new records are
    generalised the same way."""
    from sklearn.linear_model import LogisticRegression

    from synth_audit.pet.minimise import minimise

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["x", "y", "z"], n),
        }
    )
    model = LogisticRegression().fit(frame[["a"]], (frame["a"] > 0).astype(int))

    def predict(d: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(d[["a"]]))

    m = minimise(frame, predict, features=["a", "b", "c"], target_accuracy=0.97, cell_size=20)
    assert "b" in m.generalised and "c" in m.generalised
    assert m.accuracy >= 0.97
    assert m.accuracy == float(np.mean(predict(m.frame) == predict(frame)))
    assert m.n_values["b"] <= m.n_cells < n / 10
    new = pd.DataFrame({"a": [-2.0, 2.0], "b": [0.3, -0.1], "c": ["x", "q"]})
    t = m.transform(new)
    assert set(t["b"]) <= set(m.frame["b"]) and set(t["c"]) <= set(m.frame["c"])
    # whatever happens to ``a``, the model decides the new records as before
    assert predict(t).tolist() == predict(new).tolist() == [0, 1]
    with pytest.raises(DataValidationError, match="'b'"):
        m.transform(new.drop(columns=["b"]))
