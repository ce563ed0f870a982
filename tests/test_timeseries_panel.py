"""Panel data: validation (file, column, remedy), splits over entities, entity features by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.errors import DataValidationError
from synth_audit.timeseries import PanelData, check_disjoint, entity_features, split_panel
from synth_audit.timeseries.features import _slope


def tiny() -> pd.DataFrame:
    """Three people, ragged lengths (3, 2, 4); 'sex' static, 'wage' and 'job' vary."""
    return pd.DataFrame(
        {
            "pid": [1, 1, 1, 2, 2, 3, 3, 3, 3],
            "year": [2000, 2001, 2002, 2000, 2002, 1999, 2000, 2001, 2002],
            "sex": ["f", "f", "f", "m", "m", "f", "f", "f", "f"],
            "wage": [10.0, 12.0, 14.0, 5.0, 5.0, 1.0, 4.0, 2.0, 3.0],
            "job": ["a", "a", "b", "c", "c", "a", "b", "a", "a"],
        }
    )


def test_static_and_varying_columns_are_inferred_and_ragged_lengths_allowed() -> None:
    p = PanelData(tiny(), entity="pid", time="year", source="panel.csv")
    assert (p.static, p.varying) == (["sex"], ["wage", "job"])
    assert len(p) == 3 and p.unit == "entity" and p.unit_ids() == [1, 2, 3]
    assert p.lengths().tolist() == [3, 2, 4]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (
            lambda d: d.drop(columns="year"),
            r"panel\.csv: the time column 'year' is not in the data",
        ),
        (
            lambda d: d.assign(year=[2000, 2000, 2002, 2000, 2002, 1999, 2000, 2001, 2002]),
            r"panel\.csv: 1 \(entity, time\) pair\(s\).*\(1, 2000\).*aggregate or drop",
        ),
        (
            lambda d: d.assign(year=[2002, 2001, 2000, 2000, 2002, 1999, 2000, 2001, 2002]),
            r"panel\.csv: the rows are not sorted.*within 1 entity \(e\.g\. 1\).*sort=True",
        ),
        (
            lambda d: d.iloc[[0, 1, 2, 3, 5, 6, 7, 8]],
            r"panel\.csv: 1 entity has fewer than 2 time steps \(e\.g\. 2\)\..*drop those",
        ),
        (
            lambda d: d.assign(pid=[1, 1, 1, 2, None, 3, 3, 3, 3]),
            r"panel\.csv: the entity column 'pid' has 1 missing value",
        ),
    ],
)
def test_bad_panels_are_refused_naming_file_column_and_remedy(mutate: object, pattern: str) -> None:
    with pytest.raises(DataValidationError, match=pattern):
        PanelData(mutate(tiny()), entity="pid", time="year", source="panel.csv")  # type: ignore[operator]


def test_a_static_column_that_changes_is_refused_and_sort_true_sorts() -> None:
    with pytest.raises(DataValidationError, match=r"static column\(s\) 'job' change within an"):
        PanelData(tiny(), entity="pid", time="year", static=["sex", "job"])
    shuffled = tiny().sample(frac=1.0, random_state=0)
    p = PanelData(shuffled, entity="pid", time="year", sort=True)
    assert p.frame.groupby("pid")["year"].apply(lambda s: s.is_monotonic_increasing).all()
    assert len(p.frame) == 9


def test_an_entity_on_both_sides_is_refused() -> None:
    p = PanelData(tiny(), entity="pid", time="year")
    rows = p.frame
    # A row-level split: person 3's rows on both sides.
    a = PanelData(rows.iloc[:7], entity="pid", time="year", min_length=1)
    b = PanelData(rows.iloc[7:], entity="pid", time="year", min_length=1)
    with pytest.raises(DataValidationError, match=r"1 entity is in both the train and the control"):
        check_disjoint({"train": a, "control": b})


def test_split_is_over_entities_and_keeps_each_entity_whole() -> None:
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame(
        {
            "pid": np.repeat(np.arange(n), 5),
            "t": np.tile(np.arange(5), n),
            "x": rng.normal(size=5 * n),
        }
    )
    p = PanelData(df, entity="pid", time="t")
    parts = split_panel(p, {"train": 10, "control": 15, "reference": 5}, random_state=1)
    assert [len(v) for v in parts.values()] == [10, 15, 5]
    check_disjoint(parts)  # no entity on two sides
    for part in parts.values():
        assert (part.lengths() == 5).all()  # every row of every entity came along


def test_entity_features_by_hand() -> None:
    f = entity_features(PanelData(tiny(), entity="pid", time="year"))
    assert list(f.index) == [1, 2, 3]
    one = f.loc[1]
    assert one["sex"] == "f"
    assert one["wage__mean"] == pytest.approx(12.0)
    assert one["wage__std"] == pytest.approx(np.sqrt(8 / 3))
    assert (one["wage__min"], one["wage__max"], one["wage__last"]) == (10.0, 14.0, 14.0)
    assert one["wage__slope"] == pytest.approx(2.0)
    assert (one["job__mode"], one["job__last"], one["job__changes"]) == ("a", "b", 1)
    three = f.loc[3]
    # wage 1, 4, 2, 3 at steps 0..3: sum((x - 1.5)(y - 2.5)) = 2.25 - 0.75 - 0.25 + 0.75 = 2,
    # sum((x - 1.5)^2) = 5, so the slope is 0.4
    assert three["wage__slope"] == pytest.approx(0.4)
    assert (three["job__mode"], three["job__changes"], three["length"]) == ("a", 2, 4)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(-100, 100, allow_nan=False),
    b=st.floats(-100, 100, allow_nan=False),
    n=st.integers(2, 30),
)
def test_slope_recovers_a_line(a: float, b: float, n: int) -> None:
    y = a * np.arange(n) + b
    assert _slope(y) == pytest.approx(a, abs=1e-6 * (1 + abs(a) + abs(b)))
