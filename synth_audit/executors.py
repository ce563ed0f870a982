"""Where a study's runs execute: anything with the :class:`concurrent.futures.Executor` interface.

:func:`make_executor` turns the ``--executor`` text into a context manager that yields an executor:

``"local"`` (or ``None``)
    A :class:`~concurrent.futures.ProcessPoolExecutor` with the *spawn* start method (a clean
    interpreter per worker: no inherited locks, database connections or torch state) and
    :func:`init_worker` as initializer, which limits every numerical library to one thread and makes
    the worker exit when the process that started it dies (a killed study leaves no orphans behind).
``"dask://local"``
    A :class:`dask.distributed.LocalCluster` of worker processes with one thread each, and a
    client's executor on it.
``"dask://host:port"``
    A client of the Dask scheduler at ``tcp://host:port`` (``tls://`` addresses are passed through
    as ``dask+tls://host:port``). The workers must have synth-audit installed, see the study's data
    file and the store at the same path or URL.
``"inline"``
    Runs each task in the calling process when it is submitted (for debugging and tests).

Tasks (:func:`synth_audit.study.runner.execute_run`) return small dicts and write their bulk
artefacts to the store themselves, so nothing large crosses the executor. Each task also calls
:func:`limit_threads` itself, so a remote Dask worker runs one thread per task as well.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError

__all__ = [
    "THREAD_ENV_VARS",
    "InlineExecutor",
    "check_workers",
    "init_worker",
    "limit_threads",
    "make_executor",
    "single_threaded",
    "thread_limit",
    "with_resources",
]

_log = get_logger(__name__)

#: Environment variables that cap the thread pools of BLAS, OpenMP and friends.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_EXAMPLES = "'local', 'dask://local' or 'dask://HOST:PORT' (e.g. dask://scheduler:8786)"


_CONTROLLER: tuple[int, Any] | None = None


def _threadpools() -> Any:
    """A :class:`threadpoolctl.ThreadpoolController` of the libraries loaded now, or None.

    Building one walks every shared library of the process (about 3-15 ms); a fit task limits its
    threads twice, so that was a share of a short fit. The controller is kept and built again only
    when modules were imported since (a new extension module may bring a new BLAS or OpenMP).
    """
    global _CONTROLLER
    n_modules = len(sys.modules)
    if _CONTROLLER is not None and _CONTROLLER[0] == n_modules:
        return _CONTROLLER[1]
    try:
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
    except Exception:  # threadpoolctl missing or a library it cannot inspect: env vars still apply
        _log.debug("threadpoolctl could not inspect the thread pools", exc_info=True)
        return None
    _CONTROLLER = (len(sys.modules), controller)
    return controller


def limit_threads(n: int = 1) -> None:
    """Limit this process's numerical libraries to ``n`` threads (idempotent).

    Sets the OpenMP/BLAS environment variables (read by libraries loaded later, torch included),
    caps the pools already loaded through threadpoolctl, and torch's intra-op pool if torch is
    imported.
    """
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(n)
    controller = _threadpools()
    if controller is not None:
        try:
            controller.limit(limits=n)
        except Exception:
            _log.debug("threadpoolctl could not limit the thread pools", exc_info=True)
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            if torch.get_num_threads() != n:
                torch.set_num_threads(n)


@contextlib.contextmanager
def thread_limit(n: int = 1) -> Iterator[None]:
    """Numerical libraries (BLAS/OpenMP through threadpoolctl, torch) at ``n`` threads for the
    block; the previous limits are restored after it."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    controller = _threadpools()
    limiter = controller.limit(limits=n) if controller is not None else contextlib.nullcontext()
    with limiter:
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One thread and no helper processes for the block: :func:`limit_threads` and joblib's
    sequential backend (CTGAN's data transformer, for one, runs ``joblib.Parallel(n_jobs=-1)``,
    whose loky worker processes would otherwise outlive the task by minutes and keep the pool's
    worker from exiting)."""
    limit_threads(1)
    try:
        from joblib import parallel_config
    except ImportError:  # pragma: no cover - joblib comes with scikit-learn
        yield
        return
    with parallel_config(backend="sequential"):
        yield


def _watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    while True:
        time.sleep(interval_s)
        if os.getppid() != parent_pid:
            # The study process is gone (killed): stop at once instead of finishing a run nobody
            # waits for. The run stays "running" without a live worker; the next `study run`
            # re-queues it.
            os._exit(1)


def init_worker(parent_pid: int | None = None, n_threads: int = 1) -> None:
    """Initializer of the local pool's workers: one thread per library, die with the parent."""
    limit_threads(n_threads)
    logging.getLogger("synth_audit").setLevel(logging.WARNING)
    if parent_pid is not None:
        threading.Thread(
            target=_watch_parent, args=(parent_pid,), name="synth-audit-parent-watch", daemon=True
        ).start()


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling thread (debugging, tests)."""

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future[Any] = Future()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


def default_workers() -> int:
    """Worker processes when none is given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_workers(max_workers: int | None) -> int:
    """``max_workers`` checked (an int >= 1), or the CPUs available when it is None."""
    if max_workers is None:
        return default_workers()
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ConfigError(f"The number of workers must be an int >= 1. Got {max_workers!r}.")
    return max_workers


@contextlib.contextmanager
def _local(max_workers: int | None) -> Iterator[Executor]:
    pool = ProcessPoolExecutor(
        max_workers=check_workers(max_workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(os.getpid(), 1),
    )
    try:
        yield pool
    except BaseException:
        # Interrupted or failed: do not wait for the runs in flight; stop the workers. Their runs
        # stay "running" with a dead worker and are re-queued by the next `study run`.
        terminate_pool(pool)
        raise
    else:
        pool.shutdown(wait=True)


def terminate_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued calls and terminate the worker processes of ``pool`` now."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def _dask_modules() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            f"The Dask executor needs dask.distributed, which could not be imported ({exc}). "
            'Install it with: pip install "dask[distributed]"'
        ) from None
    return distributed


#: Dask settings of a ``dask://local`` cluster's workers. It has no dashboard, so the workers'
#: statistical profiler (a thread sampling every task's stack every 10 ms) only costs CPU: with
#: as many workers as cores it took about 5 % from the work (a split neighbour search on 2 cores
#: ran 1.71x faster on 2 workers than on 1 with it, 1.84x without).
_LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
}


@contextlib.contextmanager
def _dask(address: str | None, max_workers: int | None, timeout_s: float) -> Iterator[Executor]:
    distributed = _dask_modules()
    cluster = None
    if address is None:
        import dask

        with warnings.catch_warnings(), dask.config.set(_LOCAL_CLUSTER_CONFIG):
            # "Port 8787 is already in use": the scheduler's HTTP endpoint moves to a free port.
            warnings.filterwarnings("ignore", message=".*already in use.*")
            cluster = distributed.LocalCluster(
                n_workers=check_workers(max_workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                env={var: "1" for var in THREAD_ENV_VARS},
                # One thread per worker, declared, so that tasks can ask for it (fit tasks do).
                resources={"threads": 1},
            )
        target: Any = cluster
    else:
        target = address
    try:
        try:
            client = distributed.Client(target, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"Cannot reach the Dask scheduler at {address!r}: {exc}. Start it with "
                "`dask scheduler` (and workers with `dask worker ADDRESS`), check the host and "
                f"port, or use --executor local. Forms: {_EXAMPLES}."
            ) from None
        _warm_imports(client)
        try:
            executor = client.get_executor(pure=False)
            try:
                yield executor
            except BaseException:
                with contextlib.suppress(Exception):
                    client.cancel(list(getattr(executor, "_futures", ())), force=True)
                raise
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


#: Imported on every Dask worker before it gets work (see :func:`_warm_imports`).
WARM_MODULES = ("numpy", "pandas", "synth_audit.encoding", "synth_audit.audits")


def _import_modules(names: tuple[str, ...] = WARM_MODULES) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


def _warm_imports(client: Any) -> None:
    """Import pandas and the engine on every worker of ``client``'s cluster, now and on workers
    that join later. A fresh worker otherwise imports pandas while deserialising: a task and a
    scattered DataFrame arriving together import it from two threads at once, which fails with
    "partially initialized module 'pandas._libs.lib'" (seen with an audit's first tasks)."""
    try:
        from distributed.diagnostics.plugin import WorkerPlugin
    except ImportError:  # pragma: no cover - an old distributed: warm the workers there now
        client.run(_import_modules)
        return

    class WarmImports(WorkerPlugin):  # type: ignore[misc]
        name = "synth-audit-warm-imports"

        def setup(self, worker: Any) -> None:
            _import_modules()

    try:
        client.register_plugin(WarmImports())
    except Exception:  # a scheduler that refuses plugins: warm the workers there now
        _log.debug("could not register the warm-imports plugin", exc_info=True)
        with contextlib.suppress(Exception):
            client.run(_import_modules)


def with_resources(executor: Executor, resources: Mapping[str, float]) -> Executor:
    """``executor``, submitting with Dask ``resources=`` where that is supported.

    On a Dask client executor whose cluster has a worker that declares every resource asked for
    with a non-zero amount (``{"threads": 1, "gpus": 0}`` asks for threads only), an executor on
    the same client whose tasks carry those resources; otherwise ``executor`` itself (a local pool,
    inline, or Dask workers that declare nothing: restricting tasks to resources no worker has
    would leave them waiting forever).
    """
    wanted = {str(k): float(v) for k, v in resources.items() if v}
    client = getattr(executor, "_client", None)
    if not wanted or client is None or type(executor).__module__ != "distributed.cfexecutor":
        return executor
    try:
        workers = client.scheduler_info().get("workers", {}).values()
        declared = [dict(w.get("resources") or {}) for w in workers]
    except Exception:  # an old or unreachable scheduler: submit as before
        _log.debug("could not read the Dask workers' resources", exc_info=True)
        return executor
    if not any(all(d.get(k, 0) >= v for k, v in wanted.items()) for d in declared):
        return executor
    kwargs = dict(getattr(executor, "_kwargs", {}))
    kwargs["resources"] = wanted
    return type(executor)(client, **kwargs)  # type: ignore[call-arg]


def _parse(spec: str | None) -> tuple[str, str | None]:
    if spec is None or spec.strip().lower() in ("", "local", "process", "processes"):
        return "local", None
    text = spec.strip()
    if text.lower() == "inline":
        return "inline", None
    if text.lower().startswith("dask://"):
        rest = text[len("dask://") :].rstrip("/")
        if rest.lower() == "local":
            return "dask", None
        host, sep, port = rest.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(
                f"The executor {spec!r} has no scheduler address of the form HOST:PORT. Use "
                f"{_EXAMPLES}."
            )
        return "dask", f"tcp://{host}:{port}"
    if text.lower().startswith("dask+tls://"):
        return "dask", "tls://" + text[len("dask+tls://") :]
    raise ConfigError(f"Unknown executor {spec!r}. Use {_EXAMPLES}.")


def make_executor(
    spec: str | None = None,
    *,
    max_workers: int | None = None,
    connect_timeout_s: float = 20.0,
) -> contextlib.AbstractContextManager[Executor]:
    """A context manager yielding the executor named by ``spec`` (see the module docstring).

    ``max_workers`` is the number of worker processes of a local pool or a ``dask://local``
    cluster (default: the CPUs available); it is ignored for a remote scheduler, which is given
    ``connect_timeout_s`` seconds to answer. Anything else is a ConfigError that lists the forms. On leaving the block normally the executor waits for its
    tasks; on an exception (Ctrl-C included) it cancels them and stops its workers.
    """
    kind, address = _parse(spec)
    if kind == "inline":
        check_workers(max_workers)
        return contextlib.nullcontext(InlineExecutor())
    if kind == "local":
        return _local(max_workers)
    return _dask(address, max_workers, connect_timeout_s)


def describe_executor(spec: str | None) -> str:
    """A short human description of an executor spec, for progress lines."""
    kind, address = _parse(spec)
    if kind == "dask":
        return "Dask LocalCluster" if address is None else f"Dask scheduler {address}"
    return {"local": "local process pool", "inline": "this process"}[kind]
