"""DPIA calibration on real records: a copy with a special-category column rates "maximum", unseen
real records at most "limited", the rating follows the CIs as the leaked fraction of a ``leaky``
release rises, and the expected number of people exposed covers the true number leaked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from generators.baselines import CopyGenerator, LeakyGenerator
from synth_audit.dpia import build_dpia
from synth_audit.dpia.rating import CNIL_LEVELS, likelihood_of
from synth_audit.evaluate import evaluate_release
from synth_audit.report.model import AuditReport

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "randhie"
N = 300
CONFIG = {
    "seed": 1,
    "singling_out": {"enabled": False},
    "linkability": {
        "aux_cols": [
            ["age", "sex", "race", "site", "family_size"],
            ["income", "decision_maker_educ", "coinsurance_pct", "health", "chronic_diseases"],
        ]
    },
    "inference": {"secrets": ["health"]},
    "utility": {"enabled": False},
    "diagnostics": {"dcr": False},
}
PROFILE = {
    "population_size": N,  # the people in the training data: exposed counts are theirs
    "release_context": "public",
    "attacker_knowledge": "some_attributes",
    "membership_sensitivity": "health",
    "columns": {"health": "health", "race": "racial_or_ethnic_origin", "income": "sensitive"},
}


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train = pd.read_csv(SAMPLE / "train.csv").iloc[:N]
    ct = pd.read_csv(SAMPLE / "control.csv")
    return train, ct.iloc[:N], ct.iloc[N : 3 * N]  # train, control, holdout (all disjoint persons)


_cache: dict[float, tuple[AuditReport, int]] = {}


def _leaky(frames: tuple, f: float) -> tuple[AuditReport, int]:
    if f not in _cache:
        train, control, holdout = frames
        gen = LeakyGenerator(fraction=f).fit(train, holdout=holdout, random_state=0)
        release = gen.sample(N, random_state=1)
        report = evaluate_release(train=train, synthetic=release, control=control, config=CONFIG)
        _cache[f] = (report, gen.n_leaked(N))
    return _cache[f]


@pytest.mark.slow
def test_copy_release_with_special_category_rates_maximum(frames: tuple) -> None:
    train, control, _ = frames
    release = CopyGenerator().fit(train, random_state=0).sample(N, random_state=1)
    report = evaluate_release(train=train, synthetic=release, control=control, config=CONFIG)
    ev = build_dpia(report, PROFILE)
    assert ev.rating.level == "maximum"
    assert ev.rating.severity == "maximum" and ev.rating.likelihood == "maximum"
    assert "health" in ev.rating.trace or "whole record" in ev.rating.trace
    # the same copy with nothing sensitive declared is not "maximum": severity comes from the profile
    plain = build_dpia(report, {**PROFILE, "columns": {}, "membership_sensitivity": "personal"})
    assert plain.rating.level == "significant" and plain.rating.severity == "limited"


@pytest.mark.slow
def test_unseen_real_records_rate_at_most_limited(frames: tuple) -> None:
    report, leaked = _leaky(frames, 0.0)
    assert leaked == 0
    ev = build_dpia(report, PROFILE)
    assert CNIL_LEVELS.index(ev.rating.level) <= CNIL_LEVELS.index("limited")
    for c in ev.rating.criteria:
        assert c.likelihood in ("negligible", "limited"), c.trace


@pytest.mark.slow
def test_rating_follows_the_cis_as_the_leaked_fraction_rises(frames: tuple) -> None:
    levels = []
    for f in (0.0, 0.3, 1.0):
        report, _ = _leaky(frames, f)
        ev = build_dpia(report, PROFILE)
        for crit, rated in zip(
            [c for c in ev.exposure.criteria if c.measurable], ev.rating.criteria, strict=True
        ):
            assert rated.measured_likelihood == likelihood_of(*crit.share_ci)[0]
        levels.append(CNIL_LEVELS.index(ev.rating.level))
    assert levels == sorted(levels) and levels[0] < levels[-1]
    assert CNIL_LEVELS[levels[-1]] == "maximum"


def test_expected_exposed_ci_covers_the_true_number_leaked(frames: tuple) -> None:
    for f in (0.1, 0.3, 0.6):
        report, leaked = _leaky(frames, f)
        ev = build_dpia(report, PROFILE)
        u = ev.exposure.union
        assert u is not None
        assert u.expected_ci[0] <= leaked <= u.expected_ci[1], (f, leaked, u)
        # by criterion: risk × people, with the risk's own CI
        link = next(c for c in ev.exposure.criteria if c.name == "linkability")
        assert link.expected == pytest.approx(link.share * N)
        assert link.expected_ci[0] <= leaked <= link.expected_ci[1] + 1e-9
        # the most exposed people are training records hit by both attacks
        top = ev.exposure.most_exposed
        assert int(top["n_successful_attacks"].iloc[0]) == 2
        assert top["highest_sensitivity"].iloc[0] == "special"
