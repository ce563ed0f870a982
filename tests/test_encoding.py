"""The shared Gower distance: the L1 embedding must equal the definition, NaN rules included."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.encoding import MixedEncoder, gower_matrix, nearest_neighbors
from synth_audit.schema import ColumnKind, ColumnSpec, Schema

SCHEMA = Schema(
    (
        ColumnSpec("x", ColumnKind.NUMERIC),
        ColumnSpec("y", ColumnKind.NUMERIC),
        ColumnSpec("c", ColumnKind.CATEGORICAL),
    )
)


def gower_by_definition(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Written from the docstring's definition, one pair at a time."""
    both = pd.concat([a, b])
    ranges = {c: both[c].max() - both[c].min() for c in ("x", "y")}
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            total = 0.0
            for c in ("x", "y", "c"):
                u, v = a[c].iloc[i], b[c].iloc[j]
                mu, mv = pd.isna(u), pd.isna(v)
                if mu and mv:
                    d = 0.0
                elif mu or mv:
                    d = 1.0
                elif c == "c":
                    d = 0.0 if u == v else 1.0
                else:
                    r = ranges[c]
                    d = abs(u - v) / r if r > 0 else 0.0
                total += d
            out[i, j] = total / 3
    return out


def test_hand_checked() -> None:
    a = pd.DataFrame({"x": [0.0, 10.0], "y": [1.0, np.nan], "c": ["a", "b"]})
    b = pd.DataFrame({"x": [5.0], "y": [np.nan], "c": ["a"]})
    d = gower_matrix(a, b, SCHEMA)
    # row 0: x 5/10 = .5, y present vs missing = 1, c equal = 0  -> 1.5 / 3
    # row 1: x .5, y both missing = 0, c differs = 1              -> 1.5 / 3
    assert d[:, 0] == pytest.approx([0.5, 0.5])


values = st.one_of(st.none(), st.floats(min_value=-100, max_value=100, allow_nan=False))
cats = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "é x"]))
rows = st.tuples(values, values, cats)


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, min_size=1, max_size=7), st.lists(rows, min_size=1, max_size=7))
def test_embedding_equals_definition(ra: list, rb: list) -> None:
    def frame(rs: list) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": [np.nan if r[0] is None else r[0] for r in rs],
                "y": [np.nan if r[1] is None else r[1] for r in rs],
                "c": pd.Series([r[2] for r in rs], dtype=object),
            }
        )

    a, b = frame(ra), frame(rb)
    assert gower_matrix(a, b, SCHEMA) == pytest.approx(gower_by_definition(a, b), abs=1e-9)


def test_unseen_categories_differ() -> None:
    fit = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "c": ["a", "b"]})
    enc = MixedEncoder(SCHEMA).fit([fit])
    q = pd.DataFrame({"x": [0.0, 0.0], "y": [0.0, 0.0], "c": ["new1", "new2"]})
    eq, ec = enc.transform_pair(q, fit)
    d = np.abs(eq[:, None, :] - ec[None, :, :]).sum(axis=2) / 3
    assert d[0, 0] == pytest.approx(1 / 3)  # unseen vs 'a': a full mismatch on c only
    eqq = enc.transform_pair(q, q)[0]
    assert np.abs(eqq[0] - eqq[1]).sum() / 3 == pytest.approx(1 / 3)  # two different unseen


@pytest.mark.parametrize("n_query,n_cand", [(50, 40), (3000, 2000)])  # brute force and KD-tree
def test_nearest_neighbors_exact(n_query: int, n_cand: int) -> None:
    rng = np.random.default_rng(0)
    cand = rng.random((n_cand, 4))
    query = rng.random((n_query, 4))
    dist, idx = nearest_neighbors(query, cand, 3, n_columns=4)
    sample = rng.choice(n_query, size=min(n_query, 50), replace=False)
    for i in sample:
        full = np.abs(cand - query[i]).sum(axis=1) / 4
        assert dist[i] == pytest.approx(np.sort(full)[:3])
        assert math.isclose(full[idx[i, 0]], full.min())


mixed_rows = st.tuples(
    values,
    st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
    st.sampled_from(["p", "q"]),
    st.one_of(st.none(), st.sampled_from(["u", "v", "w", "new"])),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(mixed_rows, min_size=1, max_size=25),
    st.lists(mixed_rows, min_size=1, max_size=25),
    st.integers(min_value=1, max_value=8),
)
def test_nearest_gower_is_exact(qr: list, cr: list, max_groups: int) -> None:
    from synth_audit.encoding import nearest_gower

    schema = Schema(
        (
            ColumnSpec("x", ColumnKind.NUMERIC),
            ColumnSpec("c1", ColumnKind.CATEGORICAL),
            ColumnSpec("c2", ColumnKind.BOOLEAN),
            ColumnSpec("c3", ColumnKind.CATEGORICAL),
        )
    )

    def frame(rs: list) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": [np.nan if r[0] is None else r[0] for r in rs],
                "c1": pd.Series([r[1] for r in rs], dtype=object),
                "c2": pd.Series([r[2] for r in rs], dtype=object),
                "c3": pd.Series([r[3] for r in rs], dtype=object),
            }
        )

    q, c = frame(qr), frame(cr)
    enc = MixedEncoder(schema).fit([q, c])
    full = gower_matrix(q, c, schema)
    dist, idx = nearest_gower(q, c, enc, ["x", "c1", "c2", "c3"], max_groups=max_groups)
    assert dist == pytest.approx(full.min(axis=1), abs=1e-12)
    assert full[np.arange(len(q)), idx] == pytest.approx(full.min(axis=1), abs=1e-12)


# Tables shaped like real surveys: short ordinal scales read as categories, many missing answers,
# duplicated rows, high-cardinality codes. Every search must equal the brute-force Gower minimum.
def survey_tables(
    kind: str, n_query: int, n_cand: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    rng = np.random.default_rng(seed)
    n = n_query + n_cand
    cols: dict[str, object] = {}
    specs = []
    n_scales = {"ordinal": 10, "highcard": 3, "missing": 5}[kind]
    miss = {"ordinal": 0.03, "highcard": 0.05, "missing": 0.4}[kind]
    for j in range(n_scales):  # Likert-like 1..5 scales, answered by codes
        v = rng.integers(1, 6, size=n).astype(object)
        v[rng.random(n) < miss] = None
        cols[f"q{j}"] = v
        specs.append(ColumnSpec(f"q{j}", ColumnKind.CATEGORICAL))
    cols["yes"] = rng.random(n) < 0.3
    specs.append(ColumnSpec("yes", ColumnKind.BOOLEAN))
    for j in range(2):  # ages and incomes, with item nonresponse
        x = np.round(
            rng.gamma(2.0, 10.0, size=n), {"ordinal": 0, "highcard": 1, "missing": 0}[kind]
        )
        x[rng.random(n) < miss] = np.nan
        cols[f"x{j}"] = x
        specs.append(ColumnSpec(f"x{j}", ColumnKind.NUMERIC))
    if kind == "highcard":  # nearly one category per row, as an occupation or a place code
        cols["code"] = rng.integers(0, int(0.8 * n), size=n).astype(str)
        specs.append(ColumnSpec("code", ColumnKind.CATEGORICAL))
    df = pd.DataFrame(cols)
    if kind != "highcard":  # duplicated rows, as short scales produce
        dup = rng.choice(n, size=n // 5)
        df.iloc[rng.choice(n, size=n // 5)] = df.iloc[dup].to_numpy()
    return (
        df.iloc[:n_query].reset_index(drop=True),
        df.iloc[n_query:].reset_index(drop=True),
        Schema(tuple(specs)),
    )


def gower_by_columns(
    a: pd.DataFrame, b: pd.DataFrame, schema: Schema, fitted: list[pd.DataFrame] | None = None
) -> np.ndarray:
    """The definition column by column (no embedding, so no one-hot of many-valued columns).

    Numeric ranges are taken over ``fitted`` (default: ``a`` and ``b``), as the encoder's are.
    """
    fitted = fitted if fitted is not None else [a, b]
    total = np.zeros((len(a), len(b)))
    for col in schema.used:
        if schema.kind(col).is_numeric:
            u = pd.to_numeric(a[col]).to_numpy(dtype=float)[:, None]
            v = pd.to_numeric(b[col]).to_numpy(dtype=float)[None, :]
            both = np.concatenate([pd.to_numeric(f[col]).to_numpy(dtype=float) for f in fitted])
            r = np.nanmax(both) - np.nanmin(both) if np.isfinite(both).any() else 0.0
            diff = np.abs(u - v) / r if r > 0 else np.zeros((len(a), len(b)))
            mu, mv = np.isnan(u), np.isnan(v)
            total += np.where(mu & mv, 0.0, np.where(mu | mv, 1.0, diff))
        else:
            u = a[col].astype(object).where(a[col].notna(), None).to_numpy()[:, None]
            v = b[col].astype(object).where(b[col].notna(), None).to_numpy()[None, :]
            total += u != v  # None == None: missing equals missing
    return total / len(schema.used)


@pytest.mark.parametrize("kind", ["ordinal", "highcard", "missing"])
@pytest.mark.parametrize("seed", [0, 1])
def test_nearest_gower_exact_on_survey_tables(kind: str, seed: int) -> None:
    from synth_audit.encoding import nearest_gower

    q, c, schema = survey_tables(kind, 600, 400, seed)
    cols = list(schema.used)
    enc = MixedEncoder(schema).fit([q, c])
    full = gower_by_columns(q, c, schema)
    if kind != "highcard":  # the column-wise reference agrees with the embedding
        ref = gower_by_columns(q.iloc[:50], c, schema)
        assert gower_matrix(q.iloc[:50], c, schema) == pytest.approx(ref, abs=1e-12)
    for max_groups in (1, 16, 4096):
        dist, idx = nearest_gower(q, c, enc, cols, max_groups=max_groups, n_jobs=1)
        assert dist == pytest.approx(full.min(axis=1), abs=1e-12)
        assert full[np.arange(len(q)), idx] == pytest.approx(full.min(axis=1), abs=1e-12)
    # Threads only split the queries: the same inputs give the same indices.
    dist2, idx2 = nearest_gower(q, c, enc, cols, n_jobs=2)
    dist1, idx1 = nearest_gower(q, c, enc, cols, n_jobs=1)
    assert np.array_equal(idx1, idx2)
    assert np.array_equal(dist1, dist2)


ordinal_rows = st.tuples(
    st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
    st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
    st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.5, 7.0])),
    st.one_of(st.none(), st.text(alphabet="abcdefgh", min_size=1, max_size=2)),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(ordinal_rows, min_size=1, max_size=30),
    st.lists(ordinal_rows, min_size=1, max_size=30),
    st.integers(min_value=1, max_value=64),
)
def test_nearest_gower_exact_ordinal_missing_highcard(qr: list, cr: list, max_groups: int) -> None:
    """Scales with missing answers, ties everywhere, a many-valued code column, duplicated rows."""
    from synth_audit.encoding import nearest_gower

    schema = Schema(
        (
            ColumnSpec("s1", ColumnKind.CATEGORICAL),
            ColumnSpec("s2", ColumnKind.CATEGORICAL),
            ColumnSpec("s3", ColumnKind.CATEGORICAL),
            ColumnSpec("x", ColumnKind.NUMERIC),
            ColumnSpec("code", ColumnKind.CATEGORICAL),
        )
    )

    def frame(rs: list) -> pd.DataFrame:
        rs = rs + rs[: len(rs) // 3]  # exact duplicates
        return pd.DataFrame(
            {
                "s1": pd.Series([r[0] for r in rs], dtype=object),
                "s2": pd.Series([r[1] for r in rs], dtype=object),
                "s3": pd.Series([r[2] for r in rs], dtype=object),
                "x": [np.nan if r[3] is None else r[3] for r in rs],
                "code": pd.Series([r[4] for r in rs], dtype=object),
            }
        )

    q, c = frame(qr), frame(cr)
    enc = MixedEncoder(schema).fit([q, c])
    full = gower_matrix(q, c, schema)
    dist, idx = nearest_gower(q, c, enc, list(schema.used), max_groups=max_groups)
    assert dist == pytest.approx(full.min(axis=1), abs=1e-12)
    assert full[np.arange(len(q)), idx] == pytest.approx(full.min(axis=1), abs=1e-12)


def test_nearest_gower_high_cardinality_needs_no_one_hot() -> None:
    """Issue 7 item 16: a column with a category per row must not become a one-hot matrix.

    The old search one-hot encoded such a column (rows x categories floats: here ~60 MB, at
    10,000 categories in 12,000 rows ~2 GB) and then searched it by brute force. Codes are
    compared as integers now, so memory stays proportional to rows x columns.
    """
    import tracemalloc

    from synth_audit.encoding import nearest_gower

    q, c, schema = survey_tables("highcard", 2000, 2000, 3)
    assert pd.concat([q, c])["code"].nunique() > 2000
    cols = list(schema.used)
    enc = MixedEncoder(schema).fit([q, c])
    nearest_gower(q.iloc[:5], c, enc, cols)  # load the compiled kernel outside the measurement
    tracemalloc.start()
    try:
        dist, idx = nearest_gower(q, c, enc, cols)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    sample = np.arange(0, 2000, 7)
    full = gower_by_columns(q.iloc[sample], c, schema, fitted=[q, c])
    assert dist[sample] == pytest.approx(full.min(axis=1), abs=1e-12)
    assert full[np.arange(len(sample)), idx[sample]] == pytest.approx(full.min(axis=1), abs=1e-12)


def test_nearest_gower_infinite_values_give_valid_neighbours() -> None:
    from synth_audit.encoding import nearest_gower

    q = pd.DataFrame({"x": [np.inf, 1.0, -np.inf], "c": ["a", "b", "a"]})
    c = pd.DataFrame({"x": [0.0, np.inf, 2.0], "c": ["a", "a", "b"]})
    schema = Schema((ColumnSpec("x", ColumnKind.NUMERIC), ColumnSpec("c", ColumnKind.CATEGORICAL)))
    enc = MixedEncoder(schema).fit([q, c])
    dist, idx = nearest_gower(q, c, enc, ["x", "c"])
    assert idx.tolist() == [1, 2, 0]  # inf matches inf; 1.0 is nearest 2.0 with the same category
    assert np.isfinite(dist).all()


@pytest.mark.parametrize(
    "values",
    [
        [1, 1.0, "1", True, None, "1.0", 2],  # mixed objects: keys "1", "1.0", "True" differ
        [0.0, -0.0, 1.5, None, 1.5, 0.0, 2.0],  # floats as categories
        [3, 1, 2, 3, 1, 2, 2],  # integer codes
        [True, False, True, True, False, False, True],
    ],
)
def test_nearest_gower_category_keys_match_encoder(values: list) -> None:
    """Categories are compared by the same keys as the embedding, whatever the column's dtype."""
    from synth_audit.encoding import nearest_gower

    schema = Schema((ColumnSpec("c", ColumnKind.CATEGORICAL), ColumnSpec("x", ColumnKind.NUMERIC)))
    q = pd.DataFrame({"c": pd.Series(values), "x": np.linspace(0, 1, len(values))})
    c = pd.DataFrame({"c": pd.Series(values[::-1]), "x": np.linspace(1, 0, len(values)) ** 2})
    enc = MixedEncoder(schema).fit([q, c])
    full = gower_matrix(q, c, schema)
    dist, idx = nearest_gower(q, c, enc, ["c", "x"])
    assert dist == pytest.approx(full.min(axis=1), abs=1e-12)
    assert full[np.arange(len(q)), idx] == pytest.approx(full.min(axis=1), abs=1e-12)
