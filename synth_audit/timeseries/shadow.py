"""Shadow modelling of a panel generator: the table shadow attack with one row per *entity*.

:func:`synth_audit.membership.shadow.shadow_attack` re-fits a generator on training sets with and
without a challenge record and learns to tell the releases apart. Here a record is an entity: a
panel is laid out *wide* (one row per entity: static attributes, then ``<time>@k`` and ``<column>@k``
for every step ``k``; missing steps of shorter sequences are missing values), and
:class:`WidePanelGenerator` is a table generator that turns its wide training rows back into a
panel, fits the panel generator, and lays the release out wide again. So the shadow attack's
training sets, challenges and features (Gower distances between whole sequences, step by step)
are all about entities; the result's unit is ``entity``.

Fits are made inline (not through the study's fit cache, which plans fits over rows).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.membership.result import MembershipResult
from synth_audit.timeseries.generators import make_panel_generator
from synth_audit.timeseries.panel import PanelData

__all__ = ["WidePanelGenerator", "from_wide", "panel_shadow_attack", "to_wide"]


def to_wide(panel: PanelData, max_steps: int) -> pd.DataFrame:
    """One row per entity (index: entity id); see the module docstring."""
    f = panel.frame
    step = f.groupby(panel.entity, sort=False).cumcount()
    keep = f[step < max_steps].assign(_step=step[step < max_steps])
    wide = keep.pivot(index=panel.entity, columns="_step", values=[panel.time, *panel.varying])
    wide.columns = [f"{c}@{k}" for c, k in wide.columns]
    order = [f"{c}@{k}" for k in range(max_steps) for c in [panel.time, *panel.varying]]
    wide = wide.reindex(columns=order)
    out = panel.statics().join(wide) if panel.static else wide
    return out.reindex(pd.Index(panel.unit_ids(), name=panel.entity))


def from_wide(
    wide: pd.DataFrame,
    *,
    entity: str,
    time: str,
    static: list[str],
    varying: list[str],
    max_steps: int,
    dtypes: dict[str, str],
) -> PanelData:
    """The panel of wide rows (entity ids 0..n-1); missing steps are dropped."""
    parts = []
    for k in range(max_steps):
        cols = {time: wide[f"{time}@{k}"], **{c: wide[f"{c}@{k}"] for c in varying}}
        part = pd.DataFrame(cols).assign(**{entity: np.arange(len(wide)), "_k": k})
        for c in static:
            part[c] = wide[c].to_numpy()
        parts.append(part[part[time].notna()])
    long = pd.concat(parts, ignore_index=True).sort_values([entity, "_k"], kind="stable")
    long = long.drop(columns="_k")[[entity, time, *static, *varying]]
    for c, dt in dtypes.items():
        if c in long and long[c].notna().all():
            with contextlib.suppress(TypeError, ValueError):
                long[c] = long[c].astype(dt)
    return PanelData(
        long.reset_index(drop=True),
        entity=entity,
        time=time,
        static=static,
        varying=varying,
        source="a wide panel",
        sort=True,
    )


class WidePanelGenerator:
    """A table generator over wide entity rows that fits and samples a panel generator."""

    name = "wide_panel"

    def __init__(
        self,
        *,
        panel_generator: str,
        params: dict[str, Any],
        entity: str,
        time: str,
        static: list[str],
        varying: list[str],
        max_steps: int,
        dtypes: dict[str, str],
    ) -> None:
        self.panel_generator = panel_generator
        self.params = params
        self.entity = entity
        self.time = time
        self.static = static
        self.varying = varying
        self.max_steps = max_steps
        self.dtypes = dtypes

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {
            "panel_generator": self.panel_generator,
            "params": dict(self.params),
            "entity": self.entity,
            "time": self.time,
            "static": list(self.static),
            "varying": list(self.varying),
            "max_steps": self.max_steps,
            "dtypes": dict(self.dtypes),
        }

    def _panel(self, wide: pd.DataFrame) -> PanelData:
        return from_wide(
            wide.reset_index(drop=True),
            entity=self.entity,
            time=self.time,
            static=list(self.static),
            varying=list(self.varying),
            max_steps=self.max_steps,
            dtypes=self.dtypes,
        )

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Any = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> WidePanelGenerator:
        self.gen_ = make_panel_generator(self.panel_generator, **self.params)
        hold = None if holdout is None or not len(holdout) else self._panel(holdout)
        self.gen_.fit(self._panel(train), random_state=random_state, holdout=hold)
        return self

    @property
    def needs_holdout(self) -> bool:
        return make_panel_generator(self.panel_generator, **self.params).needs_holdout

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        panel = self.gen_.sample(n, random_state=random_state)
        return to_wide(panel, self.max_steps).reset_index(drop=True)


def panel_shadow_attack(
    *,
    generator: str,
    params: dict[str, Any],
    reference: PanelData,
    challenges: PanelData,
    n_shadow: int = 8,
    train_size: int = 50,
    n_eval: int = 4,
    random_state: int | None = None,
    confidence_level: float = 0.95,
) -> MembershipResult:
    """Shadow modelling against each challenge entity (see the module docstring).

    ``generator``/``params`` name the panel generator (as a study does); ``reference`` is the
    attacker's population sample of entities, ``challenges`` the entities attacked. Costs
    ``len(challenges) × (n_shadow + n_eval)`` fits.
    """
    from synth_audit.membership.shadow import shadow_attack

    max_steps = int(max(reference.lengths().max(), challenges.lengths().max()))
    dtypes = {c: str(reference.frame[c].dtype) for c in reference.frame.columns}
    wide_gen = WidePanelGenerator(
        panel_generator=generator,
        params=dict(params),
        entity=reference.entity,
        time=reference.time,
        static=list(reference.static),
        varying=list(reference.varying),
        max_steps=max_steps,
        dtypes=dtypes,
    )
    result = shadow_attack(
        generator=wide_gen,
        reference=to_wide(reference, max_steps).reset_index(drop=True),
        challenges=to_wide(challenges, max_steps),
        n_shadow=n_shadow,
        train_size=train_size,
        n_eval=n_eval,
        random_state=random_state,
        confidence_level=confidence_level,
    )
    return dataclasses.replace(result, unit="entity")
