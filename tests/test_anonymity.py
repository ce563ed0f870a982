"""k-anonymity, ℓ-diversity and t-closeness equal their brute-force definitions (hypothesis), on
hand-checked fixtures, and as a report section whose risk findings reach the store rows."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth_audit.anonymity import (
    anonymity_section,
    distinct_l_diversity,
    entropy_l_diversity,
    k_anonymity,
    measure_anonymity,
    recursive_c,
    t_closeness,
)
from synth_audit.errors import ConfigError, DataValidationError

QI = ["a", "b"]


def _key(v: object) -> object:
    return "<NA>" if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _classes(df: pd.DataFrame, qi: list[str]) -> dict[tuple, list[int]]:
    out: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(df[qi].itertuples(index=False)):
        out[tuple(_key(v) for v in row)].append(i)
    return out


def _brute(df: pd.DataFrame, qi: list[str], sens: str, ell: int, ordered: bool) -> dict:
    classes = _classes(df, qi)
    vals = [_key(v) for v in df[sens]]
    # the value order of the ordered distance: sorted numbers, a missing value last
    present = set(vals)
    order = sorted(v for v in present if v != "<NA>") + (["<NA>"] if "<NA>" in present else [])
    q = Counter(vals)
    n = len(vals)
    dl, el, rc, tt = [], [], [], []
    for rows in classes.values():
        cnt = Counter(vals[i] for i in rows)
        dl.append(len(cnt))
        tot = len(rows)
        el.append(-sum(c / tot * math.log(c / tot) for c in cnt.values()))
        r = sorted(cnt.values(), reverse=True)
        tail = sum(r[ell - 1 :])
        rc.append(r[0] / tail if tail else math.inf)
        if ordered:
            m = len(order)
            acc, emd = 0.0, 0.0
            for v in order[:-1]:
                acc += cnt.get(v, 0) / tot - q[v] / n
                emd += abs(acc)
            tt.append(emd / (m - 1) if m > 1 else 0.0)
        else:
            tt.append(0.5 * sum(abs(cnt.get(v, 0) / tot - q[v] / n) for v in present))
    return {
        "k": min(len(r) for r in classes.values()),
        "distinct": min(dl),
        "entropy": math.exp(min(el)),
        "c": max(rc),
        "t": max(tt),
    }


cell = st.one_of(st.integers(0, 3), st.none())


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    a = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n))
    b = draw(st.lists(cell, min_size=n, max_size=n))
    s = draw(st.lists(st.one_of(st.integers(0, 4), st.none()), min_size=n, max_size=n))
    c = draw(st.lists(st.sampled_from(["flu", "hiv", "none"]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "a": pd.Series(a, dtype=object),
            "b": pd.Series(b, dtype="float64"),
            "s": pd.Series(s, dtype="float64"),
            "c": pd.Series(c, dtype=object),
        }
    )


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(df=tables(), ell=st.integers(1, 3))
def test_measures_equal_brute_force(df: pd.DataFrame, ell: int) -> None:
    for sens, ordered in (("s", True), ("c", False)):
        want = _brute(df, QI, sens, ell, ordered)
        assert k_anonymity(df, QI) == want["k"]
        assert distinct_l_diversity(df, QI, sens) == want["distinct"]
        assert entropy_l_diversity(df, QI, sens) == pytest.approx(want["entropy"], rel=1e-9)
        got_c = recursive_c(df, QI, sens, ell)
        assert got_c == want["c"] or got_c == pytest.approx(want["c"], rel=1e-9)
        assert t_closeness(df, QI, sens) == pytest.approx(want["t"], abs=1e-12)
    res = measure_anonymity(df, quasi_identifiers=QI, sensitive=["s", "c"], k=2, ell=ell)
    sizes = {tuple(rows): len(rows) for rows in _classes(df, QI).values()}
    assert res.records_below_k == sum(v for v in sizes.values() if v < 2)
    assert sum(s * c for s, c in res.class_size_histogram.items()) == len(df)


def test_hand_checked_fixture() -> None:
    df = pd.DataFrame(
        {
            "age": [30, 30, 30, 40, 40, np.nan, np.nan],
            "zip": ["1", "1", "1", "2", "2", "3", "3"],
            "hiv": ["y", "n", "n", "n", "n", "y", "y"],
        }
    )
    res = measure_anonymity(
        df, quasi_identifiers=["age", "zip"], sensitive=["hiv"], k=3, ell=2, t=0.3
    )
    assert res.k == 2 and res.n_classes == 3  # the missing ages form one class of 2
    assert res.records_below_k == 4 and res.below_k_rows == (3, 4, 5, 6)
    s = res.sensitive[0]
    assert s.distinct_l == 1 and s.records_below_l == 4
    # whole table: y 3/7, n 4/7; class {y, y} (the missing ages): ½(4/7 + 4/7) = 4/7
    assert s.t == pytest.approx(4 / 7) and s.t_distance == "equal"
    assert s.records_above_t == 4
    assert math.isinf(s.recursive_c)


def test_bad_declarations_name_the_columns() -> None:
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(DataValidationError, match=r"\['zz'\].*\[anonymity\]"):
        measure_anonymity(df, quasi_identifiers=["a", "zz"])
    with pytest.raises(ConfigError, match="both quasi-identifiers and sensitive"):
        measure_anonymity(df, quasi_identifiers=["a"], sensitive=["a"])
    with pytest.raises(ConfigError, match="'k' parameter"):
        measure_anonymity(df, quasi_identifiers=["a"], k=0)
    with pytest.raises(ConfigError, match="No quasi-identifiers"):
        k_anonymity(df, [])


def test_section_risk_findings_reach_the_rows() -> None:
    from synth_audit.report.model import AuditReport
    from synth_audit.schema import Schema
    from synth_audit.study.rows import report_rows

    df = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "y"], "s": [0, 1, 0, 0]})
    rel = measure_anonymity(df, quasi_identifiers=["a"], sensitive=["s"], k=2)
    tr = measure_anonymity(df, quasi_identifiers=["a"], sensitive=["s"], k=2, table="training")
    sec = anonymity_section(rel, tr)
    rep = AuditReport(
        created_at="2026-12-06T00:00:00+00:00",
        tool_version="0",
        seed=1,
        config={},
        inputs={},
        schema=Schema(columns=()),
        attacks={},
        inference={},
        sections={"anonymity": sec},
    )
    rows = {r.metric: r for r in report_rows(rep)}
    assert rows["anonymity.release_share_below_k"].value == 0.5
    assert rows["anonymity.release_share_below_k"].extra["role"] == "risk"
    assert rows["anonymity.training_share_below_k"].extra["role"] == "evidence"
    assert rows["anonymity.release_t_closeness[s]"].extra["role"] == "risk"


def test_config_section_is_strict_and_names_keys() -> None:
    from synth_audit.config import AuditConfig

    with pytest.raises(ConfigError) as exc:
        AuditConfig.from_mapping(
            {"anonymity": {"quasi_identifiers": ["a"], "sensitive": ["a"], "k": 0, "x": 1}},
            source="audit.toml",
        )
    msg = str(exc.value)
    assert "audit.toml has 3 problems" in msg
    assert "[anonymity] sensitive" in msg and "[anonymity] k" in msg and "[anonymity] x" in msg
    cfg = AuditConfig.from_mapping({"anonymity": {"quasi_identifiers": ["age"]}})
    assert cfg.anonymity is not None and (cfg.anonymity.k, cfg.anonymity.l) == (5, 2)
    assert AuditConfig.from_mapping({}).anonymity is None
