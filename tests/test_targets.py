"""Targets: capabilities, provenance, the registry (entry points) and the contract suite."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_audit.data import split_frame
from synth_audit.datasets import TableData, split_units
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.targets import (
    Capability,
    GeneratorTarget,
    ReleaseTarget,
    TargetInfo,
    available_targets,
    require,
    target_class,
)
from synth_audit.targets import registry as target_registry
from synth_audit.testing import check_target

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small(randhie: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return randhie["train"].iloc[:300].reset_index(drop=True)


def test_every_builtin_target_passes_the_contract(small: pd.DataFrame) -> None:
    check_target(lambda: ReleaseTarget(small, name="shipped"))
    for name in ("copy", "independent_marginals", "gaussian_copula"):
        check_target(lambda name=name: GeneratorTarget.from_name(name), data=small, n=40)


def test_contract_suite_catches_a_broken_target(small: pd.DataFrame) -> None:
    class NoRelease(ReleaseTarget):
        release = None  # type: ignore[assignment]

    with pytest.raises(AssertionError, match="no method release"):
        check_target(lambda: NoRelease(small))

    class WrongInfo(ReleaseTarget):
        def info(self) -> TargetInfo:
            return TargetInfo(kind="classifier", name="x")

    with pytest.raises(AssertionError, match="kind and capabilities"):
        check_target(lambda: WrongInfo(small))


def test_plugin_target_joins_through_its_entry_point(
    echo_plugin: None, small: pd.DataFrame
) -> None:
    assert "echo" in available_targets()
    cls = target_class("echo")
    check_target(lambda: cls(noise=0.1), data=small, n=30)
    assert cls().info().to_dict()["kind"] == "echo"


def test_plugin_may_not_replace_a_builtin(tmp_path: Path) -> None:
    dist = tmp_path / "bad_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[synth_audit.targets]\nrelease = os:getcwd\n")
    sys.path.insert(0, str(tmp_path))
    target_registry._plugins = None
    try:
        with pytest.raises(ConfigError, match=r"'release' .* already registered"):
            available_targets()
    finally:
        sys.path.remove(str(tmp_path))
        target_registry._plugins = None


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"Unknown target kind 'llm'.*'release'.*'tabular_generator'"
    ):
        target_class("llm")


def test_require_names_missing_capabilities(small: pd.DataFrame) -> None:
    release = ReleaseTarget(small)
    require(release, [Capability.RELEASE], who="DCR")
    with pytest.raises(
        ConfigError, match=r"Shadow modelling needs the capability 'refit'.*offers: release"
    ):
        require(release, ["refit"], who="Shadow modelling")


def test_dp_generator_info_records_its_epsilon() -> None:
    target = GeneratorTarget.from_name("privbayes", epsilon=1.0)
    info = target.info()
    assert info.kind == "tabular_generator"
    assert info.name == "privbayes"
    assert info.params["epsilon"] == 1.0
    assert info.epsilon == 1.0
    assert "ε = 1" in info.describe()
    assert info.fingerprint is None  # not fitted yet


def test_release_target_is_fingerprinted_by_content(small: pd.DataFrame) -> None:
    a = ReleaseTarget(small).info().fingerprint
    b = ReleaseTarget(small.copy()).info().fingerprint
    changed = small.copy()
    changed.iloc[0, 0] = changed.iloc[1, 0] if changed.iloc[0, 0] != changed.iloc[1, 0] else -1
    assert a == b
    assert ReleaseTarget(changed).info().fingerprint != a
    with pytest.raises(ConfigError, match="cannot be sampled again"):
        ReleaseTarget(small).release(10)


def test_split_units_slices_one_seeded_permutation_and_is_disjoint() -> None:
    sizes = {"train": 30, "control": 30, "reference": 20}
    parts = split_units(100, sizes, random_state=7)
    # The definition stored studies depend on (the golden split test checks it on real data).
    order = np.random.default_rng(7).permutation(100)
    assert [p.tolist() for p in parts.values()] == [
        order[:30].tolist(),
        order[30:60].tolist(),
        order[60:80].tolist(),
    ]
    frames = split_frame(pd.DataFrame({"x": np.arange(100)}), sizes, random_state=7)
    assert list(frames["control"]["x"]) == order[30:60].tolist()
    allidx = np.concatenate(list(parts.values()))
    assert len(set(allidx.tolist())) == len(allidx) == 80
    with pytest.raises(DataValidationError, match="asks for 120 units"):
        split_units(100, {"a": 60, "b": 60}, random_state=0)


def test_table_data_units(small: pd.DataFrame) -> None:
    data = TableData(small)
    assert len(data) == 300
    sub = data.take(np.array([5, 1]))
    assert sub.unit_ids() == [0, 1]
    assert sub.frame.iloc[0].equals(small.iloc[5])
    with_ids = TableData(small.assign(pid=np.arange(300) * 10), ids="pid")
    assert with_ids.take(np.array([3])).unit_ids() == [30]
    with pytest.raises(DataValidationError, match="repeats"):
        TableData(small.assign(pid=0), ids="pid")
