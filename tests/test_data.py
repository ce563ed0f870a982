"""Data model: kind inference, exclusions, coercion and the warnings about the control set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth_audit.attacks import inference_attack, linkability_attack
from synth_audit.data import prepare_inputs, read_table_bytes, split_frame
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.schema import ColumnKind, infer_schema


def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patient_id": np.arange(1000, 1000 + n),
            "name": [f"Person number {i} with a long free-text note attached" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "bmi": rng.normal(27, 4, n).round(1),
            "smoker": rng.choice(["yes", "no"], n),
            "stage": rng.integers(1, 5, n),
            "visit": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "flag": rng.integers(0, 2, n),
        }
    )


def test_kinds_are_inferred() -> None:
    schema = infer_schema(_frame())
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "patient_id": ColumnKind.ID,
        "name": ColumnKind.ID,
        "age": ColumnKind.NUMERIC,
        "bmi": ColumnKind.NUMERIC,
        "smoker": ColumnKind.BOOLEAN,
        "stage": ColumnKind.CATEGORICAL,
        "visit": ColumnKind.DATETIME,
        "flag": ColumnKind.BOOLEAN,
    }
    assert set(schema.excluded) == {"patient_id", "name"}
    assert len(schema.notices) == 2 and "patient_id" in schema.notices[0]


def test_overrides_and_their_errors() -> None:
    schema = infer_schema(_frame(), {"stage": "numeric", "patient_id": "categorical"})
    assert schema.kind("stage") is ColumnKind.NUMERIC
    assert schema.kind("patient_id") is ColumnKind.CATEGORICAL
    with pytest.raises(ConfigError, match=r"'nope'"):
        infer_schema(_frame(), {"nope": "numeric"})
    with pytest.raises(ConfigError, match=r"'age' must be one of"):
        infer_schema(_frame(), {"age": "number"})


def test_datetime_columns_take_part_in_attacks() -> None:
    df = _frame()
    data = prepare_inputs(df, df.copy(), _frame(seed=1))
    assert str(data.train["visit"].dtype).startswith("datetime64")
    assert "visit" in data.columns and "patient_id" not in data.columns
    r = linkability_attack(data, aux_cols=(["visit"], ["bmi", "age"]), random_state=0)
    assert r.attack_rate.raw == 1.0  # a copy: every record's visit date and measurements link
    inf = inference_attack(data, secret="visit", random_state=0)
    # Records 20 and 234 agree on every other column, so one of them gets the other's visit date
    # (7 months off: wrong under the IQR tolerance of ±15 days, "correct" under the old 5 % of the
    # seconds since 1970, about ±1.5 years).
    assert inf.attack_rate.n_success == 299 and inf.attack_rate.n_total == 300


def test_categories_from_csv_and_parquet_agree() -> None:
    # 1 (int from CSV), 1.0 (float from Parquet) and "1" are one category.
    train = pd.DataFrame({"c": [1, 2, 1, 2] * 10, "x": np.arange(40.0)})
    syn = pd.DataFrame({"c": [1.0, 2.0, 1.0, 2.0] * 10, "x": np.arange(40.0)})
    data = prepare_inputs(train, syn, None)
    assert set(data.train["c"]) == set(data.synthetic["c"]) == {"1", "2"}


def test_control_size_warnings() -> None:
    df = _frame(400)
    small = prepare_inputs(df, df, _frame(50, seed=2))
    codes = {w.code for w in small.warnings}
    assert {"small_control", "unbalanced_control"} <= codes
    msg = next(w.message for w in small.warnings if w.code == "small_control")
    assert "50 rows" in msg and "±0.14" in msg
    assert "no_control" in {w.code for w in prepare_inputs(df, df, None).warnings}


def test_incompatible_types_name_column_and_types() -> None:
    df = _frame(50)
    bad = df.copy()
    bad["bmi"] = bad["bmi"].astype(str)
    bad.loc[3, "bmi"] = "heavy"
    with pytest.raises(DataValidationError) as err:
        prepare_inputs(df, bad, df, sources={"synthetic": "syn.csv"})
    msg = str(err.value)
    assert (
        "'bmi'" in msg
        and "numeric" in msg
        and "text" in msg
        and "syn.csv" in msg
        and "'heavy'" in msg
    )


def test_upload_reader_refuses_non_tables() -> None:
    with pytest.raises(DataValidationError, match="not a Parquet file"):
        read_table_bytes(b"\x80\x04pickle", "data.parquet")
    with pytest.raises(DataValidationError, match=r"extension '\.pkl'"):
        read_table_bytes(b"\x80\x04", "data.pkl")
    with pytest.raises(DataValidationError, match="limit"):
        read_table_bytes(b"a,b\n" + b"1,2\n" * 1000, "x.csv", max_bytes=100)
    assert read_table_bytes(b"a,b\n1,2\n3,4\n", "x.csv").shape == (2, 2)


def test_split_is_disjoint_and_seeded() -> None:
    df = _frame(100)
    a = split_frame(df, {"train": 40, "control": 40, "reference": 20}, random_state=3)
    b = split_frame(df, {"train": 40, "control": 40, "reference": 20}, random_state=3)
    ids = [set(v["patient_id"]) for v in a.values()]
    assert sum(map(len, ids)) == len(set().union(*ids)) == 100
    assert all(a[k].equals(b[k]) for k in a)
    with pytest.raises(DataValidationError, match="asks for 101 rows"):
        split_frame(df, {"train": 101}, random_state=0)


def test_any_index_is_positional() -> None:
    # Frames filtered from a larger table (index 10..13) or with duplicate labels keep their values.
    df = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "c": list("abab")}, index=[10, 11, 12, 13])
    dup = pd.DataFrame({"x": [5.0, 6.0, 7.0, 8.0], "c": list("baba")}, index=[0, 0, 1, 1])
    data = prepare_inputs(df, dup, dup)
    assert list(data.train["x"]) == [1.5, 2.5, 3.5, 4.5]
    assert list(data.synthetic["c"]) == list("baba")
    assert data.train.index.equals(pd.RangeIndex(4))
