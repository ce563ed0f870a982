"""MembershipResult as a finding: typed warnings, unit, pooled models, baseline, store rows, v1 files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership.result import MembershipResult
from synth_audit.results import AuditWarning
from synth_audit.store import ResultRow


def _scores(shift: float, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n), np.zeros(n)].astype(int)
    scores = rng.normal(size=2 * n) + shift * labels
    return scores, labels


def test_warnings_are_typed_with_stable_codes() -> None:
    s, m = _scores(0.0)
    r = MembershipResult.from_scores(s, m, attack="dcr", target="release")
    assert all(isinstance(w, AuditWarning) for w in r.warnings)
    assert "auc_ci_contains_half" in {w.code for w in r.warnings}
    strong = MembershipResult.from_scores(*_scores(3.0), attack="dcr", target="release")
    assert "auc_ci_contains_half" not in {w.code for w in strong.warnings}


def test_round_trip_with_unit_models_and_baseline() -> None:
    s, m = _scores(1.0)
    attack = MembershipResult.from_scores(
        s, m, attack="lira", target="clf", unit="document", n_target_models=4
    )
    base = MembershipResult.from_scores(*_scores(0.0, seed=3), attack="blind", target="clf")
    both = attack.with_baseline(base)
    d = json.loads(json.dumps(both.to_dict()))
    back = MembershipResult.from_dict(d)
    assert back == both
    assert back.unit == "document" and back.n_target_models == 4
    assert back.baseline is not None and back.baseline.attack == "blind"
    assert "not_better_than_baseline" not in {w.code for w in both.warnings}


def test_baseline_as_strong_as_the_attack_is_flagged() -> None:
    s, m = _scores(0.3, seed=1)
    attack = MembershipResult.from_scores(s, m, attack="min_k", target="lm")
    blind = MembershipResult.from_scores(s + 0.01, m, attack="bag_of_ngrams", target="lm")
    flagged = attack.with_baseline(blind)
    assert "not_better_than_baseline" in {w.code for w in flagged.warnings}
    other = MembershipResult.from_scores(*_scores(0.0, n=100), attack="x", target="lm")
    with pytest.raises(DataValidationError, match="same records"):
        attack.with_baseline(other)


def test_version_1_files_are_still_read() -> None:
    s, m = _scores(0.0)
    d = MembershipResult.from_scores(s, m, attack="dcr", target="release").to_dict()
    d["schema_version"] = 1
    d["warnings"] = [w["message"] for w in d["warnings"]]
    for key in ("unit", "n_target_models", "baseline"):
        d.pop(key)
    old = MembershipResult.from_dict(d)
    assert old.unit == "record" and old.baseline is None
    assert {w.code for w in old.warnings} == {"membership"}


def test_rows_carry_roles_and_a_risk_scaled_row() -> None:
    strong = MembershipResult.from_scores(*_scores(2.0), attack="dcr", target="release")
    rows = [ResultRow.from_dict(r) for r in strong.rows("dcr")]
    by = {r.metric: r for r in rows}
    adv = by["membership.dcr.auc_advantage"]
    assert adv.extra["role"] == "risk"
    assert adv.value == pytest.approx(2 * strong.auc - 1)
    assert adv.ci_low is not None and adv.ci_high is not None
    assert adv.ci_low <= adv.value <= adv.ci_high
    assert by["membership.dcr.auc"].extra["role"] == "diagnostic"
    assert "membership.dcr.tpr_at_0.01_fpr" in by
    assert all(r.extra["unit"] == "record" for r in rows)
    null = MembershipResult.from_scores(*_scores(0.0), attack="dcr", target="release")
    null_adv = {r["metric"]: r for r in null.rows()}["membership.dcr.auc_advantage"]
    assert null_adv["ci_low"] == 0.0  # a chance-level attack's risk CI reaches zero


def test_bad_unit_and_model_count_are_refused() -> None:
    s, m = _scores(0.0, n=20)
    with pytest.raises(ConfigError, match="'unit'"):
        MembershipResult.from_scores(s, m, attack="a", target="t", unit="row")
    with pytest.raises(ConfigError, match="'n_target_models'"):
        MembershipResult.from_scores(s, m, attack="a", target="t", n_target_models=0)
