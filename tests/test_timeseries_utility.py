"""Panel utility statistics: hand-computed fixtures and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.timeseries import PanelData
from synth_audit.timeseries.utility import (
    autocorrelation,
    autocorrelation_similarity,
    marginal_similarity,
    predictive_score,
)


def panel(values: list[list[float]], sex: list[str] | None = None) -> PanelData:
    rows = [
        {"pid": i, "t": t, "x": v, "sex": (sex or ["f"] * len(values))[i]}
        for i, seq in enumerate(values)
        for t, v in enumerate(seq)
    ]
    return PanelData(pd.DataFrame(rows), entity="pid", time="t", static=["sex"])


def test_autocorrelation_by_hand() -> None:
    # One entity 1, 2, 3, 4: mean 2.5, variance 1.25; lag-1 products 0.75, -0.25, 0.75 (mean 5/12)
    # give 1/3; lag 2: -0.75, -0.75 (mean -0.75) give -0.6.
    acf = autocorrelation(panel([[1, 2, 3, 4]]), "x", lags=2)
    assert acf == pytest.approx([1 / 3, -0.6])
    # Pairs never cross entities: two entities of length 2 with opposite trends.
    acf2 = autocorrelation(panel([[1, 2], [2, 1]]), "x", lags=1)
    assert acf2[0] == pytest.approx(-1.0)  # deviations (-.5, .5) and (.5, -.5): products -.25


def test_marginal_similarity_by_hand() -> None:
    real = panel([[0, 1], [2, 3]], sex=["f", "m"])
    syn = panel([[0, 1], [0, 1]], sex=["f", "f"])
    sim = marginal_similarity(real, syn)
    # x: real {0,1,2,3}, synthetic {0,0,1,1}: the CDFs differ most at 1 (0.5 vs 1.0) -> 1 - 0.5.
    assert sim["x"] == pytest.approx(0.5)
    # sex over entities: real f/m half each, synthetic all f -> total variation 0.5.
    assert sim["sex"] == pytest.approx(0.5)


seqs = st.lists(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=6), min_size=2, max_size=8
)


@settings(max_examples=40, deadline=None)
@given(a=seqs, b=seqs)
def test_similarities_are_bounded_and_one_on_identical_panels(
    a: list[list[float]], b: list[list[float]]
) -> None:
    pa, pb = panel(a), panel(b)
    for v in marginal_similarity(pa, pb).values():
        assert 0.0 <= v <= 1.0
    assert all(v == pytest.approx(1.0) for v in marginal_similarity(pa, pa).values())
    overall, per = autocorrelation_similarity(pa, pb)
    assert overall is None or 0.0 <= overall <= 1.0
    assert all(0.0 <= v <= 1.0 for v in per.values())
    same, _ = autocorrelation_similarity(pa, pa)
    assert same is None or same == pytest.approx(1.0)


def test_predictive_score_is_zero_for_a_perfectly_predictable_process() -> None:
    # x(t+1) = x(t) + 1 in every entity: a linear forecaster trained on any such panel is exact.
    rng = np.random.default_rng(0)
    starts = rng.normal(size=30)
    train = panel([[s + k for k in range(5)] for s in starts[:15]])
    test = panel([[s + k for k in range(5)] for s in starts[15:]])
    assert predictive_score(train, test) == pytest.approx(0.0, abs=0.02)
    noise = panel([list(rng.normal(size=5)) for _ in range(15)])
    assert predictive_score(noise, test) > 0.3
