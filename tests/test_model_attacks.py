"""Classifier attacks: LiRA and RMIA on hand-computed three-model examples, signal properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.models.attacks import MembershipSettings
from synth_audit.models.lira import lira_scores
from synth_audit.models.rmia import rmia_scores
from synth_audit.models.signals import compute_signal, logit_confidence

# Three reference models, two challenge records. Logit-scaled confidences:
PHI = np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 3.0]])
TARGET_PHI = np.array([3.0, 0.5])


def _log_normal(x: float, mean: float, var: float) -> float:
    return -0.5 * math.log(2 * math.pi * var) - (x - mean) ** 2 / (2 * var)


def _log_cdf(z: float) -> float:
    return math.log(0.5 * (1 + math.erf(z / math.sqrt(2))))


def test_lira_offline_per_example_equals_hand_computed_values() -> None:
    # record 0 is "in" model 0 only: out values {2, 4} -> mean 3, sd 1; phi = 3 -> log(1/2)
    # record 1 is "in" model 1 only: out values {0, 3} -> mean 1.5, sd 1.5; z = (0.5-1.5)/1.5
    inn = np.array([[True, False], [False, True], [False, False]])
    got = lira_scores(TARGET_PHI, PHI, inn, online=False)
    assert got[0] == pytest.approx(math.log(0.5), abs=1e-12)
    assert got[1] == pytest.approx(_log_cdf(-2 / 3), abs=1e-12)


def test_lira_online_global_variance_equals_hand_computed_values() -> None:
    # record 0: in {1, 2} (mean 1.5), out {4}; record 1: in {1} (mean 1), out {0, 3} (mean 1.5).
    # Global variances pool every value around its own record's mean:
    #   in: (0.25 + 0.25 + 0) / 3 = 1/6;  out: (0 + 2.25 + 2.25) / 3 = 1.5
    inn = np.array([[True, False], [True, True], [False, False]])
    got = lira_scores(TARGET_PHI, PHI, inn, online=True, global_variance=True)
    want0 = _log_normal(3.0, 1.5, 1 / 6) - _log_normal(3.0, 4.0, 1.5)
    want1 = _log_normal(0.5, 1.0, 1 / 6) - _log_normal(0.5, 1.5, 1.5)
    assert got == pytest.approx([want0, want1], abs=1e-12)
    assert want0 == pytest.approx(-5.318, abs=1e-3)  # worked out on paper


def test_lira_refuses_records_without_out_models() -> None:
    inn = np.array([[True, False], [True, False], [True, False]])
    with pytest.raises(DataValidationError, match="1 record"):
        lira_scores(TARGET_PHI, PHI, inn, online=False)


# RMIA: target and reference true-label probabilities of two challenge records x and three
# population records z. With a = 0.5, Pr(.) = ((1 + a) mean_out + (1 - a)) / 2:
#   x: mean_out [0.6, 0.4] -> Pr [0.7, 0.55] -> ratio [0.9/0.7, 0.5/0.55] = [1.2857, 0.9091]
#   z: mean [0.5, 0.7, 0.2] -> Pr [0.625, 0.775, 0.4] -> ratio [0.8, 1.0323, 0.5]
# LR(x, z) = ratio_x / ratio_z: x0 -> [1.607, 1.246, 2.571]; x1 -> [1.136, 0.881, 1.818]
PX = np.array([0.9, 0.5])
REF_PX = np.array([[0.6, 0.4], [0.5, 0.5], [0.7, 0.3]])
PZ = np.array([0.5, 0.8, 0.2])
REF_PZ = np.array([[0.5, 0.6, 0.3], [0.5, 0.8, 0.1], [0.5, 0.7, 0.2]])


@pytest.mark.parametrize(("gamma", "want"), [(1.0, [1.0, 2 / 3]), (1.5, [2 / 3, 1 / 3])])
def test_rmia_equals_hand_computed_values(gamma: float, want: list[float]) -> None:
    out = np.ones_like(REF_PX, dtype=bool)
    got = rmia_scores(PX, REF_PX, out, PZ, REF_PZ, gamma=gamma, a=0.5)
    assert got == pytest.approx(want)


def test_rmia_uses_only_the_out_models_of_each_record() -> None:
    # model 0 trained on x0: without it x0's mean_out is 0.6 (models 1, 2) -> Pr 0.7 as before
    out = np.ones_like(REF_PX, dtype=bool)
    out[0, 0] = False
    ref = REF_PX.copy()
    ref[0, 0] = 0.99  # an "in" value that must be ignored
    ref[1:, 0] = 0.6
    got = rmia_scores(PX, ref, out, PZ, REF_PZ, gamma=1.0, a=0.5)
    assert got == pytest.approx([1.0, 2 / 3])


def test_rmia_parameters_are_checked() -> None:
    out = np.ones_like(REF_PX, dtype=bool)
    with pytest.raises(ConfigError, match="'a' parameter of RMIA"):
        rmia_scores(PX, REF_PX, out, PZ, REF_PZ, a=1.5)
    with pytest.raises(ConfigError, match="'gamma'"):
        rmia_scores(PX, REF_PX, out, PZ, REF_PZ, gamma=0)


probs = st.integers(2, 5).flatmap(
    lambda k: st.lists(
        st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k), min_size=1, max_size=20
    )
)


@settings(max_examples=50, deadline=None)
@given(probs, st.integers(0, 10**6))
def test_signals_are_finite_and_loss_is_monotone_in_the_true_class_probability(
    rows: list[list[float]], seed: int
) -> None:
    p = np.asarray(rows)
    p = p / p.sum(axis=1, keepdims=True)
    y = np.random.default_rng(seed).integers(0, p.shape[1], size=p.shape[0])
    for name in ("loss", "confidence", "entropy", "modified_entropy", "logit_confidence"):
        assert np.isfinite(compute_signal(name, p, y)).all()
    py = p[np.arange(len(y)), y]
    order = np.argsort(py)
    assert np.all(np.diff(compute_signal("loss", p, y)[order]) >= -1e-12)
    assert np.all(np.diff(logit_confidence(p, y)[order]) >= -1e-9)


def test_modified_entropy_equals_hand_computed_value() -> None:
    p = np.array([[0.7, 0.2, 0.1]])
    want = -(0.3 * math.log(0.7) + 0.2 * math.log(0.8) + 0.1 * math.log(0.9))
    # Mentr = -(1 - p_y) log p_y - sum_{k != y} p_k log(1 - p_k); the signal is -Mentr
    assert compute_signal("modified_entropy", p, np.array([0]))[0] == pytest.approx(-want)


def test_settings_collect_every_problem() -> None:
    with pytest.raises(ConfigError) as exc:
        MembershipSettings(attacks=("lira", "loss"), n_reference=3, reference_mode="online")
    msg = str(exc.value)
    assert "'lira'" in msg and "even" in msg


def test_attribute_inference_finds_a_memorised_secret_of_members_only() -> None:
    import pandas as pd

    from synth_audit.models.inference import attribute_inference, attribute_inference_section
    from synth_audit.models.target import ClassifierTarget

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "x": rng.permutation(n),  # a unique id, drawn alike for every part
            "s": rng.choice(["a", "b"], size=n),
            "y": rng.choice(["no", "yes"], size=n),
        }
    )
    members, nonmembers, reference = frame.iloc[:200], frame.iloc[200:400], frame.iloc[400:]
    seen = {(int(r.x), r.s): r.y for r in members.itertuples()}

    def predict_proba(features: pd.DataFrame) -> np.ndarray:
        # A memoriser: sure of a member's label when asked with its true secret, else unsure.
        out = np.full((len(features), 2), 0.5)
        for i, (x, s) in enumerate(zip(features["x"], features["s"], strict=True)):
            y = seen.get((int(x), s))
            if y is not None:
                out[i] = [0.99, 0.01] if y == "no" else [0.01, 0.99]
        return out

    target = ClassifierTarget.from_callable(predict_proba, label="y", classes=["no", "yes"])
    res = attribute_inference(target, members, nonmembers, reference, "s")
    assert res["members_with_model"]["value"] == 1.0
    lo, hi = res["control_with_model"]["ci"]
    assert lo <= 0.5 <= hi  # the model knows nothing of non-members
    lo, hi = res["members_without_model"]["ci"]
    assert lo <= 0.5 <= hi
    assert res["advantage"] > 0.3
    sec = attribute_inference_section([res], 0.95)
    roles = {f["name"]: f["role"] for f in sec["findings"]}
    assert roles["s.advantage"] == "risk" and roles["s.member_accuracy"] == "diagnostic"
