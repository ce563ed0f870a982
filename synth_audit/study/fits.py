"""Fit tasks: shadow and reference fits as small cached tasks on the study executor.

A shadow-modelling attack (and, next, LiRA/RMIA reference models) needs many fits of the *same
recipe* on chosen training subsets. Each is a :class:`FitTask`: a top-level, picklable job that
:func:`run_fit_task` runs in any worker (local process pool, Dask, inline) and whose output, the
fitted clone's sample, goes to the store's **fit cache** (table ``fits``, Parquet files under
``<artefact root>/fits/``). The key of a task is the SHA-256 of

* the **recipe**: target kind, name, estimator class, parameters (canonical JSON), the schema the
  fit is given, the number of records sampled, and the installed versions of the modelling
  libraries (:func:`library_versions`: SDV and its model libraries, synthcity, torch, and the
  package of a plugin estimator), so an upgrade refits instead of reusing stale fits;
* the **subset**: a content hash of the training rows *in the order they are given to fit* (and of
  the holdout, for a generator that takes one). Each row is identified by the hash of its values
  (``pandas.util.hash_pandas_object``), so a subset means the same in every process and study.
  The order is hashed too (not the sorted ids) because generators may depend on it, and the
  shadow attack draws it from its seed: two orders are two fits;
* the **seeds** of the fit and of the sampling.

A fit already in the cache is not redone: not by a re-run of the study, not by another run or
study that asks for the same key. Two workers that fit the same key at once leave one entry (the
first writer wins, :meth:`~synth_audit.store.Store.put_fit`).

The runner (:func:`synth_audit.study.runner.run_study`) submits the fit tasks of each pending run as
soon as they are planned, so they spread over every worker, and each run when its own fits are
done; the runs read their fits from the cache
(:func:`cached_samples`); a run whose fits are missing (``synth-audit worker`` runs, a fit task
that failed) fits them itself, and caches them.

Resources. :attr:`FitTask.resources` (``{"threads": 1, "gpus": 0}``) is passed to Dask as
``resources=`` when the cluster's workers declare those resources (:func:`with_resources`); a
local pool runs one task per worker process, one thread each, as before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from synth_audit._logging import get_logger
from synth_audit.errors import StoreError
from synth_audit.executors import single_threaded, with_resources
from synth_audit.membership.shadow import FitOutput, ShadowFit, fit_and_sample
from synth_audit.store import Store, canonical_json, shared_store

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CachedSamples",
    "FitRecipe",
    "FitTask",
    "cache_fit_output",
    "cached",
    "cached_samples",
    "fit_tasks",
    "run_fit_task",
    "submit_fit_tasks",
]

_log = get_logger(__name__)


def _param_default(obj: object) -> Any:
    for attr in ("item", "tolist"):
        convert = getattr(obj, attr, None)
        if callable(convert):
            return convert()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    # Anything else by type and repr: a repr with an address makes the fit unshareable, never
    # shared by mistake.
    return f"<{type(obj).__module__}.{type(obj).__qualname__}: {obj!r}>"


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_param_default)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FitRecipe:
    """What is fitted, apart from the data and the seeds (hashable; JSON fields as text)."""

    kind: str
    name: str
    estimator: str  # module.qualname of the estimator's class
    params_json: str
    schema_json: str
    n_samples: int
    #: versions of the modelling libraries a fit depends on (:func:`library_versions`), so an
    #: upgrade of SDV, synthcity or torch refits instead of reusing fits of the old version
    versions_json: str = "{}"

    @classmethod
    def of(
        cls, estimator: Any, schema: Any, n_samples: int, *, kind: str = "tabular_generator"
    ) -> FitRecipe:
        params = estimator.get_params() if hasattr(estimator, "get_params") else {}
        cls_ = type(estimator)
        return cls(
            kind=kind,
            name=str(getattr(estimator, "name", cls_.__name__)),
            estimator=f"{cls_.__module__}.{cls_.__qualname__}",
            params_json=_json(dict(params)),
            schema_json=_json(schema.to_dict() if hasattr(schema, "to_dict") else schema),
            n_samples=int(n_samples),
            versions_json=_json(library_versions(cls_.__module__)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "estimator": self.estimator,
            "params": json.loads(self.params_json),
            "schema": json.loads(self.schema_json),
            "n_samples": self.n_samples,
            "versions": json.loads(self.versions_json),
        }

    def sha256(self) -> str:
        return _sha(canonical_json(self.to_dict()))


#: Distributions whose version is part of every fit recipe: the modelling libraries of the
#: built-in generators (SDV and the libraries it fits with, synthcity, torch).
FIT_LIBRARIES = ("sdv", "rdt", "copulas", "ctgan", "synthcity", "torch")


@functools.cache
def library_versions(module: str = "") -> dict[str, str | None]:
    """Installed versions of :data:`FIT_LIBRARIES` (None when not installed) and, when ``module``'s
    top-level package is an installed distribution of that name (a plugin's package), its version;
    read from the package metadata without importing anything (cached per process)."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in FIT_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    root = module.partition(".")[0]
    if root and root not in out:
        with contextlib.suppress(metadata.PackageNotFoundError, ValueError):
            out[root] = metadata.version(root)
    return out


def subset_hash(train: pd.DataFrame, holdout: pd.DataFrame | None = None) -> str:
    """SHA-256 of the training rows' content hashes in fit order (and of the holdout's)."""
    from synth_audit.data import fingerprint

    parts = {"train": fingerprint(train)["sha256"], "n_train": len(train)}
    if holdout is not None:
        parts["holdout"] = fingerprint(holdout)["sha256"]
    return _sha(canonical_json(parts))


@dataclass(frozen=True)
class FitTask:
    """One fit: ``recipe`` on the training ``subset`` (its hash) with ``seed`` / ``sample_seed``.

    ``fit`` carries what the worker needs to run it (the estimator, the training rows); it is not
    part of the task's identity, :meth:`key` is.
    """

    recipe: FitRecipe
    subset: str
    seed: int
    sample_seed: int
    fit: ShadowFit = field(compare=False, repr=False)

    #: What one fit task occupies: one thread, no GPU (passed to Dask as ``resources=``).
    resources: ClassVar[Mapping[str, int]] = {"threads": 1, "gpus": 0}

    @classmethod
    def of(cls, fit: ShadowFit, *, kind: str = "tabular_generator") -> FitTask:
        return cls(
            recipe=FitRecipe.of(fit.generator, fit.schema, fit.n_samples, kind=kind),
            subset=subset_hash(fit.train, fit.holdout),
            seed=int(fit.fit_seed),
            sample_seed=int(fit.sample_seed),
            fit=fit,
        )

    def key(self) -> str:
        """SHA-256 of the recipe's hash, the subset hash and the two seeds."""
        return _sha(
            canonical_json(
                {
                    "recipe": self.recipe.sha256(),
                    "subset": self.subset,
                    "seed": self.seed,
                    "sample_seed": self.sample_seed,
                }
            )
        )


def fit_tasks(fits: Iterable[ShadowFit], *, kind: str = "tabular_generator") -> list[FitTask]:
    """One :class:`FitTask` per fit (e.g. of :func:`~synth_audit.membership.shadow.plan_shadow_fits`)."""
    return [FitTask.of(f, kind=kind) for f in fits]


def cache_fit_output(st: Store, task: Any, out: FitOutput) -> None:
    """Put ``out`` in the fit cache under ``task.key()``, with the task's recipe, subset and seeds
    (a :class:`FitTask`, or any task with the same attributes, e.g. a panel shadow fit)."""
    from synth_audit.study.provenance import worker_id

    st.put_fit(
        task.key(),
        recipe=task.recipe.to_dict(),
        subset_hash=task.subset,
        seed=task.seed,
        sample_seed=task.sample_seed,
        sample=out.sample,
        worker_id=worker_id(),
        fit_seconds=out.fit_seconds,
        sample_seconds=out.sample_seconds,
    )


def run_fit_task(store: Store | str, task: Any) -> str:
    """Fit ``task`` and cache its sample in ``store`` unless it is cached already; return its key.

    ``task`` is a :class:`FitTask` (a generator's shadow fit) or any picklable object with
    ``key()`` (64 hex digits, the fit cache's key) and ``run(store)`` (fit and ``put_fit`` under
    that key), as a target kind's ``plan_fits`` returns; optional ``resources`` as
    :attr:`FitTask.resources`.

    A top-level function of picklable arguments, so any executor (process pool, Dask) can run it.
    One thread inside (BLAS/OpenMP, torch, joblib sequential).
    """
    st = shared_store(store)
    key = task.key()
    if cached(st, key) is not None:
        return key
    if not isinstance(task, FitTask):
        # A target kind's own fit task (``plan_fits``): it fits and caches under its key itself.
        with single_threaded():
            task.run(st)
        return key
    with single_threaded():
        out = fit_and_sample(task.fit)
    cache_fit_output(st, task, out)
    return key


def cached(store: Store | str, key: str) -> pd.DataFrame | None:
    """The cached sample of fit ``key``, or None when it is not cached (or its file is damaged,
    which is logged: the fit is then redone rather than trusted)."""
    st = shared_store(store)
    if st.get_fit(key) is None:
        return None
    try:
        return st.read_fit(key)
    except StoreError as exc:
        _log.warning("%s", exc)
        return None


class CachedSamples:
    """A ``samples`` function for :func:`~synth_audit.membership.shadow.shadow_attack` that reads
    each fit from the store's fit cache, fitting (and caching) the missing ones here.

    Every sample is read back from the cache, so a fit gives the attack the same data whether it
    was fitted now or by a fit task earlier. ``hits`` and ``fitted`` count what a call did.
    """

    def __init__(self, store: Store | str, *, kind: str = "tabular_generator") -> None:
        self.store = shared_store(store)
        self.kind = kind
        self.hits = 0
        self.fitted = 0

    def __call__(self, fits: Sequence[ShadowFit]) -> list[FitOutput]:
        out: list[FitOutput] = []
        for fit in fits:
            task = FitTask.of(fit, kind=self.kind)
            key = task.key()
            sample = cached(self.store, key)
            if sample is not None:
                self.hits += 1
                out.append(FitOutput(sample=sample))
                continue
            made = fit_and_sample(fit)
            self.fitted += 1
            try:
                cache_fit_output(self.store, task, made)
                sample = self.store.read_fit(key)
            except Exception as exc:  # a sample Parquet cannot hold: use it uncached
                _log.warning("fit %s could not be cached (%s); using it uncached", key, exc)
                sample = made.sample
            out.append(FitOutput(sample, made.fit_seconds, made.sample_seconds))
        return out


def cached_samples(store: Store | str, *, kind: str = "tabular_generator") -> CachedSamples:
    """A :class:`CachedSamples` on ``store``."""
    return CachedSamples(store, kind=kind)


def submit_fit_tasks(
    executor: Executor,
    store: Store | str,
    tasks: Iterable[Any],
    *,
    executors: dict[tuple[tuple[str, float], ...], Executor] | None = None,
) -> dict[Any, str]:
    """Submit the tasks that are not cached yet (one per key) to ``executor``.

    Returns ``{future: key}``; each future's result is the key (or the exception of a fit that
    failed). On Dask, tasks declare :attr:`FitTask.resources` when the workers know them.
    ``executors`` keeps, across calls, the executor of each set of resources (a caller that
    submits one task per call passes the same dict each time).
    """
    st = shared_store(store)
    futures: dict[Any, str] = {}
    seen: set[str] = set()
    # with_resources asks a Dask scheduler for its workers: once per kind of task, not per task
    executors = {} if executors is None else executors
    for task in tasks:
        key = task.key()
        if key in seen or st.get_fit(key) is not None:
            continue
        seen.add(key)
        wanted = dict(getattr(task, "resources", FitTask.resources))
        kind = tuple(sorted((str(k), float(v)) for k, v in wanted.items()))
        if kind not in executors:
            executors[kind] = with_resources(executor, wanted)
        futures[executors[kind].submit(run_fit_task, store, task)] = key
    return futures
