"""Tests of the utility metrics (``metrics/``): calibration, hand-checked values, bounds, registry.

Every calibration test compares against a number the metric could miss: an exact 1 for identical
frames, a clear drop for a release that breaks the dependence or shifts the distribution.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

import metrics
from metrics import (
    MetricRegistry,
    MetricResult,
    MetricSkippedWarning,
    available_metrics,
    compute_utility,
    get_metric,
    normalize,
    register_metric,
    unregister_metric,
    utility_score,
)
from synth_audit.data import AuditData, prepare_inputs
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.results import AuditWarning
from synth_audit.schema import ColumnKind, ColumnSpec, Schema
from synth_audit.testing import check_metric

N = 1500


def population(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Correlated mixed-type data: numeric, categorical, boolean, datetime, a class and a number."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)

    def noise(scale: float) -> np.ndarray:
        return scale * rng.normal(size=n)

    x1 = z + noise(0.4) + shift
    x2 = 1.5 * z + noise(0.6) + shift
    x3 = np.exp(0.5 * z + noise(0.3) + shift)
    c1 = np.array(["lo", "mid", "hi"])[np.digitize(z + noise(0.4) + shift, [-0.5, 0.5])]
    c2 = np.where(x2 + noise(0.5) > 0.0, "yes", "no")
    c3 = rng.choice(["u", "v", "w"], size=n, p=[0.5, 0.3, 0.2])
    days = np.round((z + noise(0.4) + shift) * 40)
    day = pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")
    y = np.array(["k0", "k1", "k2", "k3"])[
        np.digitize(z + noise(0.3) + 0.3 * (c3 == "u"), [-0.8, 0.0, 0.8])
    ]
    yr = 2.0 * x1 + np.log(x3) + noise(0.3)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "c1": c1, "c2": c2, "c3": c3, "day": day, "y": y, "yr": yr}
    )


def prepared(synthetic: pd.DataFrame, train: pd.DataFrame | None = None) -> AuditData:
    train = population(N, 1) if train is None else train
    return prepare_inputs(train, synthetic, population(N, 3))


def value(name: str, d: AuditData, random_state: int = 0, **params: Any) -> float:
    r = get_metric(name).compute(
        d.train, d.synthetic, d.control, schema=d.schema, random_state=random_state, **params
    )
    return r.value


def shuffled_columns(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns})


@pytest.fixture(scope="module")
def train_df() -> pd.DataFrame:
    return population(N, 1)


@pytest.fixture(scope="module")
def same_dist() -> AuditData:
    return prepared(population(N, 2))


@pytest.fixture(scope="module")
def detection_same(same_dist: AuditData) -> float:
    return value("detection", same_dist)


# ---------------------------------------------------------------------------------------------------
# calibration


def test_identical_frames_score_exactly_one(train_df: pd.DataFrame) -> None:
    d = prepared(train_df.copy(), train=train_df)
    assert value("marginals", d) == pytest.approx(1.0, abs=1e-12)
    assert value("pairwise", d) == pytest.approx(1.0, abs=1e-12)


def test_independent_sample_is_hard_to_detect(same_dist: AuditData, detection_same: float) -> None:
    assert detection_same >= 0.8
    assert value("marginals", same_dist) > 0.9
    assert value("pairwise", same_dist) > 0.9


def test_shuffled_columns_keep_marginals_but_lose_dependence(
    train_df: pd.DataFrame, same_dist: AuditData, detection_same: float
) -> None:
    d = prepared(shuffled_columns(train_df, seed=5), train=train_df)
    # A permutation keeps every column's multiset of values: marginals are exactly preserved.
    assert value("marginals", d) == pytest.approx(1.0, abs=1e-12)
    pw_same, pw_shuffled = value("pairwise", same_dist), value("pairwise", d)
    assert pw_shuffled < 0.85
    assert pw_shuffled < pw_same - 0.15
    assert value("detection", d) < detection_same - 0.3


def test_shift_lowers_marginals_and_detection_monotonically(
    same_dist: AuditData, detection_same: float
) -> None:
    marg = [value("marginals", same_dist)]
    det = [detection_same]
    for shift in (0.25, 0.5, 1.0):
        d = prepared(population(N, 2, shift=shift))
        marg.append(value("marginals", d))
        det.append(value("detection", d))
    assert all(a > b for a, b in itertools.pairwise(marg)), marg
    assert all(a > b for a, b in itertools.pairwise(det)), det
    assert det[-1] < 0.3


def test_ml_efficacy_copy_is_one_and_permuted_target_is_low(train_df: pd.DataFrame) -> None:
    same = prepared(train_df.copy(), train=train_df)
    fast = {"n_bootstrap": 0}
    assert value("ml_efficacy", same, target="y", **fast) == pytest.approx(1.0, abs=1e-9)
    assert value("ml_efficacy", same, target="yr", **fast) == pytest.approx(1.0, abs=1e-9)

    independent = prepared(population(N, 2), train=train_df)
    assert 0.85 <= value("ml_efficacy", independent, target="y", **fast) <= 1.15

    rng = np.random.default_rng(11)
    for target in ("y", "yr"):
        broken = train_df.copy()
        broken[target] = broken[target].to_numpy()[rng.permutation(len(broken))]
        d = prepared(broken, train=train_df)
        assert value("ml_efficacy", d, target=target, **fast) < 0.5, target


def test_ml_efficacy_details_and_ci(same_dist: AuditData) -> None:
    r = get_metric("ml_efficacy").compute(
        same_dist.train,
        same_dist.synthetic,
        same_dist.control,
        schema=same_dist.schema,
        random_state=0,
        target="y",
    )
    assert r.details["task"] == "classification"
    assert r.details["score_metric"] == "macro_f1"
    assert 0.5 < r.details["score_real"] <= 1.0
    assert r.ci is not None and r.ci_low is not None and r.ci_high is not None
    assert r.ci_low <= r.value <= r.ci_high
    assert r.ideal == 1.0 and r.bounds == (0.0, 1.5)
    reg = get_metric("ml_efficacy").compute(
        same_dist.train,
        same_dist.synthetic,
        same_dist.control,
        schema=same_dist.schema,
        random_state=0,
        target="yr",
        n_bootstrap=0,
    )
    assert reg.details["task"] == "regression" and reg.details["score_metric"] == "r2"
    assert reg.ci is None


def test_ml_efficacy_handles_a_control_class_unseen_in_training(train_df: pd.DataFrame) -> None:
    control = population(N, 3)
    control.loc[:49, "y"] = "k_new"
    d = prepare_inputs(train_df, population(N, 2), control)
    r = get_metric("ml_efficacy").compute(
        d.train, d.synthetic, d.control, schema=d.schema, random_state=0, target="y", n_bootstrap=0
    )
    assert math.isfinite(r.value) and 0.0 <= r.value <= 1.5
    assert r.details["control_classes_unseen_in_train"] == ["k_new"]
    assert r.details["n_control_classes"] == 5


def test_ml_efficacy_degenerate_releases_warn() -> None:
    rng = np.random.default_rng(4)
    train, synth, control = population(400, 1), population(400, 2), population(400, 3)
    for df in (train, synth, control):
        df["many"] = [f"m{i}" for i in rng.integers(0, 30, len(df))]
    synth["y"] = "k1"  # the release lost every other class
    d = prepare_inputs(train, synth, control, column_kinds={"many": "categorical"})
    m = get_metric("ml_efficacy")
    single = m.compute(
        d.train, d.synthetic, d.control, schema=d.schema, random_state=0, target="y", n_bootstrap=0
    )
    assert [w.code for w in single.warnings] == ["single_class"]
    assert single.value < 0.5
    grouped = m.compute(
        d.train,
        d.synthetic,
        d.control,
        schema=d.schema,
        random_state=0,
        target="many",
        max_classes=5,
        n_bootstrap=0,
    )
    assert "target_classes_grouped" in [w.code for w in grouped.warnings]
    assert 0.0 <= grouped.value <= 1.5


def test_ml_efficacy_errors_name_the_column(same_dist: AuditData) -> None:
    m = get_metric("ml_efficacy")
    args = (same_dist.train, same_dist.synthetic, same_dist.control)
    with pytest.raises(ConfigError, match="'nope'") as err:
        m.compute(*args, schema=same_dist.schema, target="nope")
    assert "'x1'" in str(err.value)  # lists the usable columns
    with pytest.raises(ConfigError, match="'target' parameter"):
        m.compute(*args, schema=same_dist.schema)
    with pytest.raises(ConfigError, match="control"):
        m.compute(same_dist.train, same_dist.synthetic, None, schema=same_dist.schema, target="y")
    flat = same_dist.train.copy()
    flat["c3"] = "u"
    with pytest.raises(ConfigError, match=r"'c3'.*single value"):
        m.compute(
            flat, same_dist.synthetic, same_dist.control, schema=same_dist.schema, target="c3"
        )


# ---------------------------------------------------------------------------------------------------
# hand-checkable values


def _schema(**kinds: ColumnKind) -> Schema:
    return Schema(tuple(ColumnSpec(n, k) for n, k in kinds.items()))


def test_marginals_by_hand() -> None:
    nan = np.nan
    train = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "m": [1.0, 2.0, 3.0, nan],
            "c": ["a", "a", "b", "c"],
            "n": ["a", nan, "a", "b"],
        }
    )
    synth = pd.DataFrame(
        {
            "x": [3.0, 4.0, 5.0, 6.0],
            "m": [1.0, 2.0, 5.0, 6.0],
            "c": ["a", "a", "b", "d"],  # 'd' only in synthetic, 'c' only in train
            "n": ["a", "a", "a", "b"],
        }
    )
    schema = _schema(
        x=ColumnKind.NUMERIC,
        m=ColumnKind.NUMERIC,
        c=ColumnKind.CATEGORICAL,
        n=ColumnKind.CATEGORICAL,
    )
    r = get_metric("marginals").compute(train, synth, schema=schema)
    cols = r.details["columns"]
    # x: ECDFs differ most at t = 2 (2/4 vs 0): KS = 0.5.
    assert cols["x"]["statistic"] == pytest.approx(0.5)
    assert cols["x"]["statistic"] == pytest.approx(ks_2samp(train["x"], synth["x"]).statistic)
    assert cols["x"]["score"] == pytest.approx(0.5)
    # m: KS of [1,2,3] vs [1,2,5,6] is 0.5 (t = 3: 1 vs 1/2); missing shares 1/4 vs 0, so
    # w = 1/4 and the score is 3/4 · (1 − 0.5) + 1/4 · (1 − 1/4) = 0.5625.
    assert cols["m"]["statistic"] == pytest.approx(0.5)
    assert cols["m"]["score"] == pytest.approx(0.5625)
    # c: frequencies a .5/.5, b .25/.25, c .25/0, d 0/.25: TV = 0.25.
    assert cols["c"]["method"] == "tv" and cols["c"]["score"] == pytest.approx(0.75)
    # n: NaN is a category: a .5/.75, NaN .25/0, b .25/.25: TV = 0.25.
    assert cols["n"]["score"] == pytest.approx(0.75)
    assert r.value == pytest.approx((0.5 + 0.5625 + 0.75 + 0.75) / 4)


def test_pairwise_by_hand() -> None:
    train = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "w": [1.0, 2.0, 3.0, 4.0],
            "a": ["p", "p", "q", "q"],
            "b": ["r", "r", "s", "s"],
        }
    )
    synth = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "w": [4.0, 3.0, 2.0, 1.0],
            "a": ["p", "q", "p", "q"],
            "b": ["r", "r", "s", "s"],
        }
    )
    schema = _schema(
        x=ColumnKind.NUMERIC,
        w=ColumnKind.NUMERIC,
        a=ColumnKind.CATEGORICAL,
        b=ColumnKind.CATEGORICAL,
    )
    r = get_metric("pairwise").compute(train, synth, schema=schema, random_state=0, n_bins=2)
    got = {tuple(e["columns"]): e["score"] for e in r.details["pairs"]}
    expected = {
        ("x", "w"): 0.0,  # Spearman +1 vs −1: 1 − 2/2
        ("x", "a"): 0.5,  # bins (median 2.5) × a: train (0,p),(0,p),(1,q),(1,q); synth uniform
        ("x", "b"): 1.0,  # identical joint tables
        ("w", "a"): 0.5,
        ("w", "b"): 0.0,  # disjoint joint tables: TV = 1
        ("a", "b"): 0.0,  # bias-corrected V: 1 for the 2×2 diagonal table, 0 for the flat one
    }
    assert got == pytest.approx(expected)
    assert r.value == pytest.approx(1 / 3)
    vs = {tuple(e["columns"]): e for e in r.details["pairs"]}
    assert vs[("a", "b")]["train"] == pytest.approx(1.0)
    assert vs[("a", "b")]["statistic"] == "cramers_v_bias_corrected"
    assert r.details["n_pairs_total"] == 6 and r.details["pairs_sampled"] is False


def test_pairwise_numeric_pair_halves_the_correlation_gap() -> None:
    # Spearman of [1,2,3,4] with [1,2,4,3]: 1 − 6·2 / (4·15) = 0.8; score 1 − |1 − 0.8| / 2 = 0.9.
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 2.0, 3.0, 4.0]})
    synth = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 2.0, 4.0, 3.0]})
    schema = _schema(x=ColumnKind.NUMERIC, w=ColumnKind.NUMERIC)
    r = get_metric("pairwise").compute(train, synth, schema=schema, random_state=0)
    assert r.details["pairs"][0]["synthetic"] == pytest.approx(0.8)
    assert r.value == pytest.approx(0.9)


def test_pairwise_cramers_v_is_bias_corrected() -> None:
    # train table p:(r 2, s 1), q:(r 1, s 2), n = 6: χ²/n = 1/9, less than the bias term
    # (k−1)(r−1)/(n−1) = 1/5, so the corrected V is 0 (the plain V would be 1/3).
    # synthetic: the diagonal table, φ² = 1 → (1 − 1/5) / (2 − 1/5 − 1) = 1, so V = 1.
    train = pd.DataFrame({"a": list("pppqqq"), "b": list("rrsrss")})
    synth = pd.DataFrame({"a": list("pppqqq"), "b": list("rrrsss")})
    schema = _schema(a=ColumnKind.CATEGORICAL, b=ColumnKind.CATEGORICAL)
    r = get_metric("pairwise").compute(train, synth, schema=schema, random_state=0)
    (pair,) = r.details["pairs"]
    assert pair["train"] == pytest.approx(0.0) and pair["synthetic"] == pytest.approx(1.0)
    assert r.value == pytest.approx(0.0)


def test_pairwise_samples_pairs_with_the_seed(same_dist: AuditData) -> None:
    m = get_metric("pairwise")
    a = m.compute(
        same_dist.train, same_dist.synthetic, schema=same_dist.schema, random_state=1, max_pairs=5
    )
    b = m.compute(
        same_dist.train, same_dist.synthetic, schema=same_dist.schema, random_state=1, max_pairs=5
    )
    assert a == b
    assert a.details["pairs_sampled"] is True
    assert a.details["n_pairs_evaluated"] == 5 and a.details["n_pairs_total"] == 36
    assert "5 of 36 pairs" in a.details["note"]


def test_pairwise_needs_two_columns() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataValidationError, match="at least two"):
        get_metric("pairwise").compute(df, df, schema=_schema(x=ColumnKind.NUMERIC))


def test_parameter_errors_say_what_is_expected(same_dist: AuditData) -> None:
    args = (same_dist.train, same_dist.synthetic)
    with pytest.raises(
        ConfigError, match=r"The 'max_pairs' parameter of pairwise must be an int ≥ 1\. Got 0\."
    ):
        get_metric("pairwise").compute(*args, schema=same_dist.schema, max_pairs=0)
    with pytest.raises(ConfigError, match=r"unknown parameter.*'bogus'"):
        get_metric("marginals").compute(*args, schema=same_dist.schema, bogus=1)
    with pytest.raises(ConfigError, match="random_state"):
        get_metric("pairwise").compute(*args, schema=same_dist.schema, random_state=-1)
    with pytest.raises(DataValidationError, match="'x1'"):
        get_metric("marginals").compute(
            same_dist.train.drop(columns="x1"), same_dist.synthetic, schema=same_dist.schema
        )


# ---------------------------------------------------------------------------------------------------
# every metric: bounds on random small mixed-type frames (hypothesis)

_CATS = ["a", "b", "c", "d"]


@st.composite
def small_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    def frame(n: int, cats: list[str]) -> pd.DataFrame:
        x = draw(
            st.lists(
                st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(np.nan)),
                min_size=n,
                max_size=n,
            )
        )
        const = draw(st.booleans())
        c = draw(st.lists(st.sampled_from([*cats, None]), min_size=n, max_size=n))
        b = draw(st.lists(st.sampled_from(["true", "false"]), min_size=n, max_size=n))
        days = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
        t = draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=n - 2, max_size=n - 2))
        return pd.DataFrame(
            {
                "x": np.array(x, dtype=float),
                "k": np.full(n, 7.0) if const else np.arange(n, dtype=float),
                "c": pd.Series(c, dtype=object).where(pd.notna(pd.Series(c)), np.nan),
                "b": b,
                "d": pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(days, unit="D"),
                "t": ["p", "q", *t],  # the target varies in every frame
            }
        )

    n_train, n_syn, n_ctrl = (draw(st.integers(10, 25)) for _ in range(3))
    # categories may exist in one frame only
    train_cats = draw(st.lists(st.sampled_from(_CATS), min_size=1, max_size=3, unique=True))
    syn_cats = draw(st.lists(st.sampled_from(_CATS), min_size=1, max_size=3, unique=True))
    return frame(n_train, train_cats), frame(n_syn, syn_cats), frame(n_ctrl, _CATS)


_SMALL_SCHEMA = _schema(
    x=ColumnKind.NUMERIC,
    k=ColumnKind.NUMERIC,
    c=ColumnKind.CATEGORICAL,
    b=ColumnKind.BOOLEAN,
    d=ColumnKind.DATETIME,
    t=ColumnKind.CATEGORICAL,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=small_frames())
def test_every_builtin_metric_stays_within_its_bounds(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    train, synth, control = frames
    extra: dict[str, dict[str, Any]] = {
        "ml_efficacy": {"target": "t", "n_bootstrap": 20},
        "detection": {"max_iter": 20},
    }
    for name in ("marginals", "pairwise", "detection", "ml_efficacy"):
        m = get_metric(name)
        r = m.compute(
            train, synth, control, schema=_SMALL_SCHEMA, random_state=0, **extra.get(name, {})
        )
        lo, hi = m.bounds
        assert lo <= r.value <= hi, (name, r.value)
        if r.ci is not None:
            assert lo <= r.ci[0] <= r.value <= r.ci[1] <= hi, (name, r.ci)
        assert 0.0 <= r.normalized() <= 1.0
        json.dumps(r.to_dict(), allow_nan=False)


# ---------------------------------------------------------------------------------------------------
# contract suite over every registered metric

_REQUIRED_PARAMS: dict[str, dict[str, Any]] = {"ml_efficacy": {"target": "y"}}
_cache: dict[tuple[str, int], MetricResult] = {}


def _computed(name: str, d: AuditData, seed: int) -> MetricResult:
    key = (name, seed)
    if key not in _cache:
        _cache[key] = get_metric(name).compute(
            d.train,
            d.synthetic,
            d.control,
            schema=d.schema,
            random_state=seed,
            **_REQUIRED_PARAMS.get(name, {}),
        )
    return _cache[key]


@pytest.mark.parametrize("name", available_metrics())
def test_metric_contract(name: str, same_dist: AuditData) -> None:
    m = get_metric(name)
    assert m.name == name
    if name not in _REQUIRED_PARAMS and name not in ("marginals", "pairwise", "detection"):
        pytest.skip(f"{name} is a plugin; its required parameters are unknown here")
    check_metric(m, same_dist, **_REQUIRED_PARAMS.get(name, {}))


def test_detection_details_and_seed_effect(same_dist: AuditData) -> None:
    r = _computed("detection", same_dist, 0)
    assert len(r.details["auc_folds"]) == 5
    assert r.details["model"] == "hist_gradient_boosting"
    assert r.ci is not None and 0.0 <= r.ci[0] <= r.value <= r.ci[1] <= 1.0
    lr = get_metric("detection").compute(
        same_dist.train,
        same_dist.synthetic,
        schema=same_dist.schema,
        random_state=0,
        model="logistic_regression",
    )
    assert lr.details["model"] == "logistic_regression" and lr.value > 0.8
    # a different seed changes the folds (and so, almost surely, the fold AUCs)
    other = get_metric("detection").compute(
        same_dist.train, same_dist.synthetic, schema=same_dist.schema, random_state=1, max_rows=500
    )
    first = get_metric("detection").compute(
        same_dist.train, same_dist.synthetic, schema=same_dist.schema, random_state=0, max_rows=500
    )
    assert other.details["auc_folds"] != first.details["auc_folds"]
    assert first.details["subsampled"] is True and first.details["n_rows_per_frame"] == 500


def test_random_state_none_draws_and_records_a_seed(same_dist: AuditData) -> None:
    r = get_metric("pairwise").compute(
        same_dist.train, same_dist.synthetic, schema=same_dist.schema
    )
    assert isinstance(r.seed, int)


# ---------------------------------------------------------------------------------------------------
# results, normalisation, registry


def test_metric_result_round_trip_and_validation() -> None:
    r = MetricResult(
        name="m",
        value=np.float64(0.25),
        direction="minimize",
        bounds=(0, 2),
        ci_low=0.1,
        ci_high=0.4,
        confidence_level=0.95,
        details={"cols": {"a": np.float32(0.5), "b": (1, 2)}, "missing": float("nan")},
        params={"k": np.int64(3)},
        seed=7,
        warnings=(AuditWarning("w", "careful"),),
    )
    assert r.details == {"cols": {"a": 0.5, "b": [1, 2]}, "missing": None}
    assert MetricResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.normalized() == pytest.approx(0.875)  # (2 − 0.25) / 2
    assert r.normalized_ci() == pytest.approx((0.8, 0.95))
    with pytest.raises(ValueError, match="finite"):
        MetricResult(name="m", value=float("nan"), direction="maximize", bounds=(0, 1))
    with pytest.raises(ValueError, match="direction"):
        MetricResult(name="m", value=0.5, direction="up", bounds=(0, 1))  # type: ignore[arg-type]


def test_normalize_uses_direction_bounds_and_ideal() -> None:
    assert normalize(0.75, "maximize", (0.0, 1.0)) == pytest.approx(0.75)
    assert normalize(0.75, "minimize", (0.0, 1.0)) == pytest.approx(0.25)
    assert normalize(1.3, "maximize", (0.0, 1.5), ideal=1.0) == 1.0
    assert normalize(0.5, "maximize", (0.0, 1.5), ideal=1.0) == pytest.approx(0.5)
    assert normalize(5.0, "maximize", (0.0, 1.0)) == 1.0
    with pytest.raises(ConfigError, match="finite"):
        normalize(1.0, "minimize", (0.0, math.inf))


class _Dummy:
    direction = "minimize"
    bounds = (0.0, 1.0)
    description = "a test metric"

    def __init__(self, name: str) -> None:
        self.name = name

    def compute(self, train: Any, synthetic: Any, control: Any = None, **kw: Any) -> MetricResult:
        return MetricResult(name=self.name, value=0.0, direction="minimize", bounds=(0.0, 1.0))


def test_registry_refuses_duplicates_and_lists_names() -> None:
    with pytest.raises(ConfigError, match="'marginals' is already registered"):
        register_metric(_Dummy("marginals"))  # type: ignore[arg-type]
    dummy = _Dummy("test_dummy_metric")
    register_metric(dummy)  # type: ignore[arg-type]
    try:
        assert get_metric("test_dummy_metric") is dummy
        with pytest.raises(ConfigError, match="already registered"):
            register_metric(_Dummy("test_dummy_metric"))  # type: ignore[arg-type]
        replacement = _Dummy("test_dummy_metric")
        register_metric(replacement, replace=True)  # type: ignore[arg-type]
        assert get_metric("test_dummy_metric") is replacement
    finally:
        unregister_metric("test_dummy_metric")
    with pytest.raises(ConfigError) as err:
        get_metric("no_such_metric")
    msg = str(err.value)
    assert "'no_such_metric'" in msg
    for name in ("detection", "marginals", "ml_efficacy", "pairwise"):
        assert repr(name) in msg
    assert {"detection", "marginals", "ml_efficacy", "pairwise"} <= set(available_metrics())


def test_registry_validates_declarations() -> None:
    reg = MetricRegistry(builtins=None, entry_point_group=None)
    bad = _Dummy("bad")
    bad.direction = "upwards"
    bad.bounds = (1.0, 0.0)
    with pytest.raises(ConfigError, match=r"'direction'.*'bounds'"):
        reg.register(bad)  # type: ignore[arg-type]
    assert reg.names() == []


class _FakeEntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name, self.value, self._target = name, f"fake:{name}", target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_registry_loads_entry_point_plugins_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_entry_points(*, group: str) -> list[_FakeEntryPoint]:
        calls.append(group)
        return [
            _FakeEntryPoint("good", lambda: _Dummy("plugin_metric")),
            _FakeEntryPoint("broken", ImportError("no module named plugin_pkg")),
            _FakeEntryPoint("clash", _Dummy("marginals")),
        ]

    monkeypatch.setattr(metrics.registry.importlib.metadata, "entry_points", fake_entry_points)
    reg = MetricRegistry()
    assert calls == []  # nothing happens before the first lookup
    names = reg.names()
    assert calls == ["synth_audit.metrics"]
    assert "plugin_metric" in names and "marginals" in names
    assert type(reg.get("marginals")).__name__ == "Marginals"  # the built-in wins the clash
    assert set(reg.plugin_errors) == {"broken", "clash"}
    with pytest.raises(ConfigError, match="'broken'"):
        reg.get("missing")


# ---------------------------------------------------------------------------------------------------
# convenience API


def test_compute_utility_skips_ml_efficacy_without_target(same_dist: AuditData) -> None:
    with pytest.warns(MetricSkippedWarning, match="target"):
        res = compute_utility(
            same_dist.train,
            same_dist.synthetic,
            same_dist.control,
            schema=same_dist.schema,
            metrics=("marginals", "pairwise", "ml_efficacy"),
        )
    assert set(res) == {"marginals", "pairwise"}
    assert [w.code for w in res.skipped] == ["metric_skipped"]
    assert res["pairwise"] == _computed_plain("pairwise", same_dist)
    score = utility_score(res)
    assert score == pytest.approx((res["marginals"].value + res["pairwise"].value) / 2)


def _computed_plain(name: str, d: AuditData) -> MetricResult:
    return get_metric(name).compute(
        d.train, d.synthetic, d.control, schema=d.schema, random_state=0
    )


def test_compute_utility_with_target_and_utility_score(same_dist: AuditData) -> None:
    res = compute_utility(
        same_dist.train,
        same_dist.synthetic,
        same_dist.control,
        schema=same_dist.schema,
        target="y",
        params={"detection": {"max_rows": 400}},
    )
    assert list(res) == ["marginals", "pairwise", "detection", "ml_efficacy"]
    assert res.skipped == ()
    expected = np.mean([r.normalized() for r in res.values()])
    assert utility_score(res) == pytest.approx(expected)
    assert utility_score(res) > 0.9
    # ml_efficacy's ideal is 1: a ratio ≥ 1 normalises to 1, not to 1/1.5
    ml = res["ml_efficacy"]
    assert ml.normalized() == pytest.approx(min(ml.value, 1.0))
    with pytest.raises(ConfigError, match="headline"):
        utility_score({})
    with pytest.raises(ConfigError, match="Unknown metric 'nope'"):
        compute_utility(
            same_dist.train, same_dist.synthetic, schema=same_dist.schema, metrics=("nope",)
        )
