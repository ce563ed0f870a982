"""Calibration baselines: releases whose risk is known before any attack runs.

Every attack is checked against them. ``copy`` releases the training records themselves (the worst
case: every attack must find high risk). ``leaky`` releases real records that were never used for
training, with a chosen share of training records mixed in (risk must grow with ``fraction``; at 0 it
is a release drawn from the control population, whose risk CI must contain 0). ``independent_marginals``
keeps every column's distribution and breaks every relation between columns (the floor of what a
generator that learns anything about the joint distribution should beat on utility).

None of them learns anything, and all draw their randomness from ``numpy.random.default_rng(seed)``;
they do not touch global random state.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from generators._runtime import resolve_seed, spawn_seeds
from generators.base import BaseGenerator
from synth_audit.errors import ConfigError
from synth_audit.schema import Schema
from synth_audit.validation import Constraint, Interval

__all__ = ["CopyGenerator", "IndependentMarginalsGenerator", "LeakyGenerator"]


def _draw_rows(rng: np.random.Generator, n_rows: int, n: int) -> np.ndarray:
    """``n`` row positions out of ``n_rows``: without replacement while possible, then with it.

    The first ``min(n, n_rows)`` positions are distinct; beyond ``n_rows`` the extra positions are drawn
    with replacement. The result is shuffled.
    """
    if n <= n_rows:
        return rng.permutation(n_rows)[:n]
    extra = rng.integers(0, n_rows, size=n - n_rows)
    return rng.permutation(np.concatenate([np.arange(n_rows), extra]))


class CopyGenerator(BaseGenerator):
    """Releases the training records (worst case).

    ``sample(n)`` returns training rows unchanged: all of them, shuffled, when ``n == len(train)``;
    ``n`` distinct rows when ``n`` is smaller; every row once plus rows drawn with replacement when
    ``n`` is larger. Identifier columns are copied too. Unlike every other generator, the values keep
    the training table's own dtypes (integers stay integers, strings stay strings): a copy is the
    training data, not a model of it.
    """

    name = "copy"
    description = "Releases the training records themselves (worst-case calibration baseline)."

    def __init__(self) -> None:
        pass

    def fit(
        self,
        train: pd.DataFrame,
        *,
        schema: Schema | None = None,
        random_state: int | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> Self:
        super().fit(train, schema=schema, random_state=random_state, holdout=holdout)
        self.original_ = train.rename(columns=str).reset_index(drop=True).copy()
        return self

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        self.train_ = train

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        rows = _draw_rows(np.random.default_rng(seed), len(self.train_), n)
        return self.train_.iloc[rows].reset_index(drop=True)

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        # The base class validates and draws the rows; the same seed picks the same rows here.
        seed = resolve_seed(random_state) if random_state is None else random_state
        canonical_rows = super().sample(n, random_state=seed)
        if len(canonical_rows) == 0:
            return self.original_.iloc[:0].copy()
        rows = _draw_rows(np.random.default_rng(seed), len(self.original_), n)
        return self.original_.iloc[rows].reset_index(drop=True)


class LeakyGenerator(BaseGenerator):
    """Releases real records that were *not* used for training, a share of them replaced by training records.

    ``sample(n)`` draws ``k = floor(fraction * n + 0.5)`` rows from the training data and ``n - k`` rows
    from ``holdout`` (both without replacement while there are enough rows, then with replacement),
    and shuffles them. ``fraction=0`` is a release from the control population (no membership
    signal), ``fraction=1`` is :class:`CopyGenerator`. Needs ``fit(train, holdout=...)``.
    """

    name = "leaky"
    description = (
        "Releases holdout records with a given fraction replaced by training records "
        "(calibration baseline; needs holdout)."
    )
    needs_holdout = True
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "fraction": [Interval(float, 0, 1)]
    }

    def __init__(self, *, fraction: float = 0.5) -> None:
        self.fraction = fraction

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        assert holdout is not None  # BaseGenerator.fit refuses a missing holdout (needs_holdout)
        if len(holdout) == 0:
            raise ConfigError(
                "LeakyGenerator ('leaky') got an empty holdout; it releases holdout records, so it "
                "needs some."
            )
        self.train_ = train
        self.holdout_ = holdout

    def n_leaked(self, n: int) -> int:
        """How many of ``n`` released rows are training rows."""
        return int(np.floor(float(self.fraction) * n + 0.5))

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        k = self.n_leaked(n)
        rng_train, rng_hold, rng_mix = (np.random.default_rng(s) for s in spawn_seeds(seed, 3))
        parts = []
        if k:
            parts.append(self.train_.iloc[_draw_rows(rng_train, len(self.train_), k)])
        if n - k:
            parts.append(self.holdout_.iloc[_draw_rows(rng_hold, len(self.holdout_), n - k)])
        mixed = pd.concat(parts, ignore_index=True)
        return mixed.iloc[rng_mix.permutation(n)].reset_index(drop=True)


class IndependentMarginalsGenerator(BaseGenerator):
    """Samples each column independently from its empirical distribution in the training data.

    Every value released is a training value (missing values included, so each column keeps its
    share of missing values), but the rows are new combinations: the marginals are kept and every
    dependence between columns is broken. Identifier columns get surrogate keys.
    """

    name = "independent_marginals"
    description = (
        "Resamples every column independently from its training marginal "
        "(keeps marginals, breaks correlations; baseline)."
    )

    def __init__(self) -> None:
        pass

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        self.values_: dict[str, Any] = {c: train[c] for c in self.layout_.modelled}

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        cols = list(self.values_)
        out = {}
        for c, s in zip(cols, spawn_seeds(seed, len(cols))):
            values = self.values_[c]
            idx = np.random.default_rng(s).integers(0, len(values), size=n)
            out[c] = values.iloc[idx].reset_index(drop=True)
        return pd.DataFrame(out)
