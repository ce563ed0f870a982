"""Time-series (panel) releases: entity-level datasets, generators, attacks and utility.

The unit of membership is the entity (a person with a sequence of rows). :class:`PanelData`
validates a panel; :mod:`.generators` holds the panel generators (copy, leaky, independent
marginals, SDV PAR, synthcity TimeGAN/TimeVAE); :func:`evaluate_panel_release` audits a release on
entity features (:func:`entity_features`); :class:`TimeSeriesGeneratorTarget` runs them in studies.
Heavy libraries (torch, SDV, synthcity, matplotlib) are imported only when used.
"""

from __future__ import annotations

from synth_audit.timeseries.features import entity_features
from synth_audit.timeseries.panel import PanelData, check_disjoint, split_panel

__all__ = [
    "PanelData",
    "check_disjoint",
    "entity_features",
    "evaluate_panel_release",
    "split_panel",
]


def __getattr__(name: str) -> object:
    if name == "evaluate_panel_release":
        from synth_audit.timeseries.audit import evaluate_panel_release

        return evaluate_panel_release
    raise AttributeError(name)
