"""Tests for the membership-inference scoring engine (synth_audit.membership.stats / .result)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from synth_audit.errors import ConfigError, DataValidationError, SynthAuditError
from synth_audit.membership import (
    EpsilonBound,
    MembershipResult,
    TprAtFpr,
    auc,
    auc_ci,
    clopper_pearson,
    downsample_roc,
    epsilon_lower_bound,
    epsilon_lower_bound_from_scores,
    per_record_frame,
    roc_curve,
    tpr_at_fpr,
)

PROPS = settings(max_examples=80, deadline=None)


def _split(members: list[float], nonmembers: list[float]) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(members + nonmembers, dtype=float)
    labels = np.array([1] * len(members) + [0] * len(nonmembers))
    return scores, labels


# ------------------------------------------------------------------------------------------------
# Hand-checkable fixtures
# ------------------------------------------------------------------------------------------------


def test_perfect_separation() -> None:
    scores, labels = _split([float(i) for i in range(100, 200)], [float(i) for i in range(100)])
    assert auc(scores, labels) == 1.0
    a, lo, hi = auc_ci(scores, labels)
    assert a == 1.0 and hi == 1.0 and 0.9 < lo < 1.0  # not degenerate at the boundary
    r = tpr_at_fpr(scores, labels, 0.01)
    assert (r.tpr, r.realised_fpr, r.tp, r.fp) == (1.0, 0.0, 100, 0)
    assert r.threshold == 100.0
    assert r.resolvable and r.warning is None


def test_reversed_scores_give_auc_zero() -> None:
    scores, labels = _split([float(i) for i in range(100)], [float(i) for i in range(100, 200)])
    assert auc(scores, labels) == 0.0
    a, lo, hi = auc_ci(scores, labels)
    assert (a, lo) == (0.0, 0.0) and 0.0 < hi < 0.1
    assert tpr_at_fpr(scores, labels, 0.01).tpr == 0.0


def test_all_equal_scores() -> None:
    scores = np.full(200, 0.3)
    labels = np.r_[np.ones(100), np.zeros(100)].astype(int)
    assert auc(scores, labels) == 0.5
    _, lo, hi = auc_ci(scores, labels)
    assert lo < 0.5 < hi
    r = tpr_at_fpr(scores, labels, 0.01)
    # The only thresholds are +inf (nobody flagged) and 0.3 (everybody flagged, FPR 1).
    assert (r.tpr, r.realised_fpr, r.threshold) == (0.0, 0.0, math.inf)
    fpr, tpr, thr = roc_curve(scores, labels)
    assert fpr.tolist() == [0.0, 1.0] and tpr.tolist() == [0.0, 1.0]
    assert thr.tolist() == [math.inf, 0.3]


def test_auc_small_table() -> None:
    # members {3, 2}, non-members {2, 1}: pairs (3,2) (3,1) (2,1) win, (2,2) ties -> 3.5 / 4
    scores, labels = _split([3.0, 2.0], [2.0, 1.0])
    assert auc(scores, labels) == 0.875


def test_tpr_at_fpr_hand_worked_with_ties_at_threshold() -> None:
    # threshold  0.9  0.8  0.7  0.5  0.4  0.3  0.2  0.1
    # tp          1    2    3    4    4    5    5    5
    # fp          0    2    2    2    3    3    4    5      (two non-members tie at 0.8)
    scores, labels = _split([0.9, 0.8, 0.7, 0.5, 0.3], [0.8, 0.8, 0.4, 0.2, 0.1])

    # Target 20 %: 0.8 would give FPR 2/5 = 40 % (the tie cannot be split), so the best point
    # not above the target is threshold 0.9: TPR 1/5 at realised FPR 0. No interpolation.
    r = tpr_at_fpr(scores, labels, 0.2)
    assert (r.threshold, r.tp, r.fp, r.tpr, r.realised_fpr) == (0.9, 1, 0, 0.2, 0.0)
    assert r.resolvable  # 1/5 <= 0.2: one false positive would fit under the target

    # Target 40 %: the lowest threshold with fp <= 2 is 0.5, TPR 4/5.
    r = tpr_at_fpr(scores, labels, 0.4)
    assert (r.threshold, r.tp, r.fp, r.tpr, r.realised_fpr) == (0.5, 4, 2, 0.8, 0.4)
    assert r.tpr_ci[1] == pytest.approx(0.975 ** (1 / 5))  # k = n - 1: beta.ppf(.975, 5, 1)
    assert r.tpr_ci[0] == pytest.approx(sps.beta.ppf(0.025, 4, 2))

    # Target 10 % < 1/5: unresolvable with 5 non-members; 10 would be needed.
    r = tpr_at_fpr(scores, labels, 0.1)
    assert (r.realised_fpr, r.resolvable, r.min_nonmembers) == (0.0, False, 10)
    assert r.warning is not None and "10 non-members" in r.warning


def test_clopper_pearson_edges_are_exact() -> None:
    lo, hi = clopper_pearson(0, 5, 0.95)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025**0.2, rel=1e-14)
    lo, hi = clopper_pearson(5, 5, 0.95)
    assert hi == 1.0 and lo == pytest.approx(0.025**0.2, rel=1e-14)
    ref = sps.binomtest(3, 10).proportion_ci(0.95, method="exact")
    lo, hi = clopper_pearson(3, 10, 0.95)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-10)
    # one-sided upper bound at 95 % with k = 0: 1 - 0.05 ** (1 / n)
    lo, hi = clopper_pearson(0, 20, 0.95, alternative="less")
    assert lo == 0.0 and hi == pytest.approx(1 - 0.05 ** (1 / 20), rel=1e-14)
    # vectorised
    lo_v, hi_v = clopper_pearson([0, 3, 5], [5, 10, 5])
    assert lo_v.shape == (3,) and hi_v[1] == pytest.approx(ref.high, rel=1e-10)


def test_epsilon_hand_checked() -> None:
    n = 1000
    u = 1 - 0.025 ** (1 / n)  # one-sided 97.5 % CP upper bound with 0 errors in n
    b = epsilon_lower_bound(n, 0, 0, n)
    assert b.epsilon == pytest.approx(math.log((1 - u) / u), rel=1e-12)
    assert b.ceiling == b.epsilon and b.saturated
    assert (b.fpr_upper, b.fnr_upper) == pytest.approx((u, u), rel=1e-12)
    # A coin flip certifies nothing.
    assert epsilon_lower_bound(50, 50, 50, 50).epsilon == 0.0
    # delta lowers the bound
    assert epsilon_lower_bound(900, 100, 10, 990, delta=0.05).epsilon < (
        epsilon_lower_bound(900, 100, 10, 990).epsilon
    )


def test_roc_matches_sklearn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, 300).astype(float)
    labels = rng.integers(0, 2, 300)
    fpr, tpr, thr = roc_curve(scores, labels)
    f2, t2, th2 = sk_roc(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, f2)
    np.testing.assert_allclose(tpr, t2)
    np.testing.assert_allclose(thr[1:], th2[1:])
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


# ------------------------------------------------------------------------------------------------
# Input guards
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "labels", "needle"),
    [
        ([0.1, np.nan, 0.3], [1, 0, 1], "NaN"),
        ([0.1, np.inf, 0.3], [1, 0, 1], "infinite"),
        ([[0.1, 0.2]], [1, 0], "1-D"),
        ([0.1, 0.2, 0.3], [1, 0], "same length"),
        ([0.1, 0.2, 0.3], [1, 0, 2], "only 0"),
        ([0.1, 0.2, 0.3], [1, 1, 1], "both members"),
        (["a", "b"], [1, 0], "numeric"),
    ],
)
def test_bad_inputs_raise_clear_errors(scores: object, labels: object, needle: str) -> None:
    with pytest.raises(DataValidationError, match=needle) as info:
        auc(scores, labels)  # type: ignore[arg-type]
    assert isinstance(info.value, SynthAuditError)


def test_nan_error_names_positions() -> None:
    with pytest.raises(DataValidationError, match=r"1 NaN value\(s\) \(at positions 2\)"):
        tpr_at_fpr([0.1, 0.2, np.nan], [1, 0, 1], 0.1)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, "x"])
def test_bad_confidence(bad: object) -> None:
    with pytest.raises(ConfigError, match="confidence"):
        clopper_pearson(1, 2, bad)  # type: ignore[arg-type]


def test_bad_target_fpr_and_delta() -> None:
    with pytest.raises(ConfigError, match="target_fpr"):
        tpr_at_fpr([1.0, 0.0], [1, 0], 0.0)
    with pytest.raises(ConfigError, match="delta"):
        epsilon_lower_bound(1, 1, 1, 1, delta=1.0)
    with pytest.raises(DataValidationError, match="'tp'"):
        epsilon_lower_bound(-1, 1, 1, 1)


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------

score_values = st.integers(min_value=0, max_value=6).map(float) | st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False
)
score_lists = st.lists(score_values, min_size=1, max_size=40)


@PROPS
@given(
    n=st.integers(min_value=1, max_value=5000),
    frac=st.floats(min_value=0, max_value=1),
    conf=st.floats(min_value=0.5, max_value=0.999),
)
def test_clopper_pearson_properties(n: int, frac: float, conf: float) -> None:
    k = round(frac * n)
    lo, hi = clopper_pearson(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    if k < n:  # monotone in successes
        lo2, hi2 = clopper_pearson(k + 1, n, conf)
        assert lo2 >= lo and hi2 >= hi
    # a one-sided bound at the same level is tighter than the two-sided one
    _, hi_one = clopper_pearson(k, n, conf, alternative="less")
    assert k / n <= hi_one <= hi


@PROPS
@given(members=score_lists, nonmembers=score_lists)
def test_auc_properties(members: list[float], nonmembers: list[float]) -> None:
    scores, labels = _split(members, nonmembers)
    a = auc(scores, labels)
    x = np.array(members)[:, None]
    y = np.array(nonmembers)[None, :]
    brute = float(np.mean((x > y) + 0.5 * (x == y)))
    assert a == pytest.approx(brute, abs=1e-12)
    assert 0.0 <= a <= 1.0
    assert auc(-scores, labels) == pytest.approx(1.0 - a, abs=1e-12)
    for method in ("newcombe", "delong"):
        a2, lo, hi = auc_ci(scores, labels, method=method)  # type: ignore[arg-type]
        assert a2 == a
        assert 0.0 <= lo <= a <= hi <= 1.0
    # Newcombe is mirror-symmetric
    _, lo, hi = auc_ci(scores, labels)
    _, lo_r, hi_r = auc_ci(-scores, labels)
    assert (lo_r, hi_r) == pytest.approx((1 - hi, 1 - lo), abs=1e-9)


@PROPS
@given(
    members=score_lists,
    nonmembers=score_lists,
    target=st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.25, 1 / 3, 0.5, 1.0])
    | st.floats(min_value=1e-4, max_value=1.0),
)
def test_tpr_at_fpr_properties(
    members: list[float], nonmembers: list[float], target: float
) -> None:
    scores, labels = _split(members, nonmembers)
    r = tpr_at_fpr(scores, labels, target)
    assert r.realised_fpr <= target
    assert r.tpr_ci[0] <= r.tpr <= r.tpr_ci[1]
    assert r.fpr_ci[0] <= r.realised_fpr <= r.fpr_ci[1]
    assert 0.0 <= r.tpr_ci[0] <= r.tpr_ci[1] <= 1.0
    assert 0.0 <= r.fpr_ci[0] <= r.fpr_ci[1] <= 1.0
    # The threshold realises exactly the reported counts ...
    flagged = scores >= r.threshold
    assert int((flagged & (labels == 1)).sum()) == r.tp
    assert int((flagged & (labels == 0)).sum()) == r.fp
    # ... and is optimal: no threshold with FPR <= target has a higher TPR.
    fpr, tpr, _ = roc_curve(scores, labels)
    assert r.tpr == max(t for f, t in zip(fpr, tpr, strict=True) if f <= target)
    assert r.resolvable == (len(nonmembers) * target >= 1 - 1e-9)


counts = st.integers(min_value=0, max_value=300)


@PROPS
@given(
    tp=counts,
    fn=counts,
    fp=counts,
    tn=counts,
    delta=st.sampled_from([0.0, 1e-5, 0.01]),
    conf=st.sampled_from([0.9, 0.95, 0.99]),
)
def test_epsilon_properties(tp: int, fn: int, fp: int, tn: int, delta: float, conf: float) -> None:
    if tp + fn == 0:
        tp = 1
    if fp + tn == 0:
        tn = 1
    b = epsilon_lower_bound(tp, fn, fp, tn, delta=delta, confidence=conf)
    assert 0.0 <= b.epsilon <= b.ceiling + 1e-12
    # monotone in tp with fn fixed (more members, same misses) ...
    assert epsilon_lower_bound(tp + 1, fn, fp, tn, delta=delta, confidence=conf).epsilon >= (
        b.epsilon - 1e-12
    )
    # ... and with the number of members fixed (a miss turned into a hit)
    if fn > 0:
        b2 = epsilon_lower_bound(tp + 1, fn - 1, fp, tn, delta=delta, confidence=conf)
        assert b2.epsilon >= b.epsilon - 1e-12
        assert b2.ceiling == b.ceiling


@PROPS
@given(members=score_lists, nonmembers=score_lists)
def test_epsilon_from_scores_is_the_max_over_thresholds(
    members: list[float], nonmembers: list[float]
) -> None:
    scores, labels = _split(members, nonmembers)
    b = epsilon_lower_bound_from_scores(scores, labels)
    assert 0.0 <= b.epsilon <= b.ceiling + 1e-12
    assert b.threshold_selection == "same-data" and b.threshold is not None
    n1, n0 = len(members), len(nonmembers)
    brute = 0.0
    for t in np.unique(scores):
        tp = int(((scores >= t) & (labels == 1)).sum())
        fp = int(((scores >= t) & (labels == 0)).sum())
        brute = max(brute, epsilon_lower_bound(tp, n1 - tp, fp, n0 - fp).epsilon)
    assert b.epsilon == pytest.approx(brute, abs=1e-12)
    assert b.tp == int(((scores >= b.threshold) & (labels == 1)).sum())


@pytest.mark.parametrize("signal", [0.0, 0.3, 3.0])
def test_epsilon_sweep_equals_full_vectorised_sweep(signal: float) -> None:
    # The sweep prunes dominated and hopeless thresholds; it must agree with evaluating them all.
    rng = np.random.default_rng(int(signal * 10))
    labels = rng.integers(0, 2, 4000)
    scores = np.round(rng.normal(size=4000) + signal * labels, 2)  # many ties
    fpr, tpr, _ = roc_curve(scores, labels)
    n1, n0 = int(labels.sum()), int((labels == 0).sum())
    tp = np.round(tpr * n1).astype(int)
    fp = np.round(fpr * n0).astype(int)
    # The formula, written out independently with the public Clopper–Pearson (α split in two).
    _, fpr_hi = clopper_pearson(fp, n0, 0.975, alternative="less")
    _, fnr_hi = clopper_pearson(n1 - tp, n1, 0.975, alternative="less")
    ratio = np.maximum((1 - fnr_hi) / fpr_hi, (1 - fpr_hi) / fnr_hi)
    full = float(np.log(np.maximum(ratio, 1.0)).max())
    assert epsilon_lower_bound_from_scores(scores, labels).epsilon == pytest.approx(full, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# Calibration / coverage simulations
# ------------------------------------------------------------------------------------------------


def test_clopper_pearson_coverage_at_fixed_threshold() -> None:
    rng = np.random.default_rng(20240601)
    reps, n1, n0, thr = 400, 200, 300, 1.5
    members = rng.normal(1.0, 1.0, size=(reps, n1))
    nonmembers = rng.normal(0.0, 1.0, size=(reps, n0))
    true_tpr = float(sps.norm.sf(thr - 1.0))
    true_fpr = float(sps.norm.sf(thr))
    lo, hi = clopper_pearson((members >= thr).sum(axis=1), n1, 0.95)
    covered = np.mean((lo <= true_tpr) & (true_tpr <= hi))
    assert covered >= 0.93
    assert np.mean(hi - lo) < 0.15  # and the intervals are not trivially wide
    lo, hi = clopper_pearson((nonmembers >= thr).sum(axis=1), n0, 0.95)
    assert np.mean((lo <= true_fpr) & (true_fpr <= hi)) >= 0.93


def test_auc_ci_coverage_binormal() -> None:
    rng = np.random.default_rng(7)
    reps, n1, n0, mu = 300, 50, 80, 1.0
    true_auc = float(sps.norm.cdf(mu / math.sqrt(2)))
    labels = np.r_[np.ones(n1), np.zeros(n0)].astype(int)
    hits = 0
    for _ in range(reps):
        scores = np.r_[rng.normal(mu, 1, n1), rng.normal(0, 1, n0)]
        _, lo, hi = auc_ci(scores, labels)
        hits += lo <= true_auc <= hi
    assert hits / reps >= 0.92


def test_epsilon_lower_bound_respects_true_epsilon_randomised_response() -> None:
    # Randomised response with ε = 1 reports each record's bit truthfully w.p. e/(1+e). The test
    # "reported bit == 1" has TPR = e/(1+e), FPR = 1/(1+e): exactly on the ε = 1 boundary.
    rng = np.random.default_rng(11)
    eps_true, reps, n = 1.0, 400, 2000
    p_truth = math.exp(eps_true) / (1 + math.exp(eps_true))
    tp = rng.binomial(n, p_truth, size=reps)
    fp = rng.binomial(n, 1 - p_truth, size=reps)
    bounds = np.array(
        [
            epsilon_lower_bound(int(a), n - int(a), int(b), n - int(b)).epsilon
            for a, b in zip(tp, fp)
        ]
    )
    assert np.mean(bounds > eps_true) <= 0.05 + 0.02
    assert np.mean(bounds) > 0.75  # and it has power: the bound is close to the truth


def test_epsilon_threshold_from_calibration_split() -> None:
    rng = np.random.default_rng(5)
    n = 500

    def draw() -> tuple[np.ndarray, np.ndarray]:
        return _split(list(rng.normal(2, 1, n)), list(rng.normal(0, 1, n)))

    cal_s, cal_y = draw()
    s, y = draw()
    b = epsilon_lower_bound_from_scores(s, y, threshold_from=(cal_s, cal_y))
    assert b.threshold_selection == "calibration"
    assert b.threshold is not None and b.threshold in set(cal_s.tolist()) | {math.inf}
    assert b.tp == int(((s >= b.threshold) & (y == 1)).sum())
    assert b.fp == int(((s >= b.threshold) & (y == 0)).sum())
    assert 0.0 < b.epsilon <= epsilon_lower_bound_from_scores(s, y).epsilon
    with pytest.raises(DataValidationError, match="calibration labels"):
        epsilon_lower_bound_from_scores(s, y, threshold_from=(cal_s, np.zeros_like(cal_y)))


# ------------------------------------------------------------------------------------------------
# MembershipResult
# ------------------------------------------------------------------------------------------------


def _result(**kw: object) -> MembershipResult:
    rng = np.random.default_rng(0)
    scores, labels = _split(list(rng.normal(0.5, 1, 300)), list(rng.normal(0, 1, 400)))
    ids = [f"rec-{i}" for i in range(scores.size)]
    return MembershipResult.from_scores(
        scores,
        labels,
        attack="distance_to_closest",
        target="ctgan",
        record_ids=ids,
        seed=np.int64(42),  # type: ignore[arg-type]
        params={"k": np.int64(3), "metric": "gower", "weights": (0.5, 1.0), "arr": np.arange(2)},
        **kw,  # type: ignore[arg-type]
    )


def test_json_round_trip() -> None:
    r = _result()
    text = json.dumps(r.to_dict(), allow_nan=False)
    back = MembershipResult.from_dict(json.loads(text))
    assert back == r
    assert r.seed == 42 and type(r.seed) is int
    assert r.params == {"k": 3, "metric": "gower", "weights": [0.5, 1.0], "arr": [0, 1]}
    assert isinstance(back.tpr_at[0.01], TprAtFpr) and isinstance(back.epsilon, EpsilonBound)

    # +inf thresholds and integer ids survive too
    scores = np.zeros(40)
    labels = np.r_[np.ones(20), np.zeros(20)].astype(int)
    flat = MembershipResult.from_scores(
        scores, labels, attack="a", target="t", record_ids=np.arange(100, 140)
    )
    assert flat.tpr_at[0.01].threshold == math.inf
    text = json.dumps(flat.to_dict(), allow_nan=False)
    assert MembershipResult.from_dict(json.loads(text)) == flat
    assert flat.top_exposed[0] == (100, 0.0, True)


def test_from_dict_rejects_unknown_schema() -> None:
    d = _result().to_dict()
    d["schema_version"] = 99
    with pytest.raises(DataValidationError, match="version"):
        MembershipResult.from_dict(d)


def test_result_perfect_attack() -> None:
    scores, labels = _split([float(i) for i in range(100, 200)], [float(i) for i in range(100)])
    r = MembershipResult.from_scores(scores, labels, attack="a", target="t", top_k=5)
    assert r.auc == 1.0 and r.tpr_at[0.01].tpr == 1.0
    # record ids default to positions: member at position i scored 100 + i
    assert r.top_exposed == tuple((i, 100.0 + i, True) for i in range(99, 94, -1))
    joined = " ".join(w.message for w in r.warnings)
    assert "1000 non-members" in joined  # 0.1 % FPR cannot be resolved with 100 non-members
    assert "largest value" in joined  # ε saturated at its ceiling
    assert "contains 0.5" not in joined


def test_result_random_scores_warn_no_evidence() -> None:
    rng = np.random.default_rng(1)
    scores, labels = _split(list(rng.normal(0, 1, 200)), list(rng.normal(0, 1, 2000)))
    r = MembershipResult.from_scores(scores, labels, attack="a", target="t")
    assert any("contains 0.5" in w.message for w in r.warnings)
    assert "auc_ci_contains_half" in {w.code for w in r.warnings}
    assert r.epsilon.epsilon < 0.5


def test_result_reversed_scores_warn_orientation() -> None:
    scores, labels = _split([0.0] * 50, [1.0] * 50)
    r = MembershipResult.from_scores(scores, labels, attack="a", target="t")
    assert any("below 0.5" in w.message for w in r.warnings)
    assert "auc_below_half" in {w.code for w in r.warnings}


def test_summary_keys_are_stable() -> None:
    s = _result().summary()
    expected = {"auc", "auc_ci_low", "auc_ci_high", "epsilon_lb", "epsilon_ceiling"}
    expected |= {"n_members", "n_nonmembers", "confidence_level"}
    for f in ("0.001", "0.01", "0.1"):
        key = f"tpr_at_{f}_fpr"
        expected |= {key, f"{key}_ci_low", f"{key}_ci_high", f"realised_fpr_at_{f}"}
    assert set(s) == expected
    assert s["realised_fpr_at_0.01"] is not None and s["realised_fpr_at_0.01"] <= 0.01
    assert all(isinstance(v, int | float) for v in s.values())


def test_result_roc_is_downsampled_keeping_ends_and_low_fpr() -> None:
    rng = np.random.default_rng(2)
    scores, labels = _split(list(rng.normal(1, 1, 5000)), list(rng.normal(0, 1, 20000)))
    r = MembershipResult.from_scores(scores, labels, attack="a", target="t")
    fpr, tpr = r.roc
    assert len(fpr) <= 200
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert sum(0 < f <= 0.001 for f in fpr) >= 5
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    # every kept point is a real operating point
    full_f, full_t, _ = roc_curve(scores, labels)
    real = set(zip(full_f.tolist(), full_t.tolist(), strict=True))
    assert all(p in real for p in zip(fpr, tpr, strict=True))


def test_downsample_drops_only_collinear_points_when_small() -> None:
    f, t = downsample_roc([0, 0, 0, 0.5, 1], [0, 0.5, 1, 1, 1])
    assert f.tolist() == [0, 0, 1] and t.tolist() == [0, 1, 1]


def test_result_parameter_errors() -> None:
    scores, labels = _split([1.0, 2.0], [0.0, 0.5])
    with pytest.raises(DataValidationError, match="unique"):
        MembershipResult.from_scores(
            scores, labels, attack="a", target="t", record_ids=["x", "x", "y", "z"]
        )
    with pytest.raises(ConfigError, match="JSON"):
        MembershipResult.from_scores(scores, labels, attack="a", target="t", params={"f": object()})
    with pytest.raises(ConfigError, match="'attack'"):
        MembershipResult.from_scores(scores, labels, attack="", target="t")


def test_per_record_frame() -> None:
    df = per_record_frame([0.5, 0.9, 0.5, 0.1], [1, 0, 0, 1], ["a", "b", "c", "d"])
    assert list(df.columns) == ["record_id", "score", "is_member", "rank"]
    assert df["rank"].tolist() == [2, 1, 2, 4]
    assert df["is_member"].tolist() == [True, False, False, True]
    assert df["record_id"].tolist() == ["a", "b", "c", "d"]
