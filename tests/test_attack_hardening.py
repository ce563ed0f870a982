"""Issue 7, attack side: numeric-secret tolerance (5), anonymeter's generated-query count (6), an
honest univariate singling-out CI (7), unmeasurable criteria (8), the CI below 0 (9), dates in
every attack (13) and size limits (15)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synth_audit import evaluate_release
from synth_audit.attacks import _common, inference_attack, linkability_attack, singling_out_attack
from synth_audit.attacks.anonymeter_engine import anonymeter_singling_out, n_generated_from_log
from synth_audit.attacks.inference import correct_guesses, tolerance_scale
from synth_audit.attacks.singling_out import MIN_COLUMNS
from synth_audit.config import AuditConfig, load_audit_config
from synth_audit.data import prepare_inputs
from synth_audit.errors import ConfigError
from synth_audit.results import UNMEASURABLE
from synth_audit.stats import wilson_rate

ROOT = Path(__file__).resolve().parents[1]


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "birth_year": rng.integers(1950, 2001, n),
            "income": rng.lognormal(10, 0.5, n).round(0),
            "height": rng.normal(170, 10, n).round(1),
            "region": rng.choice(list("abcdefgh"), n),
        }
    )


# Item 5: numeric-secret tolerance ---------------------------------------------------------------


def test_year_secret_on_a_copy_shows_high_risk() -> None:
    # A verbatim copy gives each training person's own birth year back. Under the old default (5 %
    # of the true value, ±99 years) every guess, control and baseline included, was "correct", so the
    # copy showed no risk on this column.
    train, control = _people(600, 1), _people(600, 2)
    data = prepare_inputs(train, train.copy(), control)
    r = inference_attack(data, secret="birth_year", random_state=0)
    assert r.params["tolerance_mode"] == "iqr" and r.params["numeric_tolerance"] == 0.1
    assert r.params["tolerance_abs"] == pytest.approx(
        0.1
        * tolerance_scale(
            train["birth_year"].to_numpy(float), train["birth_year"].to_numpy(float), "iqr"
        )
    )
    assert r.risk.ci_low >= 0.5, r.to_dict()
    assert r.baseline_rate.raw < 0.2
    assert "baseline_too_strong" not in {w.code for w in r.warnings}

    old = inference_attack(
        data, secret="birth_year", numeric_tolerance=0.05, tolerance_mode="relative", random_state=0
    )
    assert old.baseline_rate.raw == 1.0 and old.risk.value < 0.05  # the silent wrong answer
    warn = next(w for w in old.warnings if w.code == "baseline_too_strong")
    assert "numeric_tolerance = 0.05" in warn.message and "'relative'" in warn.message
    assert "100%" in warn.message and "'birth_year'" in warn.message


def test_iqr_tolerance_is_exact_for_small_counts() -> None:
    # Family sizes 1..6: IQR 2, so the allowed error 0.2 is below the integer step: exact match.
    truth = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0] * 5)
    scale = tolerance_scale(truth, truth, "iqr")
    assert 0.1 * scale < 1
    ok = correct_guesses(
        truth + 1, truth, numeric=True, tolerance=0.1, mode="iqr", value_range=scale
    )
    assert not ok.any()
    # Zero IQR (a column that is mostly one value): the standard deviation stands in.
    spiky = np.r_[np.zeros(90), np.arange(1.0, 11.0)]
    assert tolerance_scale(spiky, spiky, "iqr") == pytest.approx(np.std(spiky))


def test_config_describes_default_tolerance() -> None:
    fields = AuditConfig.model_fields["inference"].default_factory().model_fields  # type: ignore[misc]
    assert fields["tolerance_mode"].default == "iqr"
    assert "1990" in (fields["tolerance_mode"].description or "")
    assert fields["numeric_tolerance"].default == 0.1


# Item 6: anonymeter's generated-query count -------------------------------------------------------


def test_anonymeter_counts_generated_not_successful_queries() -> None:
    # Continuous columns: anonymeter generates all 60 predicates easily, but a release of other people
    # singles out few training records. queries() returns only those successes.
    train, control, release = _people(800, 3), _people(800, 4), _people(800, 5)
    data = prepare_inputs(train, release, control)
    r = anonymeter_singling_out(data, mode="multivariate", n_attacks=60, random_state=0)
    assert r.params["n_successful_queries"] < 60
    assert r.params["n_queries_generated"] == 60
    assert "few_queries" not in {w.code for w in r.warnings}


def test_anonymeter_shortfall_is_read_from_its_log() -> None:
    msg = (
        "Attack `univariate` could generate only 7 singling out queries out of the requested 500. "
        "This can probably lead to an underestimate of the singling out risk."
    )
    assert n_generated_from_log([msg], 500) == 7
    assert n_generated_from_log([], 500) == 500

    # And for real: two boolean-like columns cannot give 500 univariate predicates.
    def frame(seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        df = pd.DataFrame({"a": rng.choice(["x", "y"], 200), "b": rng.choice(["u", "v"], 200)})
        df.loc[0] = ["z", "w"]
        return df

    data = prepare_inputs(frame(0), frame(0), frame(1))
    r = anonymeter_singling_out(data, mode="univariate", n_attacks=500, random_state=0)
    assert r.params["n_queries_generated"] == 2
    assert {"few_queries", UNMEASURABLE} <= {w.code for w in r.warnings}


# Item 7: the univariate singling-out CI holds -----------------------------------------------------


def _resplit_coverage(randhie: dict[str, pd.DataFrame], n_splits: int) -> dict[str, float]:
    """Re-split train ∪ control at random; the release holds held-out people (true risk 0)."""
    pool = pd.concat([randhie["train"], randhie["control"]], ignore_index=True)
    base = prepare_inputs(pool, randhie["holdout"], None, column_kinds={"site": "categorical"})
    pool_p = base.train  # the release, base.synthetic, is every held-out person
    rng = np.random.default_rng(2024)
    half = len(pool_p) // 2
    clipped = unclipped = 0
    z: list[float] = []  # residual in units of its stated standard error
    for i in range(n_splits):
        perm = rng.permutation(len(pool_p))
        data = dataclasses.replace(
            base,
            train=pool_p.iloc[perm[:half]].reset_index(drop=True),
            control=pool_p.iloc[perm[half:]].reset_index(drop=True),
        )
        # The default 500 predicates: the more predicates per column, the more they cluster.
        r = singling_out_attack(data, mode="univariate", n_attacks=500, random_state=i)
        assert r.measurable, r.warnings
        clipped += r.risk.ci_low <= 0.0 <= r.risk.ci_high
        unclipped += abs(r.risk.residual) <= r.risk.error
        z.append(r.risk.residual / (r.risk.error / 1.959964))
    return {
        "clipped": clipped / n_splits,
        "unclipped": unclipped / n_splits,
        "z_mean": float(np.mean(z)),
        "z_sd": float(np.std(z, ddof=1)),
    }


def test_univariate_error_counts_columns_not_predicates() -> None:
    # Three columns copied from train (each of their predicates singles someone out) and three drawn
    # afresh (none does): 240 predicates, but the outcome is decided per column. The error must be
    # widened by the design effect, not be the Wilson error of 240 independent trials.
    rng = np.random.default_rng(5)
    n = 400
    train = pd.DataFrame({f"x{i}": rng.normal(size=n).round(6) for i in range(6)})
    release = train.copy()
    for c in ("x3", "x4", "x5"):
        release[c] = rng.normal(size=n).round(6)
    control = pd.DataFrame({f"x{i}": rng.normal(size=n).round(6) for i in range(6)})
    data = prepare_inputs(train, release, control)
    r = singling_out_attack(data, mode="univariate", n_attacks=240, random_state=0)
    deff = r.params["design_effect"]["attack"]
    plain = wilson_rate(r.attack_rate.n_success, r.attack_rate.n_total)
    assert r.params["n_columns_used"] == 6 and deff > 10
    assert r.attack_rate.value == pytest.approx(plain.value)
    assert r.attack_rate.error == pytest.approx(plain.error * np.sqrt(deff))


@pytest.mark.slow
def test_univariate_ci_covers_zero_on_resplits(randhie: dict[str, pd.DataFrame]) -> None:
    cov = _resplit_coverage(randhie, 200)
    # The reported CI, and the unclipped interval residual ± error (nominal 95 %), cover 0.
    assert cov["clipped"] >= 0.93, cov
    assert cov["unclipped"] >= 0.93, cov


# Item 8: unmeasurable criteria --------------------------------------------------------------------


def test_booleans_and_small_integers_are_unmeasurable() -> None:
    rng = np.random.default_rng(0)
    n = 400

    def frame(seed: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        return pd.DataFrame(
            {
                "smoker": r.choice([True, False], n),
                "insured": r.choice(["yes", "no"], n),
                "children": r.integers(0, 4, n),
                "cars": r.integers(0, 3, n),
            }
        )

    train = frame(1)
    data = prepare_inputs(train, frame(2), frame(3))
    r = singling_out_attack(data, mode="univariate", n_attacks=500, random_state=0)
    assert r.params["n_queries_generated"] <= 8
    assert not r.measurable
    msg = next(w.message for w in r.warnings if w.code == UNMEASURABLE)
    assert f"at least {_common.MIN_ATTACKS}" in msg
    assert r.to_dict()["measurable"] is False
    assert rng is not None


def test_predicates_from_too_few_columns_are_unmeasurable() -> None:
    # Hundreds of predicates, all from two continuous columns: one trial per column, not hundreds.
    rng = np.random.default_rng(1)

    def frame() -> pd.DataFrame:
        return pd.DataFrame(
            {"x": rng.normal(size=500), "y": rng.normal(size=500), "c": rng.choice(list("pq"), 500)}
        )

    data = prepare_inputs(frame(), frame(), frame())
    r = singling_out_attack(data, mode="univariate", n_attacks=200, random_state=0)
    assert r.n_attacks == 200 and r.params["n_columns_used"] == 2 < MIN_COLUMNS
    assert not r.measurable


def test_well_measured_criteria_stay_measurable(randhie: dict[str, pd.DataFrame]) -> None:
    data = prepare_inputs(
        randhie["train"],
        randhie["synthetic"],
        randhie["control"],
        column_kinds={"site": "categorical"},
    )
    for mode in ("univariate", "multivariate"):
        r = singling_out_attack(data, mode=mode, n_attacks=300, random_state=0)
        assert r.measurable, (mode, r.warnings)
    assert r.params["design_effect"]["attack"] == 1.0  # multivariate: independent draws


def test_too_few_linkability_targets_are_unmeasurable() -> None:
    df = _people(200, 7)
    data = prepare_inputs(df, df.copy(), _people(200, 8))
    few = linkability_attack(data, aux_cols=(["birth_year"], ["height"]), n_attacks=20)
    assert not few.measurable
    enough = linkability_attack(data, aux_cols=(["birth_year"], ["height"]), n_attacks=200)
    assert enough.measurable


# Item 9 is in tests/test_stats.py (hand-checked case and hypothesis properties).

# Item 13: dates and datetimes ---------------------------------------------------------------------


def _dated(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "visit": pd.to_datetime("2000-01-01", utc=True)
            + pd.to_timedelta(rng.integers(0, 5000, n), unit="D"),
            "born": pd.to_datetime(rng.integers(1950, 2000, n).astype(str)).tz_localize(None),
            "bmi": rng.normal(25, 4, n).round(1),
            "ward": rng.choice(list("abcde"), n),
            "age": rng.integers(18, 90, n),
        }
    )


def test_datetime_columns_in_every_attack_through_evaluate_release() -> None:
    train = _dated(300, 1)
    report = evaluate_release(
        train=train,
        synthetic=train.copy(),
        control=_dated(300, 2),
        config={
            "singling_out": {"n_attacks": 100},
            "inference": {"secrets": ["visit", "born"]},
            "linkability": {"aux_cols": [["visit", "ward"], ["bmi", "born", "age"]]},
            "utility": {"enabled": False},
        },
    )
    names = dict(report.risks())
    for name in ("singling_out_univariate", "singling_out_multivariate", "linkability"):
        assert names[name].risk.ci_low > 0.5, (name, names[name].to_dict())
    for secret in ("visit", "born"):
        r = names[f"inference[{secret}]"]
        assert r.attack_rate.raw == 1.0 and r.risk.ci_low > 0.5, r.to_dict()
    # Date predicates read as dates, not as seconds since 1970.
    per = names["singling_out_univariate"].per_record
    assert per is not None
    visit_q = [q for q in per["query"] if q.startswith("visit")]
    assert visit_q and all("T00:00:00+00:00" in q for q in visit_q), visit_q[:3]


# Item 15: sizes are bounded -----------------------------------------------------------------------


def test_config_refuses_huge_sizes_at_load() -> None:
    bad: dict[str, Any] = {
        "singling_out": {"n_attacks": 10**12, "max_attempts": 10**12},
        "linkability": {"n_attacks": 10**12, "n_neighbors": 10**6},
        "inference": {"n_attacks": 10**12},
    }
    with pytest.raises(ConfigError) as err:
        AuditConfig.from_mapping(bad)
    msg = str(err.value)
    assert "[singling_out] n_attacks: 1000000000000 is above the limit of 100000" in msg
    assert "[singling_out] max_attempts" in msg and "10000000" in msg
    assert "[linkability] n_neighbors" in msg and "[inference] n_attacks" in msg
    assert msg.count("lower it") >= 3


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda d: singling_out_attack(d, n_attacks=10**12),
            r"'n_attacks' parameter of SinglingOutAttack is 1000000000000, above the limit of "
            r"100,000\. Lower \[singling_out\] n_attacks",
        ),
        (
            lambda d: singling_out_attack(d, max_attempts=10**9),
            r"'max_attempts'.* is 1000000000, above the limit of 10,000,000",
        ),
        (
            lambda d: linkability_attack(d, aux_cols=(["bmi"], ["age"]), n_attacks=301),
            r"'n_attacks' parameter of LinkabilityAttack is 301, but the training data has only 300 "
            r"records \(the limit\)\. Set n_attacks to at most 300, or to \"all\"",
        ),
        (
            lambda d: linkability_attack(d, aux_cols=(["bmi"], ["age"]), n_neighbors=5000),
            r"'n_neighbors' parameter of LinkabilityAttack is 5000, above the limit of 1,000",
        ),
        (
            lambda d: inference_attack(d, secret="ward", n_attacks=10**12),
            r"'n_attacks' parameter of InferenceAttack is 1000000000000, but the training data has "
            r"only 300 records",
        ),
    ],
)
def test_sizes_checked_against_the_data(call: Any, pattern: str) -> None:
    data = prepare_inputs(_dated(300, 1), _dated(300, 2), _dated(300, 3))
    with pytest.raises(ConfigError, match=pattern):
        call(data)


def test_cli_refuses_huge_n_attacks(tmp_path: Path) -> None:
    df = _people(100, 1)
    for name in ("train", "synthetic", "control"):
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    (tmp_path / "audit.toml").write_text("[singling_out]\nn_attacks = 1000000000000\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synth_audit",
            "evaluate",
            "--train",
            str(tmp_path / "train.csv"),
            "--synthetic",
            str(tmp_path / "synthetic.csv"),
            "--control",
            str(tmp_path / "control.csv"),
            "--config",
            str(tmp_path / "audit.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "n_attacks" in proc.stderr and "limit of 100000" in proc.stderr
    assert load_audit_config(None).singling_out.n_attacks == 500
