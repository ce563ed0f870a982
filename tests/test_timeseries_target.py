"""TimeSeriesGeneratorTarget: the target contract, the registry, parameters, and the model-based
generators (SDV PAR, synthcity TimeGAN) with tiny training budgets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synth_audit.errors import ConfigError, NotFittedError
from synth_audit.targets import Capability
from synth_audit.targets.registry import make_target, target_class
from synth_audit.testing import check_target
from synth_audit.timeseries import PanelData
from synth_audit.timeseries.generators import make_panel_generator
from synth_audit.timeseries.target import TimeSeriesGeneratorTarget

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "samples" / "wage_panel" / "panel.csv"


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    df = pd.read_csv(PANEL).drop(columns="expersq")
    return df[df["nr"].isin(df["nr"].unique()[:24])].reset_index(drop=True)


@pytest.mark.parametrize("name", ["copy", "independent_marginals"])
def test_contract(name: str, small: pd.DataFrame) -> None:
    def make() -> TimeSeriesGeneratorTarget:
        return TimeSeriesGeneratorTarget(make_panel_generator(name), entity="nr", time="year")

    check_target(make, data=small, n=10)


def test_registry_builds_it_and_it_releases_a_valid_panel(small: pd.DataFrame) -> None:
    assert target_class("timeseries_generator") is TimeSeriesGeneratorTarget
    t = make_target("timeseries_generator", "leaky", {"fraction": 0.25})
    assert t.capabilities == frozenset({Capability.RELEASE, Capability.REFIT})
    assert t.get_params() == {"fraction": 0.25}
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call fit"):
        t.release(5)
    panel = PanelData(small, entity="nr", time="year")
    train, hold = panel.take(list(range(12))), panel.take(list(range(12, 24)))
    with pytest.raises(ConfigError, match=r"needs a holdout panel"):
        t.clone().fit(train, random_state=0)
    out = t.fit(train, random_state=0, holdout=hold).release(8, random_state=1)
    again = PanelData(out, entity="nr", time="year", static=train.static)
    assert len(again) == 8 and sorted(again.unit_ids()) == list(range(8))
    # 2 of 8 released persons are training persons: their sequences are in the release.
    train_wages = {tuple(g["lwage"]) for _, g in train.sequences()}
    assert sum(tuple(g["lwage"]) in train_wages for _, g in again.sequences()) == 2
    info = t.info()
    assert info.kind == "timeseries_generator" and info.fingerprint is not None


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"Unknown panel generator 'parr'.*'par'"):
        make_target("timeseries_generator", "parr", {})
    with pytest.raises(ConfigError, match=r"'fraction' parameter .* \[0, 1\]\. Got 1\.5"):
        make_target("timeseries_generator", "leaky", {"fraction": 1.5})
    with pytest.raises(ConfigError, match=r"'epochs' parameter of the panel generator 'par'"):
        make_target("timeseries_generator", "par", {"epochs": 0})
    with pytest.raises(ConfigError, match=r"has no parameter\(s\) 'epoch'"):
        make_target("timeseries_generator", "par", {}).set_params(epoch=3)


@pytest.mark.slow
def test_par_fits_and_releases_a_valid_panel(small: pd.DataFrame) -> None:
    import torch

    torch.set_num_threads(1)
    t = make_target("timeseries_generator", "par", {"epochs": 2})
    panel = PanelData(small, entity="nr", time="year")
    a = t.fit(panel, random_state=0).release(6, random_state=1)
    b = t.release(6, random_state=1)
    pd.testing.assert_frame_equal(a, b)  # the same sample seed gives the same release
    out = PanelData(a, entity="nr", time="year", static=panel.static)
    assert len(out) == 6 and list(out.frame.columns) == list(panel.frame.columns)


@pytest.mark.slow
def test_synthcity_timegan_and_timevae_release_valid_panels(small: pd.DataFrame) -> None:
    import torch

    torch.set_num_threads(1)
    panel = PanelData(small, entity="nr", time="year")
    for name in ("timegan", "timevae"):
        t = make_target("timeseries_generator", name, {"n_iter": 2, "batch_size": 16})
        out = t.fit(panel, random_state=0).release_panel(5, random_state=1)
        assert len(out) == 5 and list(out.frame.columns) == list(panel.frame.columns), name
        # Times come from the training time grid; integer columns stay integers within range.
        assert set(out.frame["year"]) <= set(panel.frame["year"]), name
        assert out.frame["union"].isin([0, 1]).all(), name
        assert out.static == panel.static and (out.lengths() >= 2).all(), name
