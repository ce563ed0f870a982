"""Panel generators: fit on a :class:`PanelData`, sample whole entities (sequences).

Calibration baselines (entity level):

``copy``                   releases the training entities themselves (the worst case);
``leaky(fraction)``        releases real entities that were *not* trained on (``holdout``), a share
                           ``fraction`` of them replaced by training entities (``fraction=0``: a
                           release of unseen real people, no membership signal; 1: ``copy``);
``independent_marginals``  keeps each column's distribution and breaks all dependence: lengths from
                           the training lengths, each static attribute from its marginal over
                           entities, each time-varying value from that column's values at the same
                           step position, all drawn independently (no temporal or cross-column
                           structure).

Model-based: ``par`` (SDV's ``PARSynthesizer``, static attributes as context columns), ``timegan``
and ``timevae`` (synthcity's time-series plugins through its plugin API). Released entities get new
ids ``0..n-1``. Every generator takes ``random_state`` in ``fit`` and ``sample`` (child seeds from
``numpy.random.SeedSequence``); torch's global generator is forked, not disturbed.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
from collections.abc import Iterator
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError, NotFittedError
from synth_audit.timeseries.panel import PanelData

__all__ = [
    "PANEL_GENERATORS",
    "CopyPanel",
    "IndependentMarginalsPanel",
    "LeakyPanel",
    "PanelGenerator",
    "ParPanel",
    "SynthcityPanel",
    "make_panel_generator",
]


def _seed(random_state: int | None, n: int) -> list[int]:
    ss = np.random.SeedSequence(random_state)
    return [int(c.generate_state(1)[0]) for c in ss.spawn(n)]


def _draw(rng: np.random.Generator, n_have: int, n: int) -> np.ndarray:
    """``n`` positions of ``n_have``: without replacement while there are enough, then with."""
    if n <= n_have:
        return rng.permutation(n_have)[:n]
    return np.concatenate([rng.permutation(n_have), rng.integers(0, n_have, n - n_have)])


@contextlib.contextmanager
def _seeded_torch(seed: int) -> Iterator[None]:
    """Seed torch and numpy's legacy global state inside, restore both after."""
    import torch

    state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            np.random.set_state(state)


class PanelGenerator:
    """Base: parameters are the constructor's keyword arguments (get/set_params, clone)."""

    name: ClassVar[str] = ""
    needs_holdout: ClassVar[bool] = False

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def set_params(self, **params: Any) -> Self:
        known = self.get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ConfigError(
                f"The panel generator {self.name!r} has no parameter(s) "
                f"{', '.join(map(repr, unknown))}. Its parameters: "
                f"{', '.join(map(repr, sorted(known))) or '(none)'}."
            )
        for k, v in params.items():
            setattr(self, k, v)
        self._check_params()
        self.train_: PanelData | None = None
        return self

    def clone(self) -> Self:
        return type(self)(**self.get_params())

    def _check_params(self) -> None:
        pass

    def _need_fit(self) -> PanelData:
        train = getattr(self, "train_", None)
        if train is None:
            raise NotFittedError(
                f"The panel generator {self.name!r} is not fitted yet. Call fit(panel) before "
                "sample(n)."
            )
        return train  # type: ignore[no-any-return]

    def fit(
        self, train: PanelData, *, random_state: int | None = None, holdout: PanelData | None = None
    ) -> Self:
        if not isinstance(train, PanelData):
            raise ConfigError(
                f"{type(self).__name__}.fit expects a PanelData. Got {type(train).__name__}."
            )
        if self.needs_holdout and (holdout is None or len(holdout) == 0):
            raise ConfigError(
                f"The panel generator {self.name!r} releases unseen real entities and needs a "
                "holdout panel: fit(train, holdout=...). In a study, leave entities outside "
                "[split] for the holdout."
            )
        self._fit(train, random_state, holdout)
        self.train_ = train
        return self

    def _fit(self, train: PanelData, random_state: int | None, holdout: PanelData | None) -> None:
        pass

    def sample(self, n: int, *, random_state: int | None = None) -> PanelData:
        """``n`` synthetic entities (ids 0..n-1) as a panel with the training panel's columns."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ConfigError(f"The 'n' parameter of sample must be an int >= 1. Got {n!r}.")
        self._need_fit()
        out = self._sample(int(n), random_state)
        if len(out) != n:
            raise ConfigError(
                f"The panel generator {self.name!r} released {len(out)} entities, not {n}."
            )
        return out.with_ids(list(range(n)))

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        raise NotImplementedError


class CopyPanel(PanelGenerator):
    """Releases the training entities (all their rows): the worst case, membership is certain."""

    name = "copy"

    def __init__(self) -> None:
        pass

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        train = self._need_fit()
        rng = np.random.default_rng(random_state)
        return train.take(_draw(rng, len(train), n))


class LeakyPanel(PanelGenerator):
    """Unseen real entities (holdout), ``fraction`` of them replaced by training entities."""

    name = "leaky"
    needs_holdout = True

    def __init__(self, *, fraction: float = 0.5) -> None:
        self.fraction = fraction
        self._check_params()

    def _check_params(self) -> None:
        f = self.fraction
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 <= f <= 1:
            raise ConfigError(
                f"The 'fraction' parameter of the panel generator 'leaky' must be a float in "
                f"[0, 1]. Got {f!r}."
            )

    def _fit(self, train: PanelData, random_state: int | None, holdout: PanelData | None) -> None:
        self.holdout_ = holdout

    def n_leaked(self, n: int) -> int:
        return int(np.floor(float(self.fraction) * n + 0.5))

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        train = self._need_fit()
        hold = self.holdout_
        assert hold is not None
        k = self.n_leaked(n)
        r_train, r_hold, r_mix = (np.random.default_rng(s) for s in _seed(random_state, 3))
        drawn = [(train, int(i)) for i in _draw(r_train, len(train), k)] if k else []
        drawn += [(hold, int(i)) for i in _draw(r_hold, len(hold), n - k)] if n - k else []
        order = r_mix.permutation(len(drawn))
        # One part per drawn entity, numbered in release order (an entity drawn twice stays two
        # distinct sequences).
        parts = [
            drawn[j][0].take(np.array([drawn[j][1]])).frame.assign(**{train.entity: pos})
            for pos, j in enumerate(order)
        ]
        return train._same(pd.concat(parts, ignore_index=True))


class IndependentMarginalsPanel(PanelGenerator):
    """Each static attribute, each step's value and each length drawn independently."""

    name = "independent_marginals"

    def __init__(self) -> None:
        pass

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        train = self._need_fit()
        r_len, r_time, r_static, r_vals = (np.random.default_rng(s) for s in _seed(random_state, 4))
        lengths = train.lengths().to_numpy()
        lens = lengths[r_len.integers(0, len(lengths), n)]
        f = train.frame
        step = f.groupby(train.entity, sort=False).cumcount().to_numpy()
        # Times: the time grid of a training entity at least as long (its first L times).
        seqs = [g[train.time].to_numpy() for _, g in train.sequences()]
        statics = train.statics()
        rows: dict[str, list[Any]] = {c: [] for c in f.columns}
        for i, length in enumerate(lens):
            donors = np.flatnonzero(lengths >= length)
            times = seqs[int(donors[r_time.integers(0, len(donors))])][:length]
            rows[train.entity].extend([i] * int(length))
            rows[train.time].extend(times.tolist())
            for c in train.static:
                v = statics[c].iloc[int(r_static.integers(0, len(statics)))]
                rows[c].extend([v] * int(length))
        # Row positions of every step k, and the step of each released row.
        pools = [np.flatnonzero(step == k) for k in range(int(lens.max()))]
        out_step = np.concatenate([np.arange(int(length)) for length in lens])
        for c in train.varying:
            vals = f[c].to_numpy()
            picks = np.empty(len(out_step), dtype=np.int64)
            for k, pool in enumerate(pools):
                at = np.flatnonzero(out_step == k)
                picks[at] = pool[r_vals.integers(0, len(pool), len(at))]
            rows[c] = list(vals[picks])
        out = pd.DataFrame(rows)
        for c in f.columns:
            with contextlib.suppress(TypeError, ValueError):
                out[c] = out[c].astype(f[c].dtype)
        return train._same(out)


def _quiet_synthcity() -> None:
    """synthcity logs plugin load failures at CRITICAL to stderr; the library stays silent."""
    with contextlib.suppress(Exception):
        import synthcity.logger as slog

        slog.remove()
    for name in ("synthcity", "sdv", "rdt", "copulas"):
        logging.getLogger(name).setLevel(logging.ERROR)


class ParPanel(PanelGenerator):
    """SDV's ``PARSynthesizer`` (probabilistic autoregressive); static attributes are context."""

    name = "par"

    def __init__(self, *, epochs: int = 128, sample_size: int = 1) -> None:
        self.epochs = epochs
        self.sample_size = sample_size
        self._check_params()

    def _check_params(self) -> None:
        for p in ("epochs", "sample_size"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ConfigError(
                    f"The {p!r} parameter of the panel generator 'par' must be an int >= 1. "
                    f"Got {v!r}."
                )

    def _fit(self, train: PanelData, random_state: int | None, holdout: PanelData | None) -> None:
        import warnings

        try:
            from sdv.metadata import Metadata
            from sdv.sequential import PARSynthesizer
        except ImportError as exc:  # pragma: no cover - sdv is a dependency here
            raise ConfigError(
                f"The panel generator 'par' needs SDV ({exc}). Install it: pip install sdv."
            ) from None
        _quiet_synthcity()
        f = train.frame
        cols: dict[str, dict[str, str]] = {train.entity: {"sdtype": "id"}}
        for c in f.columns:
            if c == train.entity:
                continue
            numeric = pd.api.types.is_numeric_dtype(f[c]) and not pd.api.types.is_bool_dtype(f[c])
            cols[c] = {"sdtype": "numerical" if numeric else "categorical"}
        meta = Metadata.load_from_dict(
            {
                "tables": {
                    "panel": {
                        "columns": cols,
                        "sequence_key": train.entity,
                        "sequence_index": train.time,
                    }
                }
            }
        )
        self.model_ = PARSynthesizer(
            meta,
            context_columns=list(train.static),
            epochs=int(self.epochs),
            sample_size=int(self.sample_size),
            verbose=False,
        )
        with warnings.catch_warnings(), _seeded_torch(_seed(random_state, 1)[0]):
            warnings.simplefilter("ignore")
            self.model_.fit({"panel": f.copy()})

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        import warnings

        train = self._need_fit()
        seed = _seed(random_state, 1)[0]
        # SDV keeps random states in its transformers and the context model: reset them to the
        # state after fitting and seed the context model, so a seed gives one release.
        context = getattr(self.model_, "_context_synthesizer", None)
        for part in (self.model_, context):
            with contextlib.suppress(Exception):
                part.reset_sampling()  # type: ignore[union-attr]
        with contextlib.suppress(Exception):
            context._set_random_state(seed % 2**32)  # type: ignore[union-attr]
        with warnings.catch_warnings(), _seeded_torch(seed):
            warnings.simplefilter("ignore")
            out = self.model_.sample_sequences(n)
        frame = out["panel"] if isinstance(out, dict) else out
        frame = frame.sort_values([train.entity, train.time], kind="stable")
        frame = frame.drop_duplicates([train.entity, train.time])
        return train.like(frame, source="the 'par' release", sort=True)


class SynthcityPanel(PanelGenerator):
    """synthcity's ``timegan`` / ``timevae`` through ``synthcity.plugins.Plugins().get(name)``.

    synthcity draws observation times freely (repeated and unsorted on small data); a released
    sequence keeps the generated rows in order and takes the time grid of a random training entity
    at least as long (its first L times), so that the release is a valid panel.
    """

    name = "timegan"
    _plugins: ClassVar[tuple[str, ...]] = ("timegan", "timevae")

    def __init__(
        self, *, plugin: str = "timegan", n_iter: int = 1000, batch_size: int = 64
    ) -> None:
        self.plugin = plugin
        self.n_iter = n_iter
        self.batch_size = batch_size
        self._check_params()

    def _check_params(self) -> None:
        if self.plugin not in self._plugins:
            raise ConfigError(
                f"The 'plugin' parameter of the synthcity panel generator must be one of "
                f"{', '.join(map(repr, self._plugins))}. Got {self.plugin!r}."
            )
        for p in ("n_iter", "batch_size"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ConfigError(
                    f"The {p!r} parameter of the panel generator {self.plugin!r} must be an int "
                    f">= 1. Got {v!r}."
                )

    def _fit(self, train: PanelData, random_state: int | None, holdout: PanelData | None) -> None:
        import warnings

        _quiet_synthcity()
        try:
            from synthcity.plugins import Plugins
            from synthcity.plugins.core.dataloader import TimeSeriesDataLoader
        except ImportError as exc:  # pragma: no cover - synthcity is a dependency here
            raise ConfigError(
                f"The panel generator {self.plugin!r} needs synthcity ({exc}). Install it: "
                "pip install synthcity."
            ) from None
        _quiet_synthcity()
        bad = [
            c
            for c in [*train.static, *train.varying]
            if not pd.api.types.is_numeric_dtype(train.frame[c])
        ]
        if bad:
            raise ConfigError(
                f"The panel generator {self.plugin!r} needs numeric columns; "
                f"{', '.join(map(repr, bad))} are not. Encode them as numbers first."
            )
        temporal, times = [], []
        for _, g in train.sequences():
            temporal.append(g[train.varying].reset_index(drop=True).astype(float))
            times.append(list(range(len(g))))
        static = train.statics().reset_index(drop=True).astype(float)
        loader = TimeSeriesDataLoader(
            temporal_data=temporal,
            observation_times=times,
            static_data=static if train.static else None,
            outcome=pd.DataFrame({"y": np.zeros(len(temporal), dtype=int)}),
        )
        seed = _seed(random_state, 1)[0]
        self.model_ = Plugins().get(
            self.plugin,
            n_iter=int(self.n_iter),
            batch_size=int(self.batch_size),
            random_state=seed % 2**32,
        )
        # synthcity's TimeGAN draws a tqdm progress bar on stderr; the library stays silent.
        with (
            warnings.catch_warnings(),
            _seeded_torch(seed),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            self.model_.fit(loader)

    def _sample(self, n: int, random_state: int | None) -> PanelData:
        import warnings

        train = self._need_fit()
        seed, pick = _seed(random_state, 2)
        with warnings.catch_warnings(), _seeded_torch(seed):
            warnings.simplefilter("ignore")
            gen = self.model_.generate(count=n)
        static, temporal, _times, _out = gen.unpack(pad=False)
        seqs = [g[train.time].to_numpy() for _, g in train.sequences()]
        lengths = np.array([len(s) for s in seqs])
        rng = np.random.default_rng(pick)
        parts = []
        for i, t in enumerate(temporal[:n]):
            t = t.reset_index(drop=True).iloc[: int(lengths.max())]
            if len(t) < 2:
                t = pd.concat([t, t], ignore_index=True)
            donors = np.flatnonzero(lengths >= len(t))
            grid = seqs[int(donors[rng.integers(0, len(donors))])][: len(t)]
            part = t[train.varying].copy()
            part.insert(0, train.time, grid)
            part.insert(0, train.entity, i)
            for c in train.static:
                part[c] = static[c].iloc[i] if static is not None and c in static else np.nan
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True)
        for c in [*train.static, *train.varying]:
            if pd.api.types.is_integer_dtype(train.frame[c]):
                lo, hi = train.frame[c].min(), train.frame[c].max()
                frame[c] = frame[c].round().clip(lo, hi).astype(train.frame[c].dtype)
        return train.like(frame, source=f"the {self.plugin!r} release")


class TimeGanPanel(SynthcityPanel):
    name = "timegan"

    def __init__(self, *, n_iter: int = 1000, batch_size: int = 64) -> None:
        super().__init__(plugin="timegan", n_iter=n_iter, batch_size=batch_size)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"n_iter": self.n_iter, "batch_size": self.batch_size}


class TimeVaePanel(SynthcityPanel):
    name = "timevae"

    def __init__(self, *, n_iter: int = 1000, batch_size: int = 64) -> None:
        super().__init__(plugin="timevae", n_iter=n_iter, batch_size=batch_size)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"n_iter": self.n_iter, "batch_size": self.batch_size}


PANEL_GENERATORS: dict[str, type[PanelGenerator]] = {
    "copy": CopyPanel,
    "leaky": LeakyPanel,
    "independent_marginals": IndependentMarginalsPanel,
    "par": ParPanel,
    "timegan": TimeGanPanel,
    "timevae": TimeVaePanel,
}


def make_panel_generator(name: str, **params: Any) -> PanelGenerator:
    """The panel generator ``name`` with ``params`` (a ConfigError names the known ones)."""
    if name not in PANEL_GENERATORS:
        raise ConfigError(
            f"Unknown panel generator {name!r}. Known: "
            f"{', '.join(map(repr, sorted(PANEL_GENERATORS)))}."
        )
    cls = PANEL_GENERATORS[name]
    try:
        return cls(**params)
    except TypeError as exc:
        known = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        raise ConfigError(
            f"The panel generator {name!r} does not accept the parameters {params!r} ({exc}). "
            f"Its parameters: {', '.join(map(repr, known)) or '(none)'}."
        ) from None
