"""synthcity plugins: a generic adapter and named entries for differentially private plugins.

``synthcity`` runs any tabular plugin by name (``plugin="ctgan"``, "tvae", "bayesian_network", "arf",
"nflow", "marginal_distributions", ...) with its parameters in ``plugin_params``. ``privbayes`` and
``dpgan`` expose their privacy budget as parameters and report it through ``privacy_params()``.

synthcity is imported lazily (it takes seconds) and quietly: on import it adds a loguru sink that
prints plugin load failures at CRITICAL level, sets a global "ignore all warnings" filter and changes a
pandas option. We disable its loguru logs, and import it inside ``warnings.catch_warnings`` with the
pandas option restored, so the process is left as it was.

Data. Most plugins do not accept missing values, so numeric (and datetime, as seconds since the
epoch) columns with missing values are imputed with their median and get a 0/1 indicator column,
and missing categories become one more category; the sample is decoded back. Each fit runs in a
temporary workspace directory (synthcity would otherwise create ``./workspace``).

What the ε covers. synthcity's DP plugins spend ε on model training only. The domain (column
ranges and category sets) and the encoders are learned from the training data without privacy, as
in most DP synthesizer libraries; ``privacy_params()`` says so under ``"scope"``.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from generators._runtime import library_call, quiet, require, spawn_seeds
from generators.base import BaseGenerator
from synth_audit.errors import ConfigError
from synth_audit.schema import ColumnKind
from synth_audit.validation import (
    DICT,
    NONE,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    STR,
    Constraint,
    Interval,
)

__all__ = [
    "DPGANGenerator",
    "PrivBayesGenerator",
    "SynthcityGenerator",
    "import_synthcity",
]

_INSTALL = (
    "see the README, 'Installation notes' (synthcity 0.2.12 is installed with --no-deps after "
    "its runtime dependencies: make install)"
)
MISSING_CATEGORY = "__synth_audit_missing__"
# Plugin types that generate one table ("debug" holds marginal_distributions and the samplers).
TABULAR_TYPES = ("generic", "privacy", "debug")
# Top-ups when synthcity returns fewer rows than asked (it drops duplicates and rows outside the
# training domain).
MAX_TOP_UPS = 10
_THREADS = [Interval(int, 1, None), NONE]
_DELTA = [Interval(float, 0, 1, closed="neither"), NONE]

_synthcity_plugins: Any = None
_loader: Any = None


def import_synthcity() -> Any:
    """``synthcity.plugins``, imported once, silently, without global side effects."""
    global _synthcity_plugins
    if _synthcity_plugins is not None:
        return _synthcity_plugins
    chained = pd.get_option("mode.chained_assignment")
    with warnings.catch_warnings(), quiet():
        require("synthcity", purpose="The synthcity generators", install=_INSTALL)
        loguru = require("loguru", purpose="The synthcity generators", install="pip install loguru")
        loguru.logger.disable("synthcity")
        _synthcity_plugins = require(
            "synthcity.plugins", purpose="The synthcity generators", install=_INSTALL
        )
        require(
            "synthcity.plugins.core.dataloader",
            purpose="The synthcity generators",
            install=_INSTALL,
        )
    with contextlib.suppress(Exception):
        pd.set_option("mode.chained_assignment", chained)
    return _synthcity_plugins


def plugin_loader() -> Any:
    """One ``synthcity.plugins.Plugins()`` per process (building it loads every plugin module).

    Not ``Plugins(categories=...)``: synthcity 0.2.12 keeps its category registry in a module
    global that the second such call empties, so plugins vanish from ``list()``.
    """
    global _loader
    if _loader is None:
        mod = import_synthcity()
        with warnings.catch_warnings(), quiet():
            _loader = mod.Plugins()
    return _loader


def tabular_plugins() -> list[str]:
    """Names of the synthcity plugins that generate single tables."""
    loader = plugin_loader()
    with warnings.catch_warnings(), quiet():
        return sorted(n for n in loader.list() if loader.get_type(n).type() in TABULAR_TYPES)


@contextlib.contextmanager
def _seeded_default_rng() -> Iterator[None]:
    """Make ``numpy.random.default_rng()`` without a seed draw its seed from the global state.

    synthcity 0.2.12 builds the distributions it samples from at ``generate`` time with
    ``np.random.default_rng()`` (OS entropy), so ``generate(random_state=...)`` is not reproducible.
    Inside :func:`generators._runtime.seeded` the global state is seeded, so this makes it so.
    """
    original = np.random.default_rng

    def default_rng(seed: Any = None) -> np.random.Generator:
        if seed is None:
            seed = int(np.random.randint(0, 2**32 - 1, dtype=np.int64))
        return original(seed)

    np.random.default_rng = default_rng  # type: ignore[assignment]
    try:
        yield
    finally:
        np.random.default_rng = original  # type: ignore[assignment]


class _Codec:
    """Missing values and datetimes in a form every synthcity plugin accepts, and back."""

    def __init__(self, train: pd.DataFrame, kinds: dict[str, ColumnKind]) -> None:
        self.columns = list(kinds)
        self.datetime: list[str] = []
        self.fill: dict[str, float] = {}
        self.indicator: dict[str, str] = {}
        taken = set(self.columns)
        for c, kind in kinds.items():
            s = train[c]
            if kind is ColumnKind.DATETIME and pd.api.types.is_datetime64_any_dtype(s):
                self.datetime.append(c)
                s = _seconds(s)
            if pd.api.types.is_float_dtype(s) and s.isna().any():
                self.fill[c] = float(s.median())
                name = f"{c}__missing"
                while name in taken:
                    name += "_"
                taken.add(name)
                self.indicator[c] = name

    def encode(self, df: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for c in self.columns:
            s = df[c]
            if c in self.datetime:
                s = _seconds(s)
            if pd.api.types.is_float_dtype(s):
                if c in self.indicator:
                    out[self.indicator[c]] = s.isna().astype(int)
                out[c] = s.fillna(self.fill.get(c, 0.0))
            else:
                out[c] = s.fillna(MISSING_CATEGORY).astype(str)
        return pd.DataFrame(out)

    def decode(self, df: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for c in self.columns:
            s = df[c].reset_index(drop=True)
            if c in self.indicator:
                flag = pd.to_numeric(df[self.indicator[c]], errors="coerce").reset_index(drop=True)
                s = pd.to_numeric(s, errors="coerce").astype(float).where(flag.round() != 1)
            if c in self.datetime:
                s = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="s", utc=True)
            elif s.dtype == object:
                s = s.where(s != MISSING_CATEGORY)
            out[c] = s
        return pd.DataFrame(out)


def _seconds(s: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(s):
        return s
    utc = s.dt.tz_convert("UTC") if s.dt.tz is not None else s.dt.tz_localize("UTC")
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    return ((utc - epoch) / pd.Timedelta(seconds=1)).astype(float)


class _SynthcityBase(BaseGenerator):
    """Fit/sample through ``Plugins().get(name, **params)`` and ``GenericDataLoader``."""

    device: str
    n_threads: int | None

    def _plugin_name(self) -> str:
        raise NotImplementedError

    def _plugin_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _make_codec(self, train: pd.DataFrame, kinds: dict[str, ColumnKind]) -> Any:
        return _Codec(train, kinds)

    def _fit_patches(self) -> contextlib.AbstractContextManager[Any]:
        """Corrections applied to synthcity while fitting (none by default)."""
        return contextlib.nullcontext()

    def _prepare(self, encoded: pd.DataFrame) -> None:
        """Hook: look at the encoded training data before the plugin is built."""

    def _fit(self, train: pd.DataFrame, seed: int, holdout: pd.DataFrame | None) -> None:
        plugin = self._plugin_name()
        known = tabular_plugins()
        if plugin not in known:
            raise ConfigError(
                f"synthcity has no tabular plugin {plugin!r} here. Available: "
                f"{', '.join(repr(k) for k in known)}."
            )
        loader_mod = import_synthcity_loader()
        kinds = {c: self.layout_.kinds[c] for c in self.layout_.modelled}
        self.codec_ = self._make_codec(train, kinds)
        encoded = self.codec_.encode(train)
        self.n_train_ = len(train)
        self._prepare(encoded)
        with (
            tempfile.TemporaryDirectory(prefix="synth-audit-synthcity-") as workspace,
            library_call(seed, use_torch=True, n_threads=self.n_threads),
            _seeded_default_rng(),
            self._fit_patches(),
        ):
            model = plugin_loader().get(
                plugin,
                **self._plugin_kwargs(),
                random_state=seed % 2**31,
                device=self.device,
                workspace=Path(workspace),
            )
            model.fit(loader_mod.GenericDataLoader(encoded, random_state=seed % 2**31))
        self.model_ = model

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        parts: list[pd.DataFrame] = []
        got = 0
        with (
            library_call(seed, use_torch=True, n_threads=self.n_threads),
            _seeded_default_rng(),
        ):
            for s in spawn_seeds(seed, MAX_TOP_UPS):
                batch = self.model_.generate(count=n - got, random_state=s % 2**31).dataframe()
                parts.append(batch)
                got += len(batch)
                if got >= n:
                    break
            if got < n:
                raise RuntimeError(
                    f"synthcity plugin {self._plugin_name()!r} returned {got} of {n} rows after "
                    f"{MAX_TOP_UPS} attempts (it drops duplicate rows and rows outside the "
                    f"training domain)"
                )
            raw = pd.concat(parts, ignore_index=True).iloc[:n]
            return self.codec_.decode(raw)


def import_synthcity_loader() -> Any:
    import_synthcity()
    return require(
        "synthcity.plugins.core.dataloader", purpose="The synthcity generators", install=_INSTALL
    )


class SynthcityGenerator(_SynthcityBase):
    """Any tabular synthcity plugin: ``plugin`` names it, ``plugin_params`` holds its parameters.

    ``device`` is "cpu" by default (reproducible); ``n_threads`` limits torch's threads. Seeds:
    ``random_state`` is passed to the plugin and to ``generate``, inside a context that restores the
    global random state afterwards.
    """

    name = "synthcity"
    description = (
        "Any synthcity tabular plugin by name (plugin=..., plugin_params={...}), "
        "e.g. ctgan, tvae, bayesian_network, arf, nflow."
    )
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "plugin": [STR],
        "plugin_params": [DICT, NONE],
        "device": [STR],
        "n_threads": _THREADS,
    }
    _reserved = ("random_state", "device", "workspace")

    def __init__(
        self,
        *,
        plugin: str = "bayesian_network",
        plugin_params: dict[str, Any] | None = None,
        device: str = "cpu",
        n_threads: int | None = None,
    ) -> None:
        self.plugin = plugin
        self.plugin_params = plugin_params
        self.device = device
        self.n_threads = n_threads

    def _cross_param_problems(self) -> list[str]:
        clash = sorted(set(self.plugin_params or {}) & set(self._reserved))
        if clash:
            return [
                f"The 'plugin_params' parameter of SynthcityGenerator must not set "
                f"{', '.join(repr(c) for c in clash)}: pass random_state to fit/sample and use the "
                f"generator's own 'device' parameter."
            ]
        return []

    def _plugin_name(self) -> str:
        return self.plugin

    def _plugin_kwargs(self) -> dict[str, Any]:
        return dict(self.plugin_params or {})

    def privacy_params(self) -> dict[str, Any]:
        """The (ε, δ) that synthcity's DP plugins claim; none for the others.

        Nothing for "privbayes" through this adapter: synthcity's own PrivBayes adds too little
        noise for its ε (see :class:`PrivBayesGenerator`, which corrects it). δ is the one the
        fitted plugin used (synthcity picks it from the data size when it is not given); None
        before ``fit`` in that case.
        """
        if self.plugin not in ("dpgan", "pategan", "aim"):
            return {}
        params = self.plugin_params or {}
        delta = params.get("delta")
        if delta is None and self.is_fitted:
            delta = fitted_delta(self.model_)
        return _dp_params(float(params.get("epsilon", 1.0)), delta)


def fitted_delta(plugin: Any) -> float | None:
    """The δ a fitted synthcity DP plugin used (its own, or the one it derived from the data)."""
    obj = plugin
    for _ in range(4):
        if obj is None:
            break
        for attr in ("dp_delta", "delta"):
            value = getattr(obj, attr, None)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        obj = getattr(obj, "model", None)
    return None


_SCOPE = (
    "model training only; column ranges, category sets and encoders are learned from the "
    "training data without privacy"
)


def _privbayes_params(params: dict[str, Any]) -> dict[str, Any]:
    return {"epsilon": float(params.get("epsilon", 1.0)), "delta": 0.0, "scope": _SCOPE}


def _dp_params(epsilon: float, delta: Any) -> dict[str, Any]:
    return {
        "epsilon": float(epsilon),
        "delta": None if delta is None else float(delta),
        "scope": _SCOPE,
    }


class _Discretiser:
    """Every column as a small set of string codes, for PrivBayes (and back).

    synthcity's PrivBayes treats every numeric column as categorical with one state per distinct
    training value: the released values are training values, and the conditional tables grow as
    (distinct values)^(degree + 1) (gigabytes for a few hundred rows). As in the PrivBayes paper,
    numeric and datetime columns are cut into ``n_bins`` equal-width bins over the training range
    (columns with at most ``n_bins`` distinct values keep their values); a sampled bin becomes a
    value drawn uniformly inside it (rounded to integers for integer columns). Missing values are one
    more state.
    """

    def __init__(self, train: pd.DataFrame, kinds: dict[str, ColumnKind], n_bins: int) -> None:
        self.columns = list(kinds)
        self.edges: dict[str, np.ndarray] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.integral: dict[str, bool] = {}
        self.datetime: list[str] = []
        for c, kind in kinds.items():
            s = train[c]
            if kind is ColumnKind.DATETIME and pd.api.types.is_datetime64_any_dtype(s):
                self.datetime.append(c)
                s = _seconds(s)
            if not pd.api.types.is_float_dtype(s):
                continue
            finite = s.dropna().to_numpy(dtype=float)
            self.integral[c] = bool(np.all(np.mod(finite, 1) == 0))
            distinct = np.unique(finite)
            if len(distinct) <= n_bins:
                self.values[c] = {f"v{i}": float(v) for i, v in enumerate(distinct)}
            else:
                self.edges[c] = np.linspace(distinct[0], distinct[-1], n_bins + 1)

    def encode(self, df: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for c in self.columns:
            s = _seconds(df[c]) if c in self.datetime else df[c]
            if c in self.edges:
                codes = np.clip(np.searchsorted(self.edges[c], s, side="right") - 1, 0, None)
                codes = np.minimum(codes, len(self.edges[c]) - 2)
                out[c] = pd.Series([f"b{k}" for k in codes], dtype=object).where(
                    s.notna().to_numpy(), MISSING_CATEGORY
                )
            elif c in self.values:
                lookup = {v: k for k, v in self.values[c].items()}
                out[c] = s.map(lookup).fillna(MISSING_CATEGORY).astype(object)
            else:
                out[c] = s.fillna(MISSING_CATEGORY).astype(str)
        return pd.DataFrame(out)

    def decode(self, df: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for c in self.columns:
            codes = df[c].astype(str).reset_index(drop=True)
            missing = codes == MISSING_CATEGORY
            if c in self.edges:
                edges = self.edges[c]
                k = pd.to_numeric(codes.str[1:].where(~missing), errors="coerce")
                k = k.fillna(0).astype(int).clip(0, len(edges) - 2).to_numpy()
                values = np.random.uniform(edges[k], edges[k + 1])
                if self.integral[c]:
                    values = np.clip(np.round(values), np.ceil(edges[0]), np.floor(edges[-1]))
                s = pd.Series(values).where(~missing)
            elif c in self.values:
                s = codes.map(self.values[c]).astype(float)
            else:
                s = codes.where(~missing)
            if c in self.datetime:
                s = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="s", utc=True)
            out[c] = s
        return pd.DataFrame(out)


@contextlib.contextmanager
def _privbayes_corrections() -> Iterator[None]:
    """Make synthcity 0.2.12's PrivBayes add the Laplace noise that its ε requires.

    synthcity adds noise of scale 4(d - k)/(n ε) — the paper's scale for *probabilities* — to
    *counts*, n times too little, and only to the combinations present in the data (a zero cell gets
    no noise, so which combinations occur is released exactly). Here every cell of the domain's
    cross product gets Laplace noise on its count. synthcity draws one noisy table for the first k
    attributes and one per remaining attribute, d - k + 1 tables in all; a changed record moves
    two counts in each (L1 sensitivity 2), and the tables share ε/2 (stored as ``self.epsilon``), so
    the scale is ``2 (d - k + 1) / self.epsilon``. The structure search (exponential mechanism, the
    other ε/2) is left as synthcity has it.
    """
    from synthcity.plugins.privacy import plugin_privbayes

    cls = plugin_privbayes.PrivBayes
    original_scale = cls._laplace_noise_parameter
    original_counts = cls._get_noisy_counts_for_attributes

    def noise_scale(self: Any, n_items: int, n_features: int) -> float:
        return float(2 * (n_features - self.K + 1) / self.epsilon)

    def noisy_counts(self: Any, raw_data: pd.DataFrame, attributes: list) -> pd.DataFrame:
        levels = [np.sort(raw_data[a].unique()) for a in attributes]
        index: pd.Index = (
            pd.MultiIndex.from_product(levels, names=list(attributes))
            if len(attributes) > 1
            else pd.Index(levels[0], name=attributes[0])
        )
        counts = raw_data.groupby(list(attributes)).size()
        counts.index = counts.index.set_names(list(attributes))
        counts = counts.reindex(index, fill_value=0)
        stats = counts.rename("count").reset_index()
        scale = self._laplace_noise_parameter(*raw_data.shape)
        stats["count"] = stats["count"].astype(float) + np.random.laplace(0, scale, len(stats))
        stats.loc[stats["count"] < 0, "count"] = 0
        if stats["count"].sum() <= 0:  # all noise: uniform (post-processing, no privacy cost)
            stats["count"] = 1.0
        return stats

    cls._laplace_noise_parameter = noise_scale
    cls._get_noisy_counts_for_attributes = noisy_counts
    try:
        yield
    finally:
        cls._laplace_noise_parameter = original_scale
        cls._get_noisy_counts_for_attributes = original_counts


def privbayes_degree(
    n_rows: int, cardinalities: list[int], epsilon: float, *, theta: float = 4.0, k_max: int = 3
) -> int:
    """The largest network degree k whose noisy tables stay θ-useful (PrivBayes, Section 4.5).

    A table over k + 1 columns has about ``c ** (k + 1)`` cells (``c``: the median number of states
    per column); its counts get Laplace noise of scale ``4 (d - k + 1) / ε`` and synthcity adds one
    pseudo-count to every cell. The table is θ-useful when the mean count per cell is at least θ
    times the larger of the two. Returns 0 (independent columns) when even pairs are not.
    """
    d = len(cardinalities)
    c = float(np.median(cardinalities)) if cardinalities else 1.0
    best = 0
    for k in range(1, min(k_max, d - 1) + 1):
        scale = max(4 * (d - k + 1) / epsilon, 1.0)
        if n_rows / c ** (k + 1) >= theta * scale:
            best = k
    return best


class PrivBayesGenerator(_SynthcityBase):
    """PrivBayes (synthcity's implementation, corrected): a Bayesian network under ε-DP.

    ``epsilon`` is the total budget (half for the network structure, half for the noisy
    conditionals; pure ε-DP, δ = 0). ``k`` is the network degree: None chooses it from the data size,
    the domain and ``epsilon`` (:func:`privbayes_degree`; often 0 below tens of thousands of rows at
    ε = 1), 0 makes the columns independent (noisy marginals), 1 or more fixes it. ``n_bins`` is the
    number of equal-width bins for numeric and datetime columns (synthcity's default of 100 makes
    tables of 100^(k+1) cells), ``mi_thresh`` synthcity's mutual-information threshold below which
    a node gets no parents.

    Corrections to synthcity 0.2.12 (see :func:`_privbayes_corrections` and :class:`_Discretiser`):
    the Laplace noise on the conditional tables has the scale the ε requires (synthcity's is n
    times too small and skips empty cells); numeric columns are binned instead of being used as one
    category per training value; synthcity's automatic degree (which picks 5 for 300 rows and a
    table of 20^6 cells) is replaced; samples are not de-duplicated (``strict=False``), which would
    distort a distribution over few states. Left as is: the structure search scores parent sets
    with a normalised mutual information of k-means clusters, for which the sensitivity bound it
    uses is not proven; with ``k=0`` the structure is not used.
    """

    name = "privbayes"
    description = (
        "PrivBayes (synthcity, noise corrected): differentially private Bayesian network (epsilon)."
    )
    has_epsilon = True
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "epsilon": [POSITIVE_FLOAT],
        "k": [Interval(int, 0, None), NONE],
        "n_bins": [Interval(int, 2, None)],
        "mi_thresh": [Interval(float, 0, None)],
        "device": [STR],
        "n_threads": _THREADS,
    }

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        k: int | None = None,
        n_bins: int = 10,
        mi_thresh: float = 0.01,
        device: str = "cpu",
        n_threads: int | None = None,
    ) -> None:
        self.epsilon = epsilon
        self.k = k
        self.n_bins = n_bins
        self.mi_thresh = mi_thresh
        self.device = device
        self.n_threads = n_threads

    def _plugin_name(self) -> str:
        return "privbayes"

    def _make_codec(self, train: pd.DataFrame, kinds: dict[str, ColumnKind]) -> Any:
        return _Discretiser(train, kinds, self.n_bins)

    def _prepare(self, encoded: pd.DataFrame) -> None:
        if self.k is None:
            cards = [int(encoded[c].nunique()) for c in encoded.columns]
            self.k_ = privbayes_degree(len(encoded), cards, float(self.epsilon))
        else:
            self.k_ = min(int(self.k), max(encoded.shape[1] - 1, 0))

    def _plugin_kwargs(self) -> dict[str, Any]:
        # synthcity reads K=0 as "choose K"; independent columns are K=1 with every parent dropped.
        return {
            "epsilon": float(self.epsilon),
            "K": max(self.k_, 1),
            "n_bins": self.n_bins,
            "mi_thresh": float("inf") if self.k_ == 0 else float(self.mi_thresh),
            "strict": False,
        }

    def _fit_patches(self) -> contextlib.AbstractContextManager[Any]:
        return _privbayes_corrections()

    def privacy_params(self) -> dict[str, Any]:
        return _privbayes_params({"epsilon": self.epsilon})


class DPGANGenerator(_SynthcityBase):
    """synthcity's DP-GAN: a GAN whose discriminator is trained with DP-SGD (opacus), (ε, δ)-DP.

    ``delta`` None means synthcity's default, 1 / (number of rows it trains on). ``n_iter`` is the number of training
    epochs (synthcity's default is 2000; tens are enough for a calibration run), ``batch_size`` the
    batch size, ``max_grad_norm`` the per-sample clipping norm of DP-SGD. Hidden layers are smaller
    than synthcity's defaults (``n_units_hidden=100`` instead of 500) so that a run on a CPU takes
    seconds, not minutes. synthcity's validation-metric checkpoints are switched off (they would
    pick the model on training data without privacy). Caveats of synthcity's implementation, left
    as they are: opacus accounts for Poisson sampling but batches are shuffled fixed-size batches
    (the usual approximation), and 20 % of the training rows are held out by synthcity and not used.

    On a busy CPU, torch's default of one thread per core can make DP-SGD several times slower
    (measured 8x here); ``n_threads=1`` avoids that, and is what a process-pool worker should use.
    """

    name = "dpgan"
    description = "synthcity DP-GAN: GAN trained with DP-SGD (epsilon, delta)."
    has_epsilon = True
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "epsilon": [POSITIVE_FLOAT],
        "delta": _DELTA,
        "n_iter": [POSITIVE_INT],
        "batch_size": [POSITIVE_INT],
        "n_units_hidden": [POSITIVE_INT],
        "n_layers_hidden": [POSITIVE_INT],
        "lr": [POSITIVE_FLOAT],
        "max_grad_norm": [POSITIVE_FLOAT],
        "device": [STR],
        "n_threads": _THREADS,
    }

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float | None = None,
        n_iter: int = 50,
        batch_size: int = 200,
        n_units_hidden: int = 100,
        n_layers_hidden: int = 2,
        lr: float = 1e-3,
        max_grad_norm: float = 2.0,
        device: str = "cpu",
        n_threads: int | None = None,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.n_units_hidden = n_units_hidden
        self.n_layers_hidden = n_layers_hidden
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.n_threads = n_threads

    def _plugin_name(self) -> str:
        return "dpgan"

    def _plugin_kwargs(self) -> dict[str, Any]:
        return {
            "epsilon": float(self.epsilon),
            "delta": None if self.delta is None else float(self.delta),
            "n_iter": self.n_iter,
            "n_iter_min": min(self.n_iter, 100),
            # No validation-metric checkpoints: they would select the model on data without privacy.
            "n_iter_print": self.n_iter + 1,
            "batch_size": self.batch_size,
            "generator_n_units_hidden": self.n_units_hidden,
            "discriminator_n_units_hidden": self.n_units_hidden,
            "generator_n_layers_hidden": self.n_layers_hidden,
            "discriminator_n_layers_hidden": self.n_layers_hidden,
            "lr": float(self.lr),
            "dp_max_grad_norm": float(self.max_grad_norm),
        }

    def privacy_params(self) -> dict[str, Any]:
        """ε and δ; with ``delta=None`` δ is the one synthcity chose, 1 / (rows it trained on).

        synthcity trains on 80 % of the rows, so that δ is 1 / (0.8 n), not 1 / n. None before
        ``fit`` in that case.
        """
        delta = self.delta
        if delta is None and self.is_fitted:
            delta = fitted_delta(self.model_)
        return _dp_params(float(self.epsilon), delta)
