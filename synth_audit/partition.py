"""One audit spread over an executor: the per-record neighbour searches split over query records.

The attacks of a release audit (linkability, attribute inference, the DCR diagnostic and the
no-box membership attacks) spend their time finding, for each query record, its nearest synthetic
records. Each query's answer depends only on that query and the candidates, so the queries can be
cut into slices and searched anywhere. Inside :func:`partition_queries`, the searches of
:mod:`synth_audit.encoding` (:func:`~synth_audit.encoding.nearest_gower`,
:func:`~synth_audit.encoding.nearest_gower_multi`, :func:`~synth_audit.encoding.knn_gower` and
:func:`~synth_audit.encoding.nearest_neighbors`) do exactly that: slices of at least ``min_rows``
queries go to the executor as tasks (a local process pool, a Dask cluster, anything with the
:class:`concurrent.futures.Executor` interface), and the answers are put back in query order.

The results are identical to the unsplit search: every search breaks ties canonically (or, for a
tree, by the tree built on the candidates alone), and each slice searches the same candidates with
the same encoder. ``tests/test_partition.py`` checks this on mixed, missing-heavy and
high-cardinality tables.

On a Dask client executor, large arguments (the candidate table) are scattered to the workers
once per search instead of being sent with every task. Tasks run single-threaded (``n_jobs=1``):
the executor's workers are the parallelism.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synth_audit.errors import ConfigError

__all__ = [
    "QueryPartition",
    "dask_worker_executor",
    "executor_slots",
    "partition_queries",
    "partitioned",
]

#: Below this many queries per slice a task costs more to ship than it saves.
MIN_ROWS = 2_000
#: Slices per worker: enough that the slices left at the end of a search (their costs differ)
#: keep every worker busy, few enough that each slice's fixed cost (shipping the queries,
#: grouping the candidates) stays small.
TASKS_PER_SLOT = 2
#: Arguments larger than this are scattered once to Dask workers instead of sent with each task.
_SCATTER_BYTES = 1 << 20


@dataclass(frozen=True)
class QueryPartition:
    """Where and how finely the searches are split: ``n_tasks`` slices of at least ``min_rows``
    queries each, submitted to ``executor``."""

    executor: Executor
    n_tasks: int
    min_rows: int = MIN_ROWS


_ACTIVE: ContextVar[QueryPartition | None] = ContextVar("synth_audit_query_partition", default=None)


def executor_slots(executor: Executor) -> int:
    """How many tasks ``executor`` runs at once: a pool's workers, a Dask cluster's threads, 1."""
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            workers = client.scheduler_info().get("workers", {}).values()
            return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
        except Exception:  # an unreachable scheduler fails later, with its own message
            return 1
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


@contextmanager
def partition_queries(
    executor: Executor | None, *, n_tasks: int | None = None, min_rows: int = MIN_ROWS
) -> Iterator[QueryPartition | None]:
    """Inside this block, neighbour searches over at least ``2 * min_rows`` queries are split
    into at most ``n_tasks`` slices (default: :data:`TASKS_PER_SLOT` per worker of the executor,
    so that a slow slice does not leave the others idle) and run as tasks on ``executor``. ``executor=None`` changes
    nothing (the searches run in this process, in threads)."""
    if executor is None:
        yield None
        return
    if n_tasks is None:
        n_tasks = TASKS_PER_SLOT * executor_slots(executor)
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
        raise ConfigError(f"The number of search tasks must be an int >= 1. Got {n_tasks!r}.")
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise ConfigError(f"The rows per search task must be an int >= 1. Got {min_rows!r}.")
    part = QueryPartition(executor, n_tasks, min_rows)
    token = _ACTIVE.set(part)
    try:
        yield part
    finally:
        _ACTIVE.reset(token)


def _rows(query: Any, lo: int, hi: int) -> Any:
    return query.iloc[lo:hi] if isinstance(query, pd.DataFrame) else query[lo:hi]


def _run_slice(fn: Callable[..., Any], query: Any, *args: Any, **kwargs: Any) -> Any:
    """One task: the search on one slice of queries, never split again."""
    token = _ACTIVE.set(None)
    try:
        return fn(query, *args, **kwargs)
    finally:
        _ACTIVE.reset(token)


def _nbytes(obj: Any) -> int:
    if isinstance(obj, pd.DataFrame):
        return int(obj.memory_usage(index=False, deep=False).sum())
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    return 0


def _share(executor: Executor, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """On a Dask client executor, large arguments scattered to every worker once (the tasks get
    futures, which Dask resolves on the worker); elsewhere the arguments themselves."""
    client = getattr(executor, "_client", None)
    if client is None or type(executor).__module__ != "distributed.cfexecutor":
        return args
    return tuple(
        client.scatter([a], broadcast=True, hash=False)[0] if _nbytes(a) > _SCATTER_BYTES else a
        for a in args
    )


def partitioned(fn: Callable[..., Any], query: Any, *args: Any, **kwargs: Any) -> Any | None:
    """``fn(query, *args, **kwargs)`` split over slices of ``query`` (a DataFrame or an array,
    by rows) on the active partition's executor, with every returned array concatenated back in
    query order; ``None`` when no partition is active or ``query`` is too small to split (the
    caller then searches itself). ``fn`` must return a tuple of arrays whose first axis is the
    query's, and must be importable by name (a module-level function)."""
    part = _ACTIVE.get()
    n = len(query)
    if part is None or n < 2 * part.min_rows:
        return None
    k = min(part.n_tasks, n // part.min_rows)
    if k < 2:
        return None
    bounds = [int(b) for b in np.linspace(0, n, k + 1)]
    shared = _share(part.executor, args)
    kwargs = {**kwargs, "n_jobs": 1}
    futures = [
        part.executor.submit(_run_slice, fn, _rows(query, lo, hi), *shared, **kwargs)
        for lo, hi in itertools.pairwise(bounds)
    ]
    parts = [f.result() for f in futures]
    return tuple(np.concatenate([p[i] for p in parts], axis=0) for i in range(len(parts[0])))


@contextmanager
def dask_worker_executor(n_queries: int) -> Iterator[Executor | None]:
    """Inside a task on a Dask worker, and for an audit with at least ``n_queries >= 2 *
    MIN_ROWS`` query records, an executor on the same cluster, so that a study run's own audit is
    spread over the cluster (the task secedes from its worker's thread pool while its slices run,
    and rejoins at the end); ``None`` elsewhere (a local process pool cannot nest tasks)."""
    if n_queries < 2 * MIN_ROWS:
        yield None
        return
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):  # not on a Dask worker
        yield None
        return
    with worker_client() as client:
        yield client.get_executor(pure=False)
