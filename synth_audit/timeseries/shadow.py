"""Shadow modelling of a panel generator: the table shadow attack with one row per *entity*.

:func:`synth_audit.membership.shadow.shadow_attack` re-fits a generator on training sets with and
without a challenge record and learns to tell the releases apart. Here a record is an entity: a
panel is laid out *wide* (one row per entity: static attributes, then ``<time>@k`` and ``<column>@k``
for every step ``k``; missing steps of shorter sequences are missing values), and
:class:`WidePanelGenerator` is a table generator that turns its wide training rows back into a
panel, fits the panel generator, and lays the release out wide again. So the shadow attack's
training sets, challenges and features (Gower distances between whole sequences, step by step)
are all about entities; the result's unit is ``entity``.

Fits and the fit cache. The attack is planned, fitted and attacked in three steps so that a study
can make its fits as cached tasks on its executor (:mod:`synth_audit.study.fits`):

* :func:`plan_panel_shadow_fits` lists the attack's fits, deterministically from its arguments
  (the same entities, training sets and seeds :func:`panel_shadow_attack` uses), as
  :class:`PanelFitTask` objects: picklable, with ``key()`` and ``run(store)``;
* a task's fit is the panel generator fitted on the training entities' rows (the long table of the
  training set, entity ids 0..n-1 in fit order), and its output is the sampled panel's *long*
  table, cached under the key of its recipe (panel generator, its parameters, the column roles,
  the number of entities sampled and the installed modelling libraries:
  :class:`~synth_audit.study.fits.FitRecipe`), the training subset's content hash (and the
  holdout's, for a generator that takes one) and the fit and sample seeds;
* :func:`panel_shadow_attack` with ``samples=PanelCachedSamples(store)`` reads each fit's sample
  from the cache (fitting and caching a missing one) and only featurises and classifies. The same
  samples give the same result as fitting inline (``samples=None``, no store).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.membership.result import MembershipResult
from synth_audit.timeseries.generators import make_panel_generator
from synth_audit.timeseries.panel import PanelData

if TYPE_CHECKING:
    from synth_audit.membership.shadow import FitOutput, ShadowFit
    from synth_audit.store import Store
    from synth_audit.study.fits import FitRecipe

__all__ = [
    "PanelCachedSamples",
    "PanelFitTask",
    "WidePanelGenerator",
    "from_wide",
    "panel_shadow_attack",
    "plan_panel_shadow_fits",
    "to_wide",
]

_log = get_logger("timeseries.shadow")

#: The kind recorded in the recipe of a panel generator's shadow fit.
KIND = "timeseries_generator"


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


def _layout(wide_gen: WidePanelGenerator) -> dict[str, Any]:
    """The panel's column roles, part of a fit's recipe (what the generator is told of its data)."""
    return {
        "entity": wide_gen.entity,
        "time": wide_gen.time,
        "static": list(wide_gen.static),
        "varying": list(wide_gen.varying),
    }


@dataclass(frozen=True)
class PanelFitTask:
    """One shadow fit of a panel generator, as a study's fit cache stores it.

    ``generator``/``params`` (the panel generator) fitted on the ``train`` panel (and ``holdout``)
    with ``seed``, then ``n_samples`` entities sampled with ``sample_seed``; the output is the
    sample's long table. Identity (:meth:`key`, as :class:`~synth_audit.study.fits.FitTask`'s):
    the recipe, the subset hash (the training and holdout long tables, content and order) and
    the two seeds. Picklable; :func:`synth_audit.study.fits.run_fit_task` runs it on any executor.
    """

    recipe: FitRecipe
    subset: str
    seed: int
    sample_seed: int
    generator: str = field(compare=False)
    params: Mapping[str, Any] = field(compare=False, repr=False)
    train: PanelData = field(compare=False, repr=False)
    holdout: PanelData | None = field(compare=False, repr=False)
    n_samples: int = field(compare=False)

    #: What one fit occupies: one thread, no GPU (passed to Dask as ``resources=``).
    resources: ClassVar[Mapping[str, int]] = {"threads": 1, "gpus": 0}

    @classmethod
    def of(cls, fit: ShadowFit) -> PanelFitTask:
        """The task of one fit of :func:`~synth_audit.membership.shadow.plan_shadow_fits` on a
        :class:`WidePanelGenerator` (its wide training rows become the training panel)."""
        from synth_audit.study.fits import FitRecipe, subset_hash

        wide_gen = fit.generator
        if not isinstance(wide_gen, WidePanelGenerator):
            raise TypeError(f"PanelFitTask.of needs a wide panel fit; got {type(wide_gen)!r}.")
        train = wide_gen._panel(fit.train)
        holdout = None
        if fit.holdout is not None and len(fit.holdout):
            holdout = wide_gen._panel(fit.holdout)
        panel_gen = make_panel_generator(wide_gen.panel_generator, **wide_gen.params)
        return cls(
            recipe=FitRecipe.of(panel_gen, _layout(wide_gen), fit.n_samples, kind=KIND),
            subset=subset_hash(train.frame, None if holdout is None else holdout.frame),
            seed=int(fit.fit_seed),
            sample_seed=int(fit.sample_seed),
            generator=wide_gen.panel_generator,
            params=dict(wide_gen.params),
            train=train,
            holdout=holdout,
            n_samples=int(fit.n_samples),
        )

    def key(self) -> str:
        """SHA-256 of the recipe's hash, the subset hash and the two seeds (64 hex digits)."""
        from synth_audit.store import canonical_json

        payload = canonical_json(
            {
                "recipe": self.recipe.sha256(),
                "subset": self.subset,
                "seed": self.seed,
                "sample_seed": self.sample_seed,
            }
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def fit_sample(self) -> FitOutput:
        """Fit the panel generator and sample; the output's ``sample`` is the long table."""
        from synth_audit.membership.shadow import FitOutput, _one_thread

        with _one_thread():
            gen = make_panel_generator(self.generator, **dict(self.params))
            t0 = time.perf_counter()
            gen.fit(self.train, random_state=self.seed, holdout=self.holdout)
            t1 = time.perf_counter()
            panel = gen.sample(self.n_samples, random_state=self.sample_seed)
        return FitOutput(panel.frame, t1 - t0, time.perf_counter() - t1)

    def put(self, store: Store, out: FitOutput) -> None:
        """Cache ``out`` (of :meth:`fit_sample`) under :meth:`key`."""
        from synth_audit.study.fits import cache_fit_output

        cache_fit_output(store, self, out)

    def run(self, store: Store) -> None:
        """Fit, sample and cache (what a study's executor runs)."""
        self.put(store, self.fit_sample())


class PanelCachedSamples:
    """A ``samples`` function for :func:`panel_shadow_attack` that reads each fit's long table
    from the store's fit cache (fitting and caching a missing one here) and lays it out wide.

    Every sample is read back from the cache, so the attack gets the same data whether a fit was
    made now or by a fit task earlier. ``hits`` and ``fitted`` count what the calls did.
    """

    def __init__(self, store: Store | str) -> None:
        from synth_audit.store import shared_store

        self.store = shared_store(store)
        self.hits = 0
        self.fitted = 0

    def __call__(self, fits: Sequence[ShadowFit]) -> list[FitOutput]:
        from synth_audit.membership.shadow import FitOutput
        from synth_audit.study.fits import cached

        out: list[FitOutput] = []
        for fit in fits:
            task = PanelFitTask.of(fit)
            key = task.key()
            long = cached(self.store, key)
            made: FitOutput | None = None
            if long is not None:
                self.hits += 1
            else:
                made = task.fit_sample()
                self.fitted += 1
                try:
                    task.put(self.store, made)
                    long = self.store.read_fit(key)
                except Exception as exc:  # a sample Parquet cannot hold: use it uncached
                    _log.warning("fit %s could not be cached (%s); using it uncached", key, exc)
                    long = made.sample
            wide = _long_to_wide(long, fit.generator)
            if made is None:
                out.append(FitOutput(wide))
            else:
                out.append(FitOutput(wide, made.fit_seconds, made.sample_seconds))
        return out


def _long_to_wide(long: pd.DataFrame, wide_gen: WidePanelGenerator) -> pd.DataFrame:
    """A cached sample (long table) laid out as :meth:`WidePanelGenerator.sample` lays it out."""
    panel = PanelData(
        long,
        entity=wide_gen.entity,
        time=wide_gen.time,
        static=list(wide_gen.static),
        varying=list(wide_gen.varying),
        source="a cached shadow fit",
        min_length=1,
    )
    return to_wide(panel, wide_gen.max_steps).reset_index(drop=True)


def _wide_setup(
    generator: str, params: Mapping[str, Any], reference: PanelData, challenges: PanelData
) -> tuple[WidePanelGenerator, pd.DataFrame, pd.DataFrame]:
    """The wide generator and the wide reference and challenge rows: one place for the plan and
    the attack, so they cannot drift."""
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
    return (
        wide_gen,
        to_wide(reference, max_steps).reset_index(drop=True),
        to_wide(challenges, max_steps),
    )


def plan_panel_shadow_fits(
    *,
    generator: str,
    params: dict[str, Any],
    reference: PanelData,
    challenges: PanelData,
    n_shadow: int = 8,
    train_size: int = 50,
    n_eval: int = 4,
    random_state: int | None = None,
) -> list[PanelFitTask]:
    """The fits :func:`panel_shadow_attack` with these arguments makes, in its order, as fit tasks
    (``len(challenges) × (n_shadow + n_eval)``; none is made here)."""
    from synth_audit.membership.shadow import plan_shadow_fits

    wide_gen, ref, ch = _wide_setup(generator, params, reference, challenges)
    fits = plan_shadow_fits(
        generator=wide_gen,
        reference=ref,
        challenges=ch,
        n_shadow=n_shadow,
        train_size=train_size,
        n_eval=n_eval,
        random_state=random_state,
    )
    return [PanelFitTask.of(f) for f in fits]


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
    samples: PanelCachedSamples | None = None,
) -> MembershipResult:
    """Shadow modelling against each challenge entity (see the module docstring).

    ``generator``/``params`` name the panel generator (as a study does); ``reference`` is the
    attacker's population sample of entities, ``challenges`` the entities attacked. Costs
    ``len(challenges) × (n_shadow + n_eval)`` fits: made here (``samples=None``), or read from a
    fit cache by ``samples=PanelCachedSamples(store)`` (which makes and caches missing ones).
    """
    from synth_audit.membership.shadow import shadow_attack

    wide_gen, ref, ch = _wide_setup(generator, params, reference, challenges)
    result = shadow_attack(
        generator=wide_gen,
        reference=ref,
        challenges=ch,
        n_shadow=n_shadow,
        train_size=train_size,
        n_eval=n_eval,
        random_state=random_state,
        confidence_level=confidence_level,
        samples=samples,
    )
    return dataclasses.replace(result, unit="entity")
