"""Entity features: one row per entity, the table the entity-level attacks run on.

An entity's row holds its static attributes (under their own names) and, for every time-varying
column ``c``, a summary of its sequence:

numeric ``c``      ``c__mean``, ``c__std`` (population, ddof 0), ``c__min``, ``c__max``,
                   ``c__last`` (the last observed value) and ``c__slope`` (least-squares slope of
                   ``c`` against the step position 0, 1, 2, ...);
categorical ``c``  ``c__mode`` (most frequent; ties: the first seen), ``c__last`` and
                   ``c__changes`` (how often the value changes between consecutive steps);

plus ``length`` (steps). Missing values are skipped by each summary (a summary of an all-missing
sequence is missing). The slope is per step, not per unit of time, so it does not depend on
how times are spelled; ragged lengths are allowed. The frame's index is the entity id, which
becomes the record id of per-entity outcomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synth_audit.timeseries.panel import PanelData

__all__ = ["NUMERIC_SUMMARIES", "entity_features"]

NUMERIC_SUMMARIES = ("mean", "std", "min", "max", "last", "slope")


def _slope(y: np.ndarray) -> float:
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return float("nan")
    x = np.arange(len(y), dtype=float)[ok]
    v = y[ok]
    xc = x - x.mean()
    return float((xc * (v - v.mean())).sum() / (xc * xc).sum())


def _last(s: pd.Series) -> object:
    s = s.dropna()
    return s.iloc[-1] if len(s) else np.nan


def _mode(s: pd.Series) -> object:
    s = s.dropna()
    if not len(s):
        return np.nan
    counts = s.value_counts(sort=False)
    return counts.index[int(np.argmax(counts.to_numpy()))]


def entity_features(panel: PanelData) -> pd.DataFrame:
    """The entity feature table of ``panel`` (see the module docstring)."""
    f = panel.frame
    groups = f.groupby(panel.entity, sort=False)
    out = pd.DataFrame(index=pd.Index(panel.unit_ids(), name=panel.entity))
    if panel.static:
        out = out.join(groups[panel.static].first())
    numeric = panel.numeric_varying()
    for c in panel.varying:
        g = groups[c]
        if c in numeric:
            vals = f[c].astype(float)
            gv = vals.groupby(f[panel.entity], sort=False)
            out[f"{c}__mean"] = gv.mean()
            out[f"{c}__std"] = gv.std(ddof=0)
            out[f"{c}__min"] = gv.min()
            out[f"{c}__max"] = gv.max()
            out[f"{c}__last"] = gv.agg(_last).astype(float)
            out[f"{c}__slope"] = gv.agg(lambda s: _slope(s.to_numpy(dtype=float)))
        else:
            out[f"{c}__mode"] = g.agg(_mode)
            out[f"{c}__last"] = g.agg(_last)
            out[f"{c}__changes"] = g.agg(
                lambda s: int(
                    (s.astype(object).to_numpy()[1:] != s.astype(object).to_numpy()[:-1]).sum()
                )
            )
    out["length"] = groups.size()
    return out
