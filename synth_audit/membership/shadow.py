"""Black-box membership inference by shadow modelling (Stadler, Oprisanu & Troncoso 2022,
"Synthetic Data – Anonymisation Groundhog Day", USENIX Security).

Words: the *target* is what is attacked (here a generator, :mod:`synth_audit.targets`); the records
whose membership is tested are *challenge* records (``challenges=``; the paper calls them targets,
and ``targets=`` is kept as a deprecated keyword). Below, ``t`` is one challenge record.

Threat model. The attacker knows the generator (its class and parameters, so it can re-fit
copies), holds real records from the population (the *reference*), and wants to know whether one
target record ``t`` was in the data a release was made from. For each target:

1. **Shadow releases.** ``n_shadow`` times: draw a training set of ``train_size`` records from the
   attacker's reference pool; in half of them replace one record by ``t`` (label 1: member), in
   the other half keep it out (label 0); fit a fresh clone of the generator on it and sample
   ``synth_size`` records. Both kinds of training set have the same size, so size is no signal.
2. **Features.** Each shadow release is summarised *relative to t* by a featurizer (default
   :class:`ChallengeFeaturizer`): the share of synthetic records within Gower radius ``r`` of ``t``
   for a few radii, the Gower distances of the 1st..k-th nearest synthetic records to ``t``, and
   per-column marginal statistics (the share of synthetic records that agree with ``t`` on the
   column, within ``window`` of the column range for numeric ones, and each numeric column's mean
   and standard deviation scaled by its range).
3. **Classifier.** A classifier (default a seeded random forest; or logistic regression) learns
   label from features on the shadow releases; it is one classifier per target, as in the paper.
4. **Evaluation with known truth.** ``n_eval`` "real" releases per target are made the same way
   from an *evaluation* pool disjoint from the attacker's shadow pool (by default the reference is
   split in half; or pass ``eval_population``): half of their training sets contain ``t``. The
   classifier's P(member) on each real release is its score. Scores of all targets are pooled into
   one :class:`MembershipResult` whose "records" are (target, release) pairs, record ids
   ``"target:<label>/release:<j>"``. Per-target AUCs are in ``params["per_target"]``.

Records of the reference that are identical to a target (Gower distance 0) are removed from both
pools: a duplicate would put ``t`` into "non-member" training sets.

Execution. Every fit (shadow and evaluation) is one small task, :func:`run_shadow_task`, a
top-level function of a picklable :class:`ShadowTask` (an unfitted generator, the training rows,
the target row, the fitted featurizer, seeds) that returns a :class:`ShadowTaskResult` (a feature
vector and timings). Tasks go to the ``executor`` given (any :class:`concurrent.futures.Executor`:
a local process pool, or Dask's ``Client.get_executor()``); ``executor=None`` runs them inline.
Fits can also be made elsewhere: :func:`plan_shadow_fits` lists the attack's fits
(:class:`ShadowFit`: training set, holdout, seeds) without making them, and ``samples=`` gives
the attack a function that returns their samples (a study reads them from its store's fit cache,
:mod:`synth_audit.study.fits`); the attack then only featurises and classifies. The same samples
give the same result as fitting here. Inside a task, BLAS/OpenMP pools are limited to one thread (``threadpoolctl``), torch to one thread,
and a generator with an ``n_threads`` parameter left at None gets ``n_threads=1``, so ``k``
workers use ``k`` cores. Results are collected in submission order, so any executor gives the same
numbers as inline execution.

Seeds. ``root = numpy.random.SeedSequence(random_state)`` (fresh entropy when None; the entropy
used is recorded as the result's ``seed``); ``root.spawn(1 + n_targets)`` gives the pool split and
one sequence per target; each target's sequence spawns one child per fit (``n_shadow + n_eval``,
each yielding the draw, fit and sample seeds) and one for its classifier. Cost: ``n_targets ×
(n_shadow + n_eval)`` generator fits; Stadler et al. used hundreds of shadow models per target, so
small ``n_shadow`` gives a weak (lower-bound) attack.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from synth_audit._logging import get_logger
from synth_audit.encoding import MixedEncoder, nearest_neighbors
from synth_audit.errors import ConfigError, DataValidationError
from synth_audit.membership.nobox import (
    check_frame,
    check_int,
    check_seed,
    coerce_frames,
)
from synth_audit.membership.result import MembershipResult
from synth_audit.membership.stats import auc as _auc
from synth_audit.progress import ProgressCallback
from synth_audit.schema import Schema

__all__ = [
    "CLASSIFIERS",
    "ChallengeFeaturizer",
    "Featurizer",
    "FittedChallengeFeaturizer",
    "FittedFeaturizer",
    "FittedTargetFeaturizer",
    "ShadowAttackRun",
    "ShadowFit",
    "ShadowTask",
    "ShadowTaskResult",
    "ShadowTimings",
    "TargetFeaturizer",
    "fit_and_sample",
    "plan_shadow_fits",
    "run_shadow_attack",
    "run_shadow_task",
    "shadow_attack",
]

_log = get_logger("membership.shadow")

Classifier = Literal["rf", "logistic"]
CLASSIFIERS = ("rf", "logistic")


# --------------------------------------------------------------------------------------------------
# Featurizers
# --------------------------------------------------------------------------------------------------


class FittedFeaturizer(Protocol):
    """Turns one synthetic release into a fixed-length feature vector relative to a target."""

    def feature_names(self) -> list[str]: ...

    def transform(self, synthetic: pd.DataFrame, target: pd.DataFrame) -> np.ndarray: ...


class Featurizer(Protocol):
    """Fitted once on the attacker's population; the fitted object must be picklable."""

    def fit(self, population: pd.DataFrame, schema: Schema) -> FittedFeaturizer: ...


@dataclass(frozen=True)
class ChallengeFeaturizer:
    """Default featurizer: proximity of the release to the target, and marginals around it.

    * ``radii``: for each ``r``, the share of synthetic records within Gower distance ``r`` of t;
    * ``k``: the Gower distances of the 1st..k-th nearest synthetic records to t (1.0 when the
      release has fewer records);
    * per column: the share of synthetic records equal to t's value (categorical; missing equals
      missing) or within ``window`` × range of it (numeric; missing t: the share missing); for
      numeric columns also the release's mean and standard deviation, scaled by the range.

    Ranges are those of the population the featurizer is fitted on (the attacker's data).
    """

    radii: tuple[float, ...] = (0.01, 0.03, 0.1)
    k: int = 5
    window: float = 0.05

    def fit(self, population: pd.DataFrame, schema: Schema) -> FittedChallengeFeaturizer:
        owner = "ChallengeFeaturizer"
        problems = []
        radii = tuple(self.radii)
        if not radii or not all(
            isinstance(r, int | float) and not isinstance(r, bool) and 0 <= r <= 1 for r in radii
        ):
            problems.append(
                f"The 'radii' parameter of {owner} must be a non-empty tuple of floats in [0, 1]. "
                f"Got {self.radii!r}."
            )
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            problems.append(f"The 'k' parameter of {owner} must be an int >= 1. Got {self.k!r}.")
        w = self.window
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= 1:
            problems.append(
                f"The 'window' parameter of {owner} must be a float in [0, 1]. Got {w!r}."
            )
        if problems:
            raise ConfigError(" ".join(problems))
        encoder = MixedEncoder(schema).fit([population])
        numeric = tuple(c for c in schema.used if schema.kind(c).is_numeric)
        lows: dict[str, float] = {}
        spans: dict[str, float] = {}
        for c in numeric:
            v = pd.to_numeric(population[c], errors="coerce").to_numpy(dtype=float)
            finite = v[np.isfinite(v)]
            lo = float(finite.min()) if finite.size else 0.0
            hi = float(finite.max()) if finite.size else 0.0
            lows[c] = lo
            spans[c] = hi - lo if hi > lo else 1.0
        return FittedChallengeFeaturizer(
            encoder=encoder,
            columns=tuple(schema.used),
            numeric=numeric,
            lows=lows,
            spans=spans,
            radii=tuple(float(r) for r in radii),
            k=int(self.k),
            window=float(w),
        )


@dataclass(frozen=True)
class FittedChallengeFeaturizer:
    """:class:`ChallengeFeaturizer` fitted on a population (picklable; sent to every task)."""

    encoder: MixedEncoder
    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    lows: dict[str, float]
    spans: dict[str, float]
    radii: tuple[float, ...]
    k: int
    window: float

    def feature_names(self) -> list[str]:
        names = [f"share_within_{r:g}" for r in self.radii]
        names += [f"dist_nn_{i + 1}" for i in range(self.k)]
        for c in self.columns:
            names.append(f"share_like_target[{c}]")
            if c in self.numeric:
                names += [f"mean[{c}]", f"std[{c}]"]
        return names

    def transform(self, synthetic: pd.DataFrame, target: pd.DataFrame) -> np.ndarray:
        n = len(synthetic)
        feats: list[float] = []
        if n:
            t_emb, s_emb = self.encoder.transform_pair(target, synthetic)
            d = np.abs(s_emb - t_emb[0]).sum(axis=1) / max(self.encoder.n_columns, 1)
            feats += [float(np.mean(d <= r)) for r in self.radii]
            near = np.sort(d)[: self.k]
        else:
            feats += [0.0] * len(self.radii)
            near = np.zeros(0)
        feats += [float(x) for x in near] + [1.0] * (self.k - len(near))
        for c in self.columns:
            tv = target[c].iloc[0]
            s = synthetic[c]
            if c in self.numeric:
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                span = self.spans[c]
                tnum = float(pd.to_numeric(pd.Series([tv]), errors="coerce").iloc[0])
                if not n:
                    feats += [0.0, 0.0, 0.0]
                    continue
                if math.isnan(tnum):
                    share = float(np.mean(np.isnan(v)))
                else:
                    share = float(np.mean(np.abs(v - tnum) <= self.window * span))
                finite = v[np.isfinite(v)]
                mean = float((finite.mean() - self.lows[c]) / span) if finite.size else 0.0
                std = float(finite.std() / span) if finite.size else 0.0
                feats += [share, mean, std]
            else:
                if not n:
                    feats.append(0.0)
                elif pd.isna(tv):
                    feats.append(float(s.isna().mean()))
                else:
                    feats.append(float((s.astype(object) == tv).mean()))
        return np.asarray(feats, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# Tasks (what runs on the executor)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowTask:
    """One generator fit: train a clone of ``generator`` on ``train``, sample, featurise."""

    generator: Any
    train: pd.DataFrame
    target: pd.DataFrame
    schema: Schema
    featurizer: FittedFeaturizer
    synth_size: int
    fit_seed: int
    sample_seed: int
    holdout: pd.DataFrame | None = None


@dataclass(frozen=True)
class ShadowTaskResult:
    """A feature vector and where the task's time went (seconds, measured inside the task).

    ``cpu_seconds`` is the CPU time of the worker process during the task; well below
    ``task_seconds`` it means the worker waited for a core (an oversubscribed machine).
    """

    features: np.ndarray
    fit_seconds: float
    sample_seconds: float
    featurize_seconds: float
    task_seconds: float
    cpu_seconds: float = 0.0


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """BLAS/OpenMP pools and torch limited to one thread for the block (restored after)."""
    from synth_audit.executors import thread_limit

    with thread_limit(1):
        yield


def _clone(generator: Any) -> Any:
    try:
        from generators import clone
    except ImportError:  # a generator from elsewhere that follows the protocol
        return type(generator)(**generator.get_params())
    return clone(generator)


def _fit_sample(
    generator: Any,
    train: pd.DataFrame,
    schema: Schema,
    holdout: pd.DataFrame | None,
    n: int,
    fit_seed: int,
    sample_seed: int,
) -> tuple[pd.DataFrame, float, float]:
    """Fit a clone of ``generator`` and sample ``n`` records (call inside :func:`_one_thread`)."""
    gen = _clone(generator)
    params = gen.get_params() if hasattr(gen, "get_params") else {}
    if "n_threads" in params and params["n_threads"] is None:
        gen.set_params(n_threads=1)
    t0 = time.perf_counter()
    gen.fit(train, schema=schema, random_state=fit_seed, holdout=holdout)
    t1 = time.perf_counter()
    synthetic = gen.sample(n, random_state=sample_seed)
    return synthetic, t1 - t0, time.perf_counter() - t1


def run_shadow_task(task: ShadowTask) -> ShadowTaskResult:
    """Fit a clone of the generator, sample ``synth_size`` records, featurise them against the target.

    A top-level function of a picklable argument, so any executor can run it. One thread inside.
    """
    start = time.perf_counter()
    cpu_start = time.process_time()
    with _one_thread():
        synthetic, fit_s, sample_s = _fit_sample(
            task.generator,
            task.train,
            task.schema,
            task.holdout,
            task.synth_size,
            task.fit_seed,
            task.sample_seed,
        )
        t2 = time.perf_counter()
        features = task.featurizer.transform(synthetic, task.target)
        t3 = time.perf_counter()
    return ShadowTaskResult(
        features=features,
        fit_seconds=fit_s,
        sample_seconds=sample_s,
        featurize_seconds=t3 - t2,
        task_seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start,
    )


@dataclass(frozen=True)
class ShadowFit:
    """One generator fit the attack needs, without featurising: what a fit cache stores.

    A clone of ``generator`` is fitted on ``train`` (and ``holdout`` for a generator that needs
    one) with ``fit_seed``, and ``n_samples`` records are sampled with ``sample_seed``. ``target``
    (its row label), ``phase`` ("shadow" or "eval"), ``index`` and ``member`` say where the fit
    belongs in the attack; they are not part of what is fitted. Picklable.
    """

    generator: Any
    train: pd.DataFrame = field(repr=False)
    schema: Schema = field(repr=False)
    n_samples: int
    fit_seed: int
    sample_seed: int
    holdout: pd.DataFrame | None = field(default=None, repr=False)
    target: str = ""
    phase: str = "shadow"
    index: int = 0
    member: bool = False


@dataclass(frozen=True)
class FitOutput:
    """The sample of one :class:`ShadowFit` and the seconds its fit and sampling took."""

    sample: pd.DataFrame
    fit_seconds: float = 0.0
    sample_seconds: float = 0.0


def fit_and_sample(fit: ShadowFit) -> FitOutput:
    """Run one :class:`ShadowFit` here: one thread for BLAS/OpenMP/torch, as in the shadow tasks."""
    with _one_thread():
        sample, fit_s, sample_s = _fit_sample(
            fit.generator,
            fit.train,
            fit.schema,
            fit.holdout,
            fit.n_samples,
            fit.fit_seed,
            fit.sample_seed,
        )
    return FitOutput(sample=sample, fit_seconds=fit_s, sample_seconds=sample_s)


#: What :func:`run_shadow_attack` calls with every fit of its plan, in plan order, when given:
#: it returns each fit's sample (a DataFrame, or a :class:`FitOutput` with timings), same order.
SamplesFn = Callable[[Sequence[ShadowFit]], Sequence["pd.DataFrame | FitOutput"]]


# --------------------------------------------------------------------------------------------------
# The attack
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowTimings:
    """Where the wall time of one shadow attack went.

    ``fit_seconds``, ``sample_seconds``, ``featurize_seconds`` and ``task_seconds`` are sums over
    all tasks, measured inside them; ``classifier_seconds`` and ``prepare_seconds`` (validation,
    pools, drawing training sets) are measured in the calling process; ``wall_seconds`` is the
    whole call; ``task_cpu_seconds`` the CPU time of the tasks (see
    :class:`ShadowTaskResult`). ``engine_overhead(workers)`` is the share of the workers' time not spent inside
    the generator's fit/sample.
    """

    n_fits: int
    wall_seconds: float
    prepare_seconds: float
    fit_seconds: float
    sample_seconds: float
    featurize_seconds: float
    task_seconds: float
    classifier_seconds: float
    task_cpu_seconds: float = 0.0

    @property
    def generator_seconds(self) -> float:
        return self.fit_seconds + self.sample_seconds

    def engine_overhead(self, workers: int = 1) -> float:
        """(workers × wall − generator time) / generator time."""
        gen = self.generator_seconds
        return (workers * self.wall_seconds - gen) / gen if gen > 0 else math.inf

    def fits_per_minute(self) -> float:
        return 60.0 * self.n_fits / self.wall_seconds if self.wall_seconds > 0 else math.inf


@dataclass(frozen=True)
class ShadowAttackRun:
    """The result plus what produced it: features, labels and timings (not stored in the result)."""

    result: MembershipResult
    timings: ShadowTimings
    shadow_features: dict[str, np.ndarray] = field(default_factory=dict)
    shadow_labels: dict[str, np.ndarray] = field(default_factory=dict)
    eval_features: dict[str, np.ndarray] = field(default_factory=dict)
    eval_labels: dict[str, np.ndarray] = field(default_factory=dict)
    feature_names: tuple[str, ...] = ()


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _resolve_generator(generator: Any, owner: str) -> Any:
    if isinstance(generator, str):
        from generators import make_generator

        return make_generator(generator)
    missing = [
        m for m in ("fit", "sample", "get_params") if not callable(getattr(generator, m, None))
    ]
    if missing:
        raise ConfigError(
            f"The 'generator' parameter of {owner} must be a generator name or an object with "
            f"fit, sample and get_params (see generators.base.Generator). "
            f"{type(generator).__name__} lacks {', '.join(missing)}."
        )
    return _clone(generator)


def _make_classifier(kind: str, seed: int) -> Any:
    if kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _index_labels(df: pd.DataFrame) -> list[Any]:
    return list(df.index) if df.index.is_unique else list(range(len(df)))


def _draw(
    pool: pd.DataFrame,
    target: pd.DataFrame,
    member: bool,
    train_size: int,
    needs_holdout: bool,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    k = train_size - 1 if member else train_size
    parts = [pool.iloc[order[:k]]]
    if member:
        parts.append(target)
    train = pd.concat(parts, ignore_index=True)
    train = train.iloc[rng.permutation(len(train))].reset_index(drop=True)
    holdout = None
    if needs_holdout:
        rest = order[k:]
        holdout = pool.iloc[rest[:train_size]].reset_index(drop=True)
    return train, holdout


def _submit(
    tasks: Sequence[ShadowTask], executor: Executor | None, progress: ProgressCallback | None
) -> list[ShadowTaskResult]:
    total = len(tasks)
    if executor is None:
        out = []
        for i, task in enumerate(tasks):
            out.append(run_shadow_task(task))
            if progress is not None:
                progress("shadow fits", i + 1, total)
        return out
    futures: list[Future[ShadowTaskResult]] = [executor.submit(run_shadow_task, t) for t in tasks]
    done = 0
    try:
        if progress is not None:
            from concurrent.futures import as_completed

            for _ in as_completed(futures):
                done += 1
                progress("shadow fits", done, total)
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise


@dataclass
class _Plan:
    """Everything the attack decides before any fit: pools, the fits, classifier seeds."""

    owner: str
    template: Any
    used: Schema
    frames: dict[str, pd.DataFrame]
    shadow_pool: pd.DataFrame
    eval_pool: pd.DataFrame
    split: str
    dropped: int
    entropy: int
    n_shadow: int
    n_eval: int
    train_size: int
    synth_size: int
    fits: list[ShadowFit]
    target_frames: list[pd.DataFrame]
    clf_seeds: list[int]
    target_ids: list[Any]


def _plan(
    *,
    generator: Any,
    reference: pd.DataFrame,
    targets: pd.DataFrame,
    schema: Schema | None,
    n_shadow: int,
    train_size: int,
    synth_size: int | None,
    n_eval: int,
    eval_population: pd.DataFrame | None,
    random_state: int | None,
    owner: str = "shadow_attack",
    check_extra: Callable[[], None] | None = None,
) -> _Plan:
    seed = check_seed(random_state, owner)
    n_shadow = check_int(n_shadow, "n_shadow", owner, 4)
    n_eval = check_int(n_eval, "n_eval", owner, 2)
    train_size = check_int(train_size, "train_size", owner, 2)
    synth_size = train_size if synth_size is None else check_int(synth_size, "synth_size", owner, 1)
    if check_extra is not None:
        check_extra()
    template = _resolve_generator(generator, owner)
    needs_holdout = bool(getattr(template, "needs_holdout", False))
    check_frame(reference, "reference", owner, min_rows=2)
    check_frame(targets, "targets", owner)
    raw = {"reference": reference, "targets": targets}
    if eval_population is not None:
        check_frame(eval_population, "eval_population", owner, min_rows=2)
        raw["eval_population"] = eval_population
    frames, used = coerce_frames(raw, schema, owner)

    root = np.random.SeedSequence(seed)
    entropy = int(root.entropy)  # type: ignore[arg-type]
    split_ss, *target_ss = root.spawn(1 + len(targets))

    # Drop population records identical to a target (they would leak t into non-member sets).
    enc = MixedEncoder(used).fit(list(frames.values()))
    t_emb = enc.transform(frames["targets"])
    dropped = 0
    pools: dict[str, pd.DataFrame] = {}
    for role in [r for r in ("reference", "eval_population") if r in frames]:
        emb = enc.transform(frames[role])
        d, _ = nearest_neighbors(emb, t_emb, 1, n_columns=enc.n_columns)
        keep = d[:, 0] > 0
        dropped += int((~keep).sum())
        pools[role] = frames[role].loc[keep].reset_index(drop=True)
    if "eval_population" in pools:
        shadow_pool, eval_pool = pools["reference"], pools["eval_population"]
        split = "eval_population given"
    else:
        ref = pools["reference"]
        order = np.random.default_rng(split_ss).permutation(len(ref))
        half = len(ref) // 2
        shadow_pool = ref.iloc[order[:half]].reset_index(drop=True)
        eval_pool = ref.iloc[order[half:]].reset_index(drop=True)
        split = "reference split in half (shadow pool | evaluation pool)"
    need = train_size * (2 if needs_holdout else 1)
    short = [
        f"the {name} has {len(pool)}"
        for name, pool in (("shadow pool", shadow_pool), ("evaluation pool", eval_pool))
        if len(pool) < need
    ]
    if short:
        raise DataValidationError(
            f"{owner}: each training set needs {need} population records "
            f"(train_size={train_size}{', plus as many for the holdout' if needs_holdout else ''}"
            f"), but {' and '.join(short)} ({split}; {dropped} record(s) identical to a target "
            "removed). Lower train_size or pass a larger reference / eval_population."
        )

    target_ids = _index_labels(targets)
    fits: list[ShadowFit] = []
    target_frames: list[pd.DataFrame] = []
    clf_seeds: list[int] = []
    for ti, tss in enumerate(target_ss):
        target = frames["targets"].iloc[[ti]].reset_index(drop=True)
        target_frames.append(target)
        children = tss.spawn(n_shadow + n_eval + 1)
        clf_seeds.append(int(children[-1].generate_state(1)[0]))
        for j, css in enumerate(children[:-1]):
            phase, jj = ("shadow", j) if j < n_shadow else ("eval", j - n_shadow)
            member = jj % 2 == 0
            draw_s, fit_s, sample_s = (int(x) for x in css.generate_state(3))
            pool = shadow_pool if phase == "shadow" else eval_pool
            train, holdout = _draw(pool, target, member, train_size, needs_holdout, draw_s)
            fits.append(
                ShadowFit(
                    generator=template,
                    train=train,
                    schema=used,
                    n_samples=synth_size,
                    fit_seed=fit_s,
                    sample_seed=sample_s,
                    holdout=holdout,
                    target=str(target_ids[ti]),
                    phase=phase,
                    index=jj,
                    member=member,
                )
            )
    return _Plan(
        owner=owner,
        template=template,
        used=used,
        frames=frames,
        shadow_pool=shadow_pool,
        eval_pool=eval_pool,
        split=split,
        dropped=dropped,
        entropy=entropy,
        n_shadow=n_shadow,
        n_eval=n_eval,
        train_size=train_size,
        synth_size=synth_size,
        fits=fits,
        target_frames=target_frames,
        clf_seeds=clf_seeds,
        target_ids=target_ids,
    )


def plan_shadow_fits(
    *,
    generator: Any,
    reference: pd.DataFrame,
    challenges: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    schema: Schema | None = None,
    n_shadow: int = 20,
    train_size: int = 500,
    synth_size: int | None = None,
    n_eval: int = 10,
    eval_population: pd.DataFrame | None = None,
    random_state: int | None = None,
) -> list[ShadowFit]:
    """The fits :func:`shadow_attack` with these arguments makes, in its order, without making them.

    ``n_targets × (n_shadow + n_eval)`` :class:`ShadowFit` objects: per target, its shadow fits
    then its evaluation fits, half of each with the target in the training set. Same seeds, same
    training sets as the attack. Hand them to a fit cache (``synth_audit.study.fits``) and give the
    attack a ``samples`` function that reads them back.
    """
    targets = _challenges(challenges, targets, "plan_shadow_fits")
    return _plan(
        generator=generator,
        reference=reference,
        targets=targets,
        schema=schema,
        n_shadow=n_shadow,
        train_size=train_size,
        synth_size=synth_size,
        n_eval=n_eval,
        eval_population=eval_population,
        random_state=random_state,
    ).fits


def _featurize_samples(
    plan: _Plan,
    fitted: FittedFeaturizer,
    samples: SamplesFn,
    progress: ProgressCallback | None,
) -> list[ShadowTaskResult]:
    outputs = list(samples(plan.fits))
    if len(outputs) != len(plan.fits):
        raise ConfigError(
            f"The 'samples' function given to {plan.owner} returned {len(outputs)} sample(s) for "
            f"{len(plan.fits)} fits; it must return one per fit, in order."
        )
    fits_per_target = plan.n_shadow + plan.n_eval
    results: list[ShadowTaskResult] = []
    for i, out in enumerate(outputs):
        start = time.perf_counter()
        cpu = time.process_time()
        sample = out.sample if isinstance(out, FitOutput) else out
        if not isinstance(sample, pd.DataFrame):
            raise ConfigError(
                f"The 'samples' function given to {plan.owner} must return DataFrames (or "
                f"FitOutput). Item {i} is a {type(sample).__name__}."
            )
        features = fitted.transform(sample, plan.target_frames[i // fits_per_target])
        took = time.perf_counter() - start
        results.append(
            ShadowTaskResult(
                features=features,
                fit_seconds=out.fit_seconds if isinstance(out, FitOutput) else 0.0,
                sample_seconds=out.sample_seconds if isinstance(out, FitOutput) else 0.0,
                featurize_seconds=took,
                task_seconds=took,
                cpu_seconds=time.process_time() - cpu,
            )
        )
        if progress is not None:
            progress("shadow releases", i + 1, len(outputs))
    return results


def run_shadow_attack(
    *,
    generator: Any,
    reference: pd.DataFrame,
    challenges: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    schema: Schema | None = None,
    n_shadow: int = 20,
    train_size: int = 500,
    synth_size: int | None = None,
    n_eval: int = 10,
    eval_population: pd.DataFrame | None = None,
    classifier: Classifier = "rf",
    featurizer: Featurizer | None = None,
    executor: Executor | None = None,
    random_state: int | None = None,
    confidence_level: float = 0.95,
    progress: ProgressCallback | None = None,
    samples: SamplesFn | None = None,
) -> ShadowAttackRun:
    """Shadow-modelling attack with its features and timings; see :func:`shadow_attack`."""
    targets = _challenges(challenges, targets, "run_shadow_attack")
    wall_start = time.perf_counter()
    owner = "shadow_attack"

    def check_extra() -> None:
        if classifier not in CLASSIFIERS:
            raise ConfigError(
                f"The 'classifier' parameter of {owner} must be one of 'rf', 'logistic'. "
                f"Got {classifier!r}."
            )
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise ConfigError(
                f"The 'executor' parameter of {owner} must be a concurrent.futures.Executor (or "
                f"None to run inline). Got {type(executor).__name__}."
            )
        if samples is not None and not callable(samples):
            raise ConfigError(
                f"The 'samples' parameter of {owner} must be a function of the list of fits "
                f"(see plan_shadow_fits) or None. Got {type(samples).__name__}."
            )

    plan = _plan(
        generator=generator,
        reference=reference,
        targets=targets,
        schema=schema,
        n_shadow=n_shadow,
        train_size=train_size,
        synth_size=synth_size,
        n_eval=n_eval,
        eval_population=eval_population,
        random_state=random_state,
        owner=owner,
        check_extra=check_extra,
    )
    featurizer = ChallengeFeaturizer() if featurizer is None else featurizer
    template, frames, used = plan.template, plan.frames, plan.used
    shadow_pool, eval_pool = plan.shadow_pool, plan.eval_pool
    n_shadow, n_eval = plan.n_shadow, plan.n_eval
    fitted = featurizer.fit(pd.concat([shadow_pool, frames["targets"]], ignore_index=True), used)
    names = tuple(fitted.feature_names())
    target_ids = plan.target_ids
    clf_seeds = plan.clf_seeds
    plan_rows = [
        (i // (n_shadow + n_eval), f.phase, f.index, f.member) for i, f in enumerate(plan.fits)
    ]
    prepare_seconds = time.perf_counter() - wall_start

    if samples is not None:
        results = _featurize_samples(plan, fitted, samples, progress)
    else:
        tasks = [
            ShadowTask(
                generator=f.generator,
                train=f.train,
                target=plan.target_frames[plan_rows[i][0]],
                schema=f.schema,
                featurizer=fitted,
                synth_size=f.n_samples,
                fit_seed=f.fit_seed,
                sample_seed=f.sample_seed,
                holdout=f.holdout,
            )
            for i, f in enumerate(plan.fits)
        ]
        results = _submit(tasks, executor, progress)

    clf_start = time.perf_counter()
    shadow_x: dict[str, np.ndarray] = {}
    shadow_y: dict[str, np.ndarray] = {}
    eval_x: dict[str, np.ndarray] = {}
    eval_y: dict[str, np.ndarray] = {}
    scores: list[float] = []
    labels: list[int] = []
    ids: list[str] = []
    per_target: list[dict[str, Any]] = []
    for ti in range(len(targets)):
        rows = [(p, r) for p, r in zip(plan_rows, results, strict=True) if p[0] == ti]
        xs = np.vstack([r.features for p, r in rows if p[1] == "shadow"])
        ys = np.array([int(p[3]) for p, _ in rows if p[1] == "shadow"])
        xe = np.vstack([r.features for p, r in rows if p[1] == "eval"])
        ye = np.array([int(p[3]) for p, _ in rows if p[1] == "eval"])
        clf = _make_classifier(classifier, clf_seeds[ti]).fit(xs, ys)
        proba = clf.predict_proba(xe)[:, list(clf.classes_).index(1)]
        key = str(target_ids[ti])
        shadow_x[key], shadow_y[key], eval_x[key], eval_y[key] = xs, ys, xe, ye
        scores.extend(float(p) for p in proba)
        labels.extend(int(y) for y in ye)
        ids.extend(f"target:{key}/release:{j}" for j in range(len(ye)))
        per_target.append(
            {"target": key, "auc": float(_auc(proba, ye)), "classifier_seed": clf_seeds[ti]}
        )
    classifier_seconds = time.perf_counter() - clf_start

    gen_name = str(getattr(template, "name", type(template).__name__))
    params: dict[str, Any] = {
        "generator": gen_name,
        "generator_params": _plain(template.get_params()),
        "n_targets": len(targets),
        "n_challenges": len(targets),
        "n_shadow": n_shadow,
        "n_eval": n_eval,
        "train_size": plan.train_size,
        "synth_size": plan.synth_size,
        "classifier": classifier,
        "featurizer": _plain(
            dataclasses.asdict(featurizer)  # type: ignore[call-overload]
            if dataclasses.is_dataclass(featurizer)
            else repr(featurizer)
        ),
        "featurizer_class": type(featurizer).__name__,
        "features": list(names),
        "pools": plan.split,
        "shadow_pool_rows": len(shadow_pool),
        "eval_pool_rows": len(eval_pool),
        "dropped_target_duplicates": plan.dropped,
        "seed_scheme": (
            "SeedSequence(seed).spawn(1 + n_targets): [pool split, per target]; per target "
            "spawn(n_shadow + n_eval + 1): per fit generate_state(3) = (draw, fit, sample), "
            "last = classifier"
        ),
        "per_target": per_target,
    }
    result = MembershipResult.from_scores(
        np.asarray(scores),
        np.asarray(labels),
        attack="shadow",
        target=f"generator {gen_name}",
        record_ids=ids,
        confidence_level=confidence_level,
        seed=plan.entropy,
        params=params,
    )
    timings = ShadowTimings(
        n_fits=len(plan.fits),
        wall_seconds=time.perf_counter() - wall_start,
        prepare_seconds=prepare_seconds,
        fit_seconds=sum(r.fit_seconds for r in results),
        sample_seconds=sum(r.sample_seconds for r in results),
        featurize_seconds=sum(r.featurize_seconds for r in results),
        task_seconds=sum(r.task_seconds for r in results),
        classifier_seconds=classifier_seconds,
        task_cpu_seconds=sum(r.cpu_seconds for r in results),
    )
    _log.debug("shadow attack on %s: AUC %.3f, %d fits", gen_name, result.auc, len(plan.fits))
    return ShadowAttackRun(
        result=result,
        timings=timings,
        shadow_features=shadow_x,
        shadow_labels=shadow_y,
        eval_features=eval_x,
        eval_labels=eval_y,
        feature_names=names,
    )


def shadow_attack(
    *,
    generator: Any,
    reference: pd.DataFrame,
    challenges: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    schema: Schema | None = None,
    n_shadow: int = 20,
    train_size: int = 500,
    synth_size: int | None = None,
    n_eval: int = 10,
    eval_population: pd.DataFrame | None = None,
    classifier: Classifier = "rf",
    featurizer: Featurizer | None = None,
    executor: Executor | None = None,
    random_state: int | None = None,
    confidence_level: float = 0.95,
    progress: ProgressCallback | None = None,
    samples: SamplesFn | None = None,
) -> MembershipResult:
    """Black-box shadow-modelling membership attack on a generator (see the module docstring).

    ``generator``: an (unfitted or fitted) generator, or a registered name; it is cloned for every
    fit. ``reference``: real population records the attacker holds (split in half into shadow and
    evaluation pools unless ``eval_population`` is given). ``challenges``: the records attacked, one
    row each (not part of ``reference``; identical reference rows are dropped). Each training set
    has ``train_size`` records, each release ``synth_size`` (default ``train_size``); ``n_shadow``
    shadow releases (≥ 4) and ``n_eval`` evaluation releases (≥ 2) per target, half of each with
    the target. ``executor``: a :class:`concurrent.futures.Executor` for the fits (None: inline).

    Returns one :class:`MembershipResult` over ``n_targets × n_eval`` (target, release) pairs:
    score = the classifier's P(member). The same ``random_state`` gives the same result on any
    executor. Use :func:`run_shadow_attack` for the features and timings as well.

    ``samples``: instead of fitting, get every fit's sample from this function (see
    :data:`SamplesFn`; called once with the list :func:`plan_shadow_fits` gives for the same
    arguments, it returns the samples in that order, e.g. from a fit cache). The features,
    classifiers and result are then computed here; the same samples give the same result.
    """
    targets = _challenges(challenges, targets, "shadow_attack")
    return run_shadow_attack(
        generator=generator,
        reference=reference,
        challenges=targets,
        schema=schema,
        n_shadow=n_shadow,
        train_size=train_size,
        synth_size=synth_size,
        n_eval=n_eval,
        eval_population=eval_population,
        classifier=classifier,
        featurizer=featurizer,
        executor=executor,
        random_state=random_state,
        confidence_level=confidence_level,
        progress=progress,
        samples=samples,
    ).result


def _challenges(
    challenges: pd.DataFrame | None, targets: pd.DataFrame | None, owner: str
) -> pd.DataFrame:
    """The challenge records, given as ``challenges=`` or as the deprecated ``targets=``."""
    if challenges is not None and targets is not None:
        raise ConfigError(
            f"{owner} got both 'challenges' and 'targets' (the deprecated name of 'challenges'); "
            "pass the records attacked once, as challenges=."
        )
    if targets is not None:
        warnings.warn(
            f"The 'targets' parameter of {owner} is deprecated; pass the records attacked as "
            "challenges= (a target is what is attacked, the generator).",
            DeprecationWarning,
            stacklevel=3,
        )
        return targets
    if challenges is None:
        raise ConfigError(
            f"{owner} needs the records to attack: pass challenges= (a DataFrame, one row per "
            "challenge record)."
        )
    return challenges


#: Deprecated names of :class:`ChallengeFeaturizer` and :class:`FittedChallengeFeaturizer`.
TargetFeaturizer = ChallengeFeaturizer
FittedTargetFeaturizer = FittedChallengeFeaturizer
