"""Hand-checkable fixtures for the three attacks: tiny frames whose outcome is worked out on paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth_audit.attacks import inference_attack, linkability_attack, singling_out_attack
from synth_audit.attacks.inference import correct_guesses
from synth_audit.data import prepare_inputs
from synth_audit.errors import ConfigError
from synth_audit.stats import wilson_rate


def test_linkability_copy_links_everyone() -> None:
    # Four people, every value distinct: a copy links each person's two halves through one row.
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0, 30.0, 20.0, 40.0]})
    control = pd.DataFrame({"a": [1.1, 2.1, 3.1, 4.1], "b": [40.0, 20.0, 30.0, 10.0]})
    data = prepare_inputs(
        train, train.copy(), control, column_kinds={"a": "numeric", "b": "numeric"}
    )
    r = linkability_attack(data, aux_cols=(["a"], ["b"]), random_state=0)
    assert r.attack_rate.n_success == 4 and r.attack_rate.n_total == 4
    assert r.attack_rate.value == pytest.approx(wilson_rate(4, 4).value)
    # Control person i sits next to train person i on a but next to another person on b: no link.
    assert r.control_rate is not None and r.control_rate.n_success == 0
    per = r.per_record
    assert per is not None
    assert per.loc[per.role == "train", "linked"].all()
    assert not per.loc[per.role == "control", "linked"].any()


def test_linkability_ties_count_as_one_neighbour() -> None:
    # The release repeats every record twice; anonymeter's arbitrary tie-break could pick different
    # copies for the two halves. Identical synthetic points are one neighbour here, so all link.
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 6.0, 7.0]})
    data = prepare_inputs(
        train, pd.concat([train, train], ignore_index=True), train, check_control=False
    )
    r = linkability_attack(data, aux_cols=(["a"], ["b"]), random_state=0)
    assert r.attack_rate.n_success == 3


def test_linkability_k_neighbours() -> None:
    # Target (0, 0); synthetic rows: r0 = (0, 9), r1 = (9, 0), r2 = (1, 1).
    # k=1: nearest on a is r0, on b is r1 -> no link. k=2: {r0, r2} and {r1, r2} share r2 -> link.
    train = pd.DataFrame({"a": [0.0], "b": [0.0]})
    syn = pd.DataFrame({"a": [0.0, 9.0, 1.0], "b": [9.0, 0.0, 1.0]})
    data = prepare_inputs(
        pd.concat([train] * 2, ignore_index=True),
        syn,
        None,
        column_kinds={"a": "numeric", "b": "numeric"},
    )
    assert (
        linkability_attack(data, aux_cols=(["a"], ["b"]), n_neighbors=1).attack_rate.n_success == 0
    )
    assert (
        linkability_attack(data, aux_cols=(["a"], ["b"]), n_neighbors=2).attack_rate.n_success == 2
    )


def test_inference_nearest_neighbour_guess() -> None:
    # Targets x=0 (secret a) and x=10 (secret b); the release's nearest rows are x=1 (a), x=9 (a):
    # guesses a, a -> 1 of 2 correct.
    train = pd.DataFrame({"x": [0.0, 10.0], "s": ["a", "b"]})
    syn = pd.DataFrame({"x": [1.0, 9.0], "s": ["a", "a"]})
    data = prepare_inputs(train, syn, None)
    r = inference_attack(data, secret="s", random_state=0)
    assert (r.attack_rate.n_success, r.attack_rate.n_total) == (1, 2)
    per = r.per_record
    assert (
        per is not None
        and list(per["guess"]) == ["a", "a"]
        and list(per["correct"]) == [True, False]
    )


def test_numeric_tolerance_uses_true_value() -> None:
    truth = np.array([-10.0, 100.0, 0.0, 50.0])
    guess = np.array([-20.0, 104.0, 0.0, 60.0])
    rel = correct_guesses(
        guess, truth, numeric=True, tolerance=0.05, mode="relative", value_range=110
    )
    # -20 vs -10: |Δ| = 10 > 0.05·10 (anonymeter: 10 / -20 < 0.05 -> "correct"); 104 vs 100 ok; 0 exact
    assert list(rel) == [False, True, True, False]
    rng = correct_guesses(guess, truth, numeric=True, tolerance=0.1, mode="range", value_range=110)
    assert list(rng) == [True, True, True, True]  # every |Δ| <= 11


def test_missing_values_match_each_other() -> None:
    ok = correct_guesses(
        np.array([None, "a", None], dtype=object),
        np.array([None, None, "a"], dtype=object),
        numeric=False,
        tolerance=0.0,
        mode="relative",
        value_range=0.0,
    )
    assert list(ok) == [True, False, False]


def test_singling_out_univariate_by_hand() -> None:
    # Release: c = x y y y, n = 1 4 6 9. Predicates that isolate one synthetic record:
    #   c == 'x'; n <= 1; n >= 9; and n == 1, 4, 6, 9 (values that occur once)  -> 7 generated.
    # Train: c = x y y z, n = 1 5 9 9.5. Exactly one training match for:
    #   c == 'x' (row 0), n <= 1 (row 0), n == 1 (row 0), n == 9 (row 2)       -> 4 successes;
    #   n >= 9 matches rows 2 and 3, n == 4 and n == 6 match nobody.
    train = pd.DataFrame({"c": ["x", "y", "y", "z"], "n": [1.0, 5.0, 9.0, 9.5]})
    syn = pd.DataFrame({"c": ["x", "y", "y", "y"], "n": [1.0, 4.0, 6.0, 9.0]})
    data = prepare_inputs(train, syn, None, column_kinds={"n": "numeric"})
    r = singling_out_attack(data, mode="univariate", n_attacks=10, random_state=0)
    assert r.params["n_queries_generated"] == 7
    assert (r.attack_rate.n_success, r.attack_rate.n_total) == (4, 7)
    assert r.per_record is not None and set(r.per_record["record"]) == {0, 2}
    assert "few_queries" in {w.code for w in r.warnings}  # 7 of the 10 requested


def test_singling_out_rate_counts_generated_queries() -> None:
    # Two columns with two values each: at most 4 distinct multivariate predicates exist, far fewer
    # than requested; the rate's denominator is what was generated, and a warning says so.
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.choice(["p", "q"], 50), "b": rng.choice(["u", "v"], 50)})
    df.loc[0] = ["r", "w"]
    data = prepare_inputs(df, df.copy(), None)
    r = singling_out_attack(
        data, mode="multivariate", n_attacks=100, n_cols=2, random_state=1, max_attempts=2000
    )
    assert r.attack_rate.n_total == r.params["n_queries_generated"] < 100
    assert "few_queries" in {w.code for w in r.warnings}


def test_odd_column_names() -> None:
    cols = ["age in years", "zip-code", 'quote"d', "naïve é", "class"]
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            cols[0]: rng.integers(18, 90, 300).astype(float),
            cols[1]: rng.choice(["a-1", "b-2", "c-3"], 300),
            cols[2]: rng.normal(size=300),
            cols[3]: rng.choice(["ü", "ö"], 300),
            cols[4]: rng.choice(["x", "y"], 300),
        }
    )
    data = prepare_inputs(
        train,
        train.sample(frac=1, random_state=1),
        train.iloc[::-1].copy(),
        check_control=False,
    )
    assert (
        singling_out_attack(
            data, mode="multivariate", n_attacks=20, random_state=0
        ).attack_rate.n_total
        > 0
    )
    assert (
        linkability_attack(
            data, aux_cols=(cols[:2], cols[2:]), n_attacks=50, random_state=0
        ).n_attacks
        == 50
    )
    assert inference_attack(data, secret=cols[3], n_attacks=50, random_state=0).n_attacks == 50


def test_parameter_errors_name_the_parameter() -> None:
    df = pd.DataFrame({"a": np.arange(10.0), "b": list("pqpqpqpqpq")})
    data = prepare_inputs(df, df, df, check_control=False)
    with pytest.raises(
        ConfigError,
        match=r"'n_neighbors' parameter of LinkabilityAttack must be an int >= 1\. Got 0",
    ):
        linkability_attack(data, aux_cols=(["a"], ["b"]), n_neighbors=0)
    with pytest.raises(ConfigError, match="disjoint"):
        linkability_attack(data, aux_cols=(["a"], ["a", "b"]))
    with pytest.raises(ConfigError, match=r"'secret'.*'nope'"):
        inference_attack(data, secret="nope")
    with pytest.raises(ConfigError, match="'n_attacks'"):
        inference_attack(data, secret="a", n_attacks=0)
    with pytest.raises(ConfigError, match="'n_cols'"):
        singling_out_attack(data, n_cols=5)


def test_seeded_determinism() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {"a": rng.normal(size=400), "b": rng.choice(list("pqrs"), 400), "c": rng.normal(size=400)}
    )
    syn = df.sample(frac=1, random_state=2).reset_index(drop=True)
    data = prepare_inputs(df, syn, df.iloc[:200].copy(), check_control=False)
    for fn in (
        lambda s: singling_out_attack(data, n_attacks=50, random_state=s),
        lambda s: linkability_attack(
            data, aux_cols=(["a"], ["b", "c"]), n_attacks=100, random_state=s
        ),
        lambda s: inference_attack(data, secret="b", n_attacks=100, random_state=s),
    ):
        assert fn(5) == fn(5)
        assert fn(5).to_dict() == fn(5).to_dict()


def test_multivariate_singling_out_in_blocks_finds_the_same_predicates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Matching the release in blocks of a few rows (candidates that matched twice leave early)
    gives the predicates, outcomes and risk of matching it whole, missing values included."""
    from synth_audit.attacks import singling_out as so

    rng = np.random.default_rng(4)
    n = 400
    num = rng.normal(size=n).round(1)
    num[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame(
        {
            "a": num,
            "b": rng.choice(["p", "q", "r", None], n),
            "c": rng.integers(0, 6, n).astype(float),
            "d": rng.choice(["x", "y"], n),
        }
    )
    data = prepare_inputs(df.iloc[:200], df.iloc[200:], df.iloc[100:300], check_control=False)
    whole = singling_out_attack(data, mode="multivariate", n_attacks=40, random_state=2)
    monkeypatch.setattr(so, "MATCH_BLOCK_CELLS", 1)
    monkeypatch.setattr(so, "MATCH_BLOCK_MIN_ROWS", 7)  # 29 blocks of the 200 release rows
    blocks = singling_out_attack(data, mode="multivariate", n_attacks=40, random_state=2)
    assert whole.attack_rate.n_total > 5
    assert blocks == whole  # rates, counts, risk, warnings
    assert blocks.per_record is not None and whole.per_record is not None
    pd.testing.assert_frame_equal(blocks.per_record, whole.per_record)
