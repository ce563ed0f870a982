"""No-box membership results carry a baseline: the same attack with a stand-in release that never
saw the members (half the reference sample), so a result shows what the release adds."""

from __future__ import annotations

import pandas as pd
import pytest

from generators import make_generator
from synth_audit.membership.nobox import run_nobox_attacks
from synth_audit.schema import Schema, infer_schema


@pytest.fixture(scope="module")
def parts(randhie: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], Schema]:
    schema = infer_schema(randhie["train"], {"site": "categorical"})
    return randhie, schema


def _attack(parts: tuple[dict[str, pd.DataFrame], Schema], generator: str) -> dict:
    data, schema = parts
    members = data["train"].iloc[:500]
    gen = make_generator(generator).fit(members, schema=schema, random_state=0)
    return run_nobox_attacks(
        synthetic=gen.sample(500, random_state=1),
        members=members,
        nonmembers=data["control"].iloc[:500],
        reference=data["holdout"].iloc[:1000],
        schema=schema,
        attacks=("dcr", "domias"),
        random_state=0,
    )


def test_a_copy_beats_its_baseline(parts: tuple[dict[str, pd.DataFrame], Schema]) -> None:
    for name, res in _attack(parts, "copy").items():
        assert res.baseline is not None, name
        lo, hi = res.baseline.auc_ci
        assert lo <= 0.5 <= hi, (name, res.baseline.auc_ci)  # a release that never saw them
        assert res.auc > hi
        assert "not_better_than_baseline" not in {w.code for w in res.warnings}
        assert res.baseline.n_members == res.n_members


def test_a_release_of_marginals_is_no_better_than_its_baseline(
    parts: tuple[dict[str, pd.DataFrame], Schema],
) -> None:
    out = _attack(parts, "independent_marginals")
    flagged = [
        n for n, r in out.items() if "not_better_than_baseline" in {w.code for w in r.warnings}
    ]
    assert flagged, {n: (r.auc, r.baseline.auc_ci if r.baseline else None) for n, r in out.items()}
    round_trip = type(out["dcr"]).from_dict(out["dcr"].to_dict())
    assert round_trip == out["dcr"]
