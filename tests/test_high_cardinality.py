"""Columns with thousands of categories: exact k-NN on codes, and linkability without a one-hot."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from synth_audit.attacks import linkability as lk
from synth_audit.data import prepare_inputs
from synth_audit.encoding import MixedEncoder, gower_matrix, knn_gower
from synth_audit.schema import infer_schema


def _table(n: int, n_codes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "code": [f"c{v}" for v in rng.integers(0, n_codes, n)],
            "grade": rng.choice(["a", "b", "c", None], n),
            "x": x,
            "y": rng.integers(0, 5, n).astype(float),
        }
    )


@pytest.mark.parametrize("k", [1, 2, 5])
def test_knn_gower_equals_brute_force(k: int) -> None:
    q, c = _table(60, 30, 0), _table(90, 30, 1)
    schema = infer_schema(pd.concat([q, c]), {"code": "categorical", "y": "numeric"})
    enc = MixedEncoder(schema).fit([q, c])
    d, i = knn_gower(q, c, enc, schema.used, k, block_cells=500)
    full = gower_matrix(q, c, schema)
    expect = np.sort(full, axis=1)[:, :k]
    np.testing.assert_allclose(d, expect, atol=1e-12)
    np.testing.assert_allclose(np.take_along_axis(full, i, axis=1), expect, atol=1e-12)
    assert (np.diff(d, axis=1) >= -1e-12).all()


def test_linkability_wide_path_matches_the_embedding_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    train = pd.DataFrame(
        {"a": rng.normal(size=400), "b": rng.choice(list("pqrs"), 400), "c": rng.normal(size=400)}
    )
    control = train.assign(a=rng.normal(size=400), c=rng.normal(size=400))
    synthetic = pd.concat([train.iloc[:200], control.iloc[200:]], ignore_index=True)
    data = prepare_inputs(train, synthetic, control)
    for k in (1, 3):
        narrow = lk.linkability_attack(
            data, aux_cols=[["a", "b"], ["c"]], n_neighbors=k, random_state=0
        )
        monkeypatch.setattr(lk, "WIDE_EMBEDDING", 0)
        wide = lk.linkability_attack(
            data, aux_cols=[["a", "b"], ["c"]], n_neighbors=k, random_state=0
        )
        monkeypatch.setattr(lk, "WIDE_EMBEDDING", 256)
        assert wide.to_dict() == narrow.to_dict()
        assert narrow.attack_rate.value > 0.3  # the leaked half links


def test_linkability_on_a_column_with_thousands_of_categories_stays_small() -> None:
    n = 4000
    rng = np.random.default_rng(5)
    train = pd.DataFrame(
        {
            "id_like": [f"k{v}" for v in rng.permutation(n)],
            "g": rng.choice(list("abcd"), n),
            "v": rng.integers(0, 50, n).astype(float),
        }
    )
    control = train.assign(id_like=[f"m{v}" for v in range(n)])
    data = prepare_inputs(train, train.copy(), control, column_kinds={"id_like": "categorical"})
    tracemalloc.start()
    res = lk.linkability_attack(data, aux_cols=[["id_like"], ["g", "v"]], random_state=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # A one-hot embedding of the aux column alone would be 4,000 x 4,000 x 8 bytes = 128 MB.
    assert peak < 64 * 2**20, peak / 2**20
    assert res.attack_rate.value > 0.9  # a copy links every person through the unique code
