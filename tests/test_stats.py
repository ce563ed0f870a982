"""Wilson rates and residual risk: hand-checked values and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import ConfigError
from synth_audit.stats import (
    design_effect,
    paired_residual_error,
    probit,
    residual_risk,
    wilson_rate,
)


def test_wilson_by_hand() -> None:
    # 4 successes in 4 at 95 %: z = 1.959964, z² = 3.841459
    r = wilson_rate(4, 4, 0.95)
    z2 = 1.959963984540054**2
    assert r.value == pytest.approx((4 + z2 / 2) / (4 + z2))
    assert r.error == pytest.approx(1.959963984540054 / (4 + z2) * math.sqrt(0 + z2 / 4))
    assert r.value == pytest.approx(0.7551, abs=1e-4)
    assert r.error == pytest.approx(0.2449, abs=1e-4)


def test_wilson_matches_anonymeter() -> None:
    from anonymeter.stats.confidence import success_rate

    for s, n in [(0, 10), (3, 10), (137, 500), (500, 500)]:
        a = success_rate(n_total=n, n_success=s, confidence_level=0.9)
        b = wilson_rate(s, n, 0.9)
        assert (b.value, b.error) == pytest.approx((a.value, a.error))


def test_residual_by_hand() -> None:
    a = wilson_rate(80, 100)
    c = wilson_rate(20, 100)
    r = residual_risk(a, c)
    assert r.residual == pytest.approx((a.value - c.value) / (1 - c.value))
    d_a = 1 / (1 - c.value)
    d_c = (a.value - 1) / (1 - c.value) ** 2
    assert r.error == pytest.approx(math.hypot(a.error * d_a, c.error * d_c))
    assert r.ci_low < r.value < r.ci_high


def test_residual_matches_anonymeter() -> None:
    from anonymeter.stats.confidence import EvaluationResults

    res = EvaluationResults(n_attacks=400, n_success=130, n_baseline=10, n_control=60)
    ours = residual_risk(wilson_rate(130, 400), wilson_rate(60, 400))
    theirs = res.risk()
    assert ours.value == pytest.approx(theirs.value)
    assert ours.ci == pytest.approx(theirs.ci)


def test_bad_confidence_level() -> None:
    with pytest.raises(ConfigError, match="confidence_level"):
        probit(1.5)


counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@settings(max_examples=300, deadline=None)
@given(counts, levels)
def test_wilson_properties(sn: tuple[int, int], level: float) -> None:
    s, n = sn
    r = wilson_rate(s, n, level)
    lo, hi = r.ci
    assert 0.0 <= lo <= r.value <= hi <= 1.0
    assert 0.0 < r.value < 1.0
    assert lo - 1e-12 <= s / n <= hi + 1e-12  # the Wilson interval always contains the MLE


@settings(max_examples=300, deadline=None)
@given(counts, counts, levels)
def test_risk_properties(a: tuple[int, int], c: tuple[int, int], level: float) -> None:
    ra, rc = wilson_rate(*a, level), wilson_rate(*c, level)
    risk = residual_risk(ra, rc, level)
    assert 0.0 <= risk.ci_low <= risk.value <= risk.ci_high <= 1.0
    # Monotone: one more success against training records never lowers the risk.
    s, n = a
    if s < n:
        more = residual_risk(wilson_rate(s + 1, n, level), rc, level)
        assert more.residual >= risk.residual - 1e-12
    # ... and one more success against control records never raises it.
    sc, nc = c
    if sc < nc:
        less = residual_risk(ra, wilson_rate(sc + 1, nc, level), level)
        assert less.residual <= risk.residual + 1e-12


@settings(max_examples=100, deadline=None)
@given(counts, levels)
def test_higher_confidence_wider(sn: tuple[int, int], level: float) -> None:
    s, n = sn
    assert wilson_rate(s, n, 0.99).error >= wilson_rate(s, n, level).error - 1e-12


def test_negative_residual_keeps_its_resolution() -> None:
    # Control attacked far more often than train: the unclipped interval lies wholly below 0. The
    # data support "no risk detected, to within the error", not a zero-width [0, 0].
    a, c = wilson_rate(10, 500), wilson_rate(100, 500)
    r = residual_risk(a, c)
    assert r.residual + r.error < 0  # the whole unclipped interval is negative
    assert r.value == 0.0 and r.ci_low == 0.0
    assert r.ci_high == pytest.approx(r.error) and r.ci_high > 0.0


@settings(max_examples=300, deadline=None)
@given(counts, counts, levels)
def test_ci_high_positive_and_monotone(
    a: tuple[int, int], c: tuple[int, int], level: float
) -> None:
    ra, rc = wilson_rate(*a, level), wilson_rate(*c, level)
    risk = residual_risk(ra, rc, level)
    assert risk.error > 0.0
    assert 0.0 < risk.ci_high <= 1.0
    assert 0.0 <= risk.ci_low <= risk.value <= risk.ci_high
    s, n = a
    if s < n:
        more = residual_risk(wilson_rate(s + 1, n, level), rc, level)
        assert more.value >= risk.value - 1e-12


def test_design_effect() -> None:
    # Independent clusters of one outcome each: no inflation.
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=float)
    assert design_effect(y, np.arange(10)) == pytest.approx(1.0, abs=0.2)
    # Two clusters, perfectly homogeneous inside: every outcome of a cluster is one trial.
    y2 = np.repeat([1.0, 0.0, 1.0, 0.0], 25)
    g2 = np.repeat([0, 1, 2, 3], 25)
    # CR1: G/(G-1) · Σ_g (25 · ±0.5)² / n² over var_iid = 0.25 / 100 -> 4/3 · 625 / 10000 / 0.0025
    assert design_effect(y2, g2) == pytest.approx(4 / 3 * 4 * 156.25 / 100**2 / 0.0025)
    assert design_effect(np.zeros(50), np.repeat([0, 1], 25)) == 1.0
    assert design_effect(y2, np.zeros(100)) == 1.0
    r = wilson_rate(50, 100)
    assert r.inflated(4.0).error == pytest.approx(2 * r.error)
    assert r.inflated(0.5) == r


def test_paired_residual_error() -> None:
    # Each trial succeeds on train or on control, never both (a predicate matching one person of
    # the population): the paired error exceeds the one that treats the two rates as independent.
    a = np.array([1.0, 0.0] * 100)
    c = 1.0 - a
    paired = paired_residual_error(a, c, np.arange(200))
    independent = residual_risk(wilson_rate(100, 200), wilson_rate(100, 200)).error
    assert paired > independent
    # By hand: psi_i = (a_i − 0.5)/0.5 + (c_i − 0.5)(−0.5)/0.25 = ±2, var = 200/199 · 200·4 / 200²
    assert paired == pytest.approx(1.959964 * math.sqrt(200 / 199 * 4 / 200), rel=1e-5)
    assert paired_residual_error(a, c, np.zeros(200)) == 0.0  # one cluster: not estimable
    floor = residual_risk(wilson_rate(100, 200), wilson_rate(100, 200), min_error=0.5)
    assert floor.error == 0.5
