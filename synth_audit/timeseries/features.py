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


def _slopes(values: pd.Series, entity: pd.Series) -> pd.Series:
    """Least-squares slope per entity of ``values`` against the step position (vectorised)."""
    y = values.astype(float)
    x = entity.groupby(entity, sort=False).cumcount().astype(float)
    ok = y.notna()
    x, y = x.where(ok), y.where(ok)
    g = pd.DataFrame({"n": ok.astype(float), "x": x, "y": y, "xx": x * x, "xy": x * y})
    s = g.groupby(entity.to_numpy(), sort=False).sum(min_count=1)
    sxx = s["xx"] - s["x"] ** 2 / s["n"]
    sxy = s["xy"] - s["x"] * s["y"] / s["n"]
    out = (sxy / sxx).where((s["n"] >= 2) & (sxx > 0))
    return out


def entity_features(panel: PanelData) -> pd.DataFrame:
    """The entity feature table of ``panel`` (see the module docstring)."""
    f = panel.frame
    ent = f[panel.entity]
    groups = f.groupby(panel.entity, sort=False)
    cols: dict[str, pd.Series] = {}
    if panel.static:
        first = groups[panel.static].first()
        for c in panel.static:
            cols[c] = first[c]
    numeric = panel.numeric_varying()
    for c in panel.varying:
        if c in numeric:
            gv = f[c].astype(float).groupby(ent, sort=False)
            cols[f"{c}__mean"] = gv.mean()
            cols[f"{c}__std"] = gv.std(ddof=0)
            cols[f"{c}__min"] = gv.min()
            cols[f"{c}__max"] = gv.max()
            cols[f"{c}__last"] = gv.last()
            cols[f"{c}__slope"] = _slopes(f[c], ent)
        else:
            g = groups[c]
            cols[f"{c}__mode"] = g.agg(_mode)
            cols[f"{c}__last"] = g.agg(_last)
            v = f[c].astype(object)
            prev = v.groupby(ent, sort=False).shift()
            changed = (v != prev) & prev.notna() & v.notna()
            cols[f"{c}__changes"] = changed.groupby(ent, sort=False).sum().astype(int)
    cols["length"] = groups.size()
    out = pd.DataFrame(cols)
    out = out.reindex(pd.Index(panel.unit_ids(), name=panel.entity))
    return out
