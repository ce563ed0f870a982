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
