"""The DPIA profile (strict, errors name file and key, announced defaults), the rating's scales
(monotone, hand-checked), and DPIA evidence for a model audit (membership only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synth_audit.dpia import build_dpia, load_profile
from synth_audit.dpia.profile import resolve_profile
from synth_audit.dpia.rating import CNIL_LEVELS, combine, likelihood_of
from synth_audit.errors import ConfigError
from synth_audit.report.model import AuditReport
from synth_audit.schema import Schema

ROOT = Path(__file__).resolve().parents[1]


def test_unknown_keys_and_bad_values_name_file_and_key(tmp_path: Path) -> None:
    p = tmp_path / "dpia.toml"
    p.write_text(
        'population_sise = 10\nrelease_context = "open"\n[columns]\nhealth = "medical"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_profile(p)
    msg = str(exc.value)
    assert str(p) in msg and "3 problems" in msg
    assert "population_sise: unknown key" in msg
    assert "release_context: must be one of" in msg and "'open'" in msg
    assert "columns.health" in msg and "'medical'" in msg
    p.write_text("population_size = 1.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="population_size"):
        load_profile(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_profile(tmp_path / "nope.toml")


def test_defaults_are_announced_and_columns_checked() -> None:
    prof, _ = load_profile(None)
    r = resolve_profile(prof, source="x", n_train=200, columns=["age", "health"])
    assert r.population_size == 200 and r.release_context == "public"
    assert r.attacker_knowledge == "full_record"
    assert len(r.notices) == 5 and any("population_size" in n for n in r.notices)
    assert r.level("health") == "personal"
    prof, _ = load_profile(ROOT / "samples" / "randhie" / "dpia.toml")
    with pytest.raises(ConfigError, match=r"'health'.*are not columns of the audited data"):
        resolve_profile(prof, source="p", n_train=10, columns=["age", "sex", "race", "site"])


@pytest.mark.parametrize("sample", ["randhie", "fair"])
def test_shipped_profiles_match_their_samples(sample: str) -> None:
    prof, _ = load_profile(ROOT / "samples" / sample / "dpia.toml")
    cols = list(pd.read_csv(ROOT / "samples" / sample / "train.csv", nrows=1).columns)
    r = resolve_profile(prof, source=sample, n_train=10, columns=cols)
    assert any(r.level(c) == "special" for c in cols)
    assert set(r.quasi_identifiers) <= set(cols)


level = st.sampled_from(CNIL_LEVELS)


@given(s1=level, s2=level, l1=level, l2=level)
def test_matrix_is_monotone(s1: str, s2: str, l1: str, l2: str) -> None:
    def idx(x: str) -> int:
        return CNIL_LEVELS.index(x)

    if idx(s1) <= idx(s2) and idx(l1) <= idx(l2):
        assert idx(combine(s1, l1)) <= idx(combine(s2, l2))


@given(lo=st.floats(0, 1), width=st.floats(0, 1), extra=st.floats(0, 1))
def test_likelihood_is_monotone_in_the_bounds(lo: float, width: float, extra: float) -> None:
    hi = min(1.0, lo + width)
    a = CNIL_LEVELS.index(likelihood_of(lo, hi)[0])
    b = CNIL_LEVELS.index(likelihood_of(min(1.0, lo + extra), min(1.0, hi + extra))[0])
    assert a <= b


def test_hand_checked_levels() -> None:
    assert likelihood_of(0.6, 0.8)[0] == "maximum"
    assert likelihood_of(0.05, 0.1)[0] == "significant"
    assert likelihood_of(0.001, 0.04)[0] == "limited"
    assert likelihood_of(0.0, 0.25)[0] == "limited"  # inconclusive
    assert likelihood_of(0.0, 0.1)[0] == "negligible"
    assert combine("maximum", "maximum") == "maximum"
    assert combine("maximum", "negligible") == "limited"
    assert combine("limited", "maximum") == "significant"


def _membership(tpr: float, lo: float, hi: float) -> dict:
    return {
        "auc": 0.9,
        "auc_ci": [0.85, 0.95],
        "tpr_at": [{"target_fpr": 0.01, "realised_fpr": 0.01, "tpr": tpr, "tpr_ci": [lo, hi]}],
        "top_exposed": [{"record_id": "patient-17", "score": 9.1}],
    }


def test_model_audit_rates_from_membership_and_states_the_threat_model() -> None:
    report = AuditReport(
        created_at="2026-12-06T00:00:00+00:00",
        tool_version="0",
        seed=1,
        config={},
        inputs={"train": {"n_rows": 1000}},
        schema=Schema(columns=()),
        attacks={},
        inference={},
        membership={"lira": _membership(0.61, 0.55, 0.67)},
        target={"kind": "classifier", "name": "mlp", "capabilities": ["predict_proba"]},
    )
    ev = build_dpia(report, {"population_size": 10_000, "membership_sensitivity": "health"})
    c = ev.exposure.criteria[0]
    assert c.criterion == "membership" and c.share == pytest.approx(0.60)
    assert c.expected_ci == pytest.approx((5_400, 6_700))  # (0.55 − 0.01, 0.67) × 10,000
    assert ev.rating.level == "maximum"  # ≥ 50 % of members confirmed, membership is health data
    restricted = build_dpia(
        report,
        {
            "population_size": 10_000,
            "membership_sensitivity": "health",
            "release_context": "internal",
        },
    )
    assert restricted.rating.likelihood == "limited"  # internal: two levels lower
    assert "internal lowers it to limited" in restricted.rating.trace
    md = ev.to_markdown()
    assert "class probabilities" in md and "Art. 35(7)(a)" in md and "Art. 35(7)(d)" in md
    assert "What this evidence does not show" in md and "not proof of safety" in md
    assert "Not measured in this audit: singling out, linkability, inference" in md
    assert "Most exposed by membership inference (lira)" in md and "patient-17" in md
