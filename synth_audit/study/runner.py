"""Executing a study: every run recorded in the store exactly once, resumable after a kill.

:func:`run_study` records the study and all its runs (idempotently: a run is identified by its key),
skips the runs already done, re-queues the failed ones and those whose worker died, and submits the
rest to an executor. :func:`execute_run` is the task: it runs in a worker process, reads what it needs
from the store, writes its results and artefacts there itself and returns a small dict.

One run, step by step (seeds are children of the run's seed, ``SeedSequence(seed).spawn(5)``: fit,
sample, audit, membership, shadow; all are recorded in the run's summary):

1. the study's data split (:mod:`synth_audit.study.data`, cached per process); its fingerprints must
   equal the ones recorded with the run, else the run fails (the data file changed);
2. the generator is fitted on ``train``; a generator that needs real non-training records (the
   ``leaky`` baseline) gets the ``holdout`` split, which is disjoint from ``control`` and
   ``reference``, so a leaky release never contains the non-members it is tested against;
3. ``synthetic_size`` rows (default: as many as ``train``) are sampled and stored as the Parquet
   artefact ``synthetic``;
4. the release audit (:func:`synth_audit.evaluate.evaluate_release`: singling out, linkability,
   inference, DCR diagnostic, utility) with ``train``, the release and ``control``;
5. the no-box membership attacks: members = ``train``, non-members = ``control``, the attacker's
   population sample = ``reference``; with ``[membership.shadow]``, shadow modelling too, on
   samples read from the store's fit cache (:mod:`synth_audit.study.fits`): :func:`run_study`
   submits each pending run's fit tasks to the executor as soon as they are planned (so they
   spread over every worker) and submits the run itself when its own fits are done, so runs
   execute while other runs' fits finish; a run fits any that are still missing itself;
6. per-record outcomes (artefacts ``per_record`` and ``membership_exposed``) and the report
   (artefact ``report``: one row, the report's JSON), then the results and a summary in one
   transaction (:meth:`Store.finish_run`).

A failure at any step (a :class:`~generators.GeneratorFitError` or anything else) marks the run
failed with its message; the study goes on. While a run executes, a background thread sends
heartbeats (every :data:`HEARTBEAT_S` seconds) with its progress.

Result names (one row each in the store): ``<attack>.risk`` (``singling_out_univariate.risk``,
``singling_out_multivariate.risk``, ``linkability.risk``, ``inference[<secret>].risk``),
``diagnostics.dcr.share_closer_to_train``, ``utility.<metric>`` and ``utility.score``,
``membership.<attack>.auc``, ``membership.<attack>.tpr_at_<fpr>_fpr`` (fpr 0.001, 0.01, 0.1) and
``membership.<attack>.epsilon_lb`` (attacks ``dcr``, ``domias``, ``shadow``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth_audit._logging import get_logger
from synth_audit.errors import ConfigError, StoreError, SynthAuditError
from synth_audit.executors import limit_threads, single_threaded
from synth_audit.progress import ProgressCallback, silent
from synth_audit.store import RunRecord, Store, shared_store
from synth_audit.study.data import StudyData, load_study_data
from synth_audit.study.provenance import code_version, worker_id
from synth_audit.study.rows import membership_rows, report_rows
from synth_audit.study.spec import RunSpec, StudySpec, expand
from synth_audit.study.tasks import _spec_of, execute_task

if TYPE_CHECKING:
    pass

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "StudyOutcome",
    "code_version",
    "execute_pending",
    "execute_run",
    "membership_rows",
    "record_runs",
    "report_rows",
    "run_study",
    "worker_id",
]

_log = get_logger(__name__)

#: Seconds between two heartbeats of a running run.
HEARTBEAT_S = 5.0
#: A running run without a heartbeat for this long is taken as dead (its worker on another host).
STALE_AFTER_S = 120.0


# --------------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _worker_dead(run: RunRecord, *, stale_after_s: float, now: datetime) -> str | None:
    """Why a running run's worker is dead, or None if it may be alive."""
    wid = run.worker_id or ""
    host, _, pid = wid.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
        return f"its worker process {wid} is no longer running"
    last = run.heartbeat_at or run.started_at or run.created_at
    age = (now - last).total_seconds()
    if age > stale_after_s:
        return f"its worker {wid or '(unknown)'} sent no heartbeat for {age:.0f} s"
    return None


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# The task
# --------------------------------------------------------------------------------------------------


class _Heartbeat:
    """Sends the run's heartbeat with its latest progress from a background thread."""

    def __init__(self, store: Store, run_id: str, interval_s: float) -> None:
        self.store, self.run_id, self.interval_s = store, run_id, interval_s
        self.progress = 0.0
        self.message = "starting"
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"heartbeat-{run_id[:8]}", daemon=True
        )

    def update(self, progress: float, message: str) -> None:
        self.progress = min(1.0, max(0.0, float(progress)))
        self.message = message

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.store.heartbeat(self.run_id, progress=self.progress, message=self.message)
            except StoreError as exc:  # the run was expired or finished elsewhere
                self.lost = str(exc)
                return
            except Exception:  # a transient database problem: try again next time
                _log.debug("heartbeat of run %s failed", self.run_id, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def execute_run(store: Store | str, run_id: str) -> dict[str, Any]:
    """Execute one stored run; a top-level function, so any executor can ship it to a worker.

    Returns a small dict: ``run_id``, ``status`` ("done", "failed" or "skipped": done already or
    taken by another worker), ``seconds``, and ``risk``/``utility`` or ``error``. Never raises for
    a failure of the run itself; that is recorded in the store.
    """
    limit_threads(1)
    st = shared_store(store)
    run = st.get_run(run_id)
    if run.status == "done":
        return {"run_id": run_id, "status": "skipped", "reason": "done already", "seconds": 0.0}
    try:
        run = st.start_run(run_id, worker_id())
    except StoreError as exc:
        return {"run_id": run_id, "status": "skipped", "reason": str(exc), "seconds": 0.0}
    return execute_claimed_run(st, run)


def execute_claimed_run(store: Store | str, run: RunRecord) -> dict[str, Any]:
    """Execute a run this process has already moved to running (``claim_run``/``start_run``).

    What ``synth-audit worker`` calls after :meth:`Store.claim_run`; same result as
    :func:`execute_run`.
    """
    limit_threads(1)
    t0 = time.perf_counter()
    st = shared_store(store)
    run_id = run.id
    with (
        _Heartbeat(st, run_id, HEARTBEAT_S) as beat,
        single_threaded(),
        _captured_warnings() as caught,
    ):
        try:
            summary, rows, arts = execute_task(st, run, beat)
        except BaseException as exc:
            if isinstance(exc, SynthAuditError):
                message = str(exc)
            elif isinstance(exc, Exception):
                tb = traceback.extract_tb(exc.__traceback__)[-1:]
                where = f" (at {Path(tb[0].filename).name}:{tb[0].lineno})" if tb else ""
                message = f"{type(exc).__name__}: {exc}{where}"
            else:  # KeyboardInterrupt / SystemExit in an inline run
                message = f"interrupted ({type(exc).__name__})"
            with contextlib.suppress(StoreError):
                st.fail_run(run_id, message)
            if not isinstance(exc, Exception):
                raise
            return {
                "run_id": run_id,
                "status": "failed",
                "error": message,
                "seconds": round(time.perf_counter() - t0, 3),
            }
    seconds = round(time.perf_counter() - t0, 3)
    summary["seconds"] = seconds
    if caught:
        summary["python_warnings"] = caught
    try:
        st.finish_run(run_id, results=rows, summary=summary, artefacts=arts)
    except StoreError as exc:
        return {"run_id": run_id, "status": "failed", "error": str(exc), "seconds": seconds}
    return {
        "run_id": run_id,
        "status": "done",
        "risk": summary.get("risk"),
        "utility": summary.get("utility"),
        "seconds": seconds,
    }


#: At most this many distinct Python warnings are kept in a run's summary.
MAX_RECORDED_WARNINGS = 20


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Keep the Python warnings (numpy's RuntimeWarnings, libraries' FutureWarnings) a run raises off
    stderr: a worker's stderr is the terminal of ``study run``. Each distinct one is logged (debug)
    and listed in the run's summary (``python_warnings``), so nothing is lost."""
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            yield seen
        finally:
            for w in records:
                text = f"{w.category.__name__}: {w.message}"
                if text not in seen:
                    _log.debug("warning in a run: %s (%s:%s)", text, w.filename, w.lineno)
                    if len(seen) < MAX_RECORDED_WARNINGS:
                        seen.append(text)


# --------------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------------


@dataclass
class StudyOutcome:
    """What one :func:`run_study` call did."""

    study: str
    n_runs: int
    already_done: int = 0
    #: Ids of the runs that were done before this call: their stored results were reused.
    reused: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    requeued: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    broken: str | None = None

    @property
    def complete(self) -> bool:
        """Every run of the study is done."""
        return self.already_done + len(self.done) == self.n_runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "n_runs": self.n_runs,
            "already_done": self.already_done,
            "reused": list(self.reused),
            "done": list(self.done),
            "failed": dict(self.failed),
            "skipped": dict(self.skipped),
            "requeued": dict(self.requeued),
            "seconds": self.seconds,
            "complete": self.complete,
            "broken": self.broken,
        }


def _lost(store: Store, run_id: str, exc: BaseException) -> dict[str, Any]:
    """A task that raised instead of returning: its worker died, or the executor broke."""
    error = f"{type(exc).__name__}: {exc}"
    try:
        rec = store.get_run(run_id)
    except StoreError:
        return {"status": "failed", "error": error}
    if rec.status == "queued":  # never started: leave it queued for the next `study run`
        return {"status": "skipped", "reason": f"not started: the executor failed ({error})"}
    if rec.status == "running":
        with contextlib.suppress(StoreError):
            store.fail_run(run_id, f"the worker executing the run died ({error})")
    elif rec.status == "done":
        return {"status": "done"}
    return {"status": "failed", "error": f"the worker executing the run died ({error})"}


def _prefit(
    store: Store,
    executor: Executor,
    runs: list[RunRecord],
    data: StudyData,
    progress: ProgressCallback,
    submit_run: Callable[[str], None],
) -> str | None:
    """Run the fit tasks (shadow fits) of ``runs`` on ``executor`` into the store's fit cache, and
    each run as soon as its own fits are done.

    A run's fits are submitted as soon as they are planned (the workers start on them while the next
    runs are planned); cached ones are not submitted, and a fit two runs share is submitted once.
    ``submit_run(run_id)`` is called for a run when its last fit finishes (at once when it has none
    pending), so a run executes while other runs' fits finish and no worker waits for the slowest
    fit of the study. A fit that fails is left to its run (which fits it again and reports the
    error); a run whose plan cannot be made (an unknown generator, say) fails on its own when it
    runs. Returns why the executor broke, or None (then every run of ``runs`` was submitted).
    """
    from synth_audit.study.fits import submit_fit_tasks
    from synth_audit.study.tasks import iter_run_fits

    by_key: dict[str, Future[Any]] = {}
    waiting_runs: dict[Future[Any], list[str]] = {}
    pending: dict[str, set[Future[Any]]] = {}
    executors: dict[Any, Executor] = {}  # by resources: one look at the Dask workers per kind
    for run in runs:
        waits: set[Future[Any]] = set()
        planned = iter_run_fits(store, run, data)  # each fit is submitted as soon as it is planned
        while True:
            try:
                task = next(planned)
            except StopIteration:
                break
            except Exception:  # the run's own task reports it with the run
                _log.debug("no fit plan for run %s", run.id, exc_info=True)
                break
            key = task.key()
            fut = by_key.get(key)
            if fut is None:
                try:
                    submitted = submit_fit_tasks(executor, store, [task], executors=executors)
                except BrokenExecutor as exc:
                    for other in by_key.values():
                        other.cancel()
                    return f"{type(exc).__name__}: {exc}"
                if not submitted:
                    continue  # cached
                fut = next(iter(submitted))
                by_key[key] = fut
            waits.add(fut)
            waiting_runs.setdefault(fut, []).append(run.id)
        if waits:
            pending[run.id] = waits
        else:
            submit_run(run.id)
    total = len(by_key)
    if not total:
        return None
    done = 0
    progress("shadow fits", done, total)
    for fut in as_completed(list(by_key.values())):
        try:
            fut.result()
        except BrokenExecutor as exc:
            for other in by_key.values():
                other.cancel()
            return f"{type(exc).__name__}: {exc}"
        except Exception:  # left to the run, which fits it again and reports any error
            _log.debug("fit task failed", exc_info=True)
        done += 1
        for run_id in waiting_runs.pop(fut, []):
            left = pending.get(run_id)
            if left is not None:
                left.discard(fut)
                if not left:
                    del pending[run_id]
                    submit_run(run_id)
        progress("shadow fits", done, total)
    for run_id in list(pending):  # not reached: every future completes above
        submit_run(run_id)
    return None


def _record_study(store: Store, spec: StudySpec) -> None:
    """``ensure_study``; a stored spec that differs only in generators, seeds, description, frontier
    or the data file's path (same content) is replaced, anything else is refused."""
    from synth_audit.store import canonical_json

    if spec.name not in {s.name for s in store.list_studies()}:
        store.ensure_study(spec.name, spec.to_dict())
        return
    stored = _spec_of(store, spec.name)
    a, b = stored.evaluation_identity(), spec.evaluation_identity()
    if canonical_json(a) != canonical_json(b):
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise ConfigError(
            f"The study {spec.name!r} is already in the store {store.url} with different "
            f"settings for {', '.join(keys)}; its runs were made under those settings. Give the "
            "study a new name (the 'name' key), or restore the settings. (Adding generators, grid "
            "values or seeds is fine.)"
        )
    store.ensure_study(spec.name, spec.to_dict(), replace_spec=True)


def _data_fingerprints(data: StudyData) -> dict[str, Any]:
    return {k: dict(v) for k, v in data.fingerprints.items()}


def _check_stored_fingerprints(store: Store, spec: StudySpec, fps: Mapping[str, Any]) -> None:
    for run in store.list_runs(study=spec.name, status="done", limit=1):
        old = run.data_fingerprints or {}
        changed = [
            p
            for p in ("train", "control", "reference")
            if old.get(p, {}).get("sha256") != fps[p]["sha256"]
        ]
        if old and changed:
            raise ConfigError(
                f"The data of study {spec.name!r} changed since its runs were made: the "
                f"{', '.join(changed)} split(s) of {spec.data_path} differ from the stored ones. "
                "Restore the file, or run the study under a new name."
            )


def record_runs(
    spec: StudySpec, *, store: Store, runs: list[RunSpec] | None = None
) -> dict[str, RunSpec]:
    """Record the study and its runs (all of ``expand(spec)``, or the ``runs`` given) in ``store``.

    Idempotent: a run is identified by its key, so recording again returns the stored ids. The first
    half of :func:`run_study`; a search loop records new runs between batches of
    :func:`execute_pending`. Returns ``{run id: run}``.
    """
    data = load_study_data(spec)
    fps = _data_fingerprints(data)
    _record_study(store, spec)
    _check_stored_fingerprints(store, spec, fps)
    version = code_version()
    ids: dict[str, RunSpec] = {}
    for r in expand(spec) if runs is None else runs:
        run_id = store.add_run(
            study=spec.name,
            run_key=r.run_key,
            generator=r.generator,
            params=r.params,
            seed=r.seed,
            code_version=version,
            data_fingerprints=fps,
            target_kind=r.target_kind,
        )
        ids[run_id] = r
    return ids


def run_study(
    spec: StudySpec,
    *,
    store: Store,
    executor: Executor,
    progress: ProgressCallback = silent,
    retry_failed: bool = True,
    stale_after_s: float = STALE_AFTER_S,
    poll_s: float = 1.0,
) -> StudyOutcome:
    """Run every run of ``spec`` that is not done yet on ``executor``; record them in ``store``.

    :func:`record_runs`, then :func:`execute_pending`. Re-running a study skips its done runs; runs
    that failed, or whose worker died (its process is gone, or no heartbeat for ``stale_after_s``),
    are re-queued and run again (``retry_failed=False`` leaves failed runs as they are). Runs that
    another live worker is executing are waited for. The call returns when every run of the study
    is done or failed in this call. ``progress(step, done, total)`` is called as runs complete.
    """
    ids = record_runs(spec, store=store)
    return execute_pending(
        spec,
        ids,
        store=store,
        executor=executor,
        progress=progress,
        retry_failed=retry_failed,
        stale_after_s=stale_after_s,
        poll_s=poll_s,
    )


def execute_pending(
    spec: StudySpec,
    ids: Mapping[str, RunSpec],
    *,
    store: Store,
    executor: Executor,
    progress: ProgressCallback = silent,
    retry_failed: bool = True,
    stale_after_s: float = STALE_AFTER_S,
    poll_s: float = 1.0,
) -> StudyOutcome:
    """Execute the recorded runs ``ids`` (from :func:`record_runs`) that are not done yet.

    Shadow and reference fits of the pending runs go to ``executor`` first (cached in the store),
    then the runs. Returns when every one of ``ids`` is done or failed in this call.
    """
    t0 = time.perf_counter()
    data = load_study_data(spec)  # cached per process; the fits plan their subsets on it
    outcome = StudyOutcome(study=spec.name, n_runs=len(ids))
    total = len(ids)
    attempted: set[str] = set()
    first = True
    initially_done_ids: list[str] = []
    skips: dict[str, int] = {}
    broken: str | None = None
    futures: dict[Future[dict[str, Any]], str] = {}
    prefitted: set[str] = set()
    submitted: set[str] = set()  # runs submitted in this pass of the loop

    def submit_run(run_id: str) -> None:
        attempted.add(run_id)
        submitted.add(run_id)
        futures[executor.submit(execute_run, store, run_id)] = run_id

    def label(run_id: str) -> str:
        r = ids[run_id]
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        return f"{r.generator}({params}) seed {r.seed_index}"

    def n_finished() -> int:
        return outcome.already_done + len(outcome.done) + len(outcome.failed)

    while True:
        records = {r.id: r for r in store.list_runs(study=spec.name) if r.id in ids}
        if first:
            initially_done_ids = [i for i, r in records.items() if r.status == "done"]
            outcome.already_done = len(initially_done_ids)
            outcome.reused = list(initially_done_ids)
            progress("runs", outcome.already_done, total)
            first = False
        now = datetime.now(UTC)
        to_submit: list[str] = []
        waiting = 0
        for run_id, rec in records.items():
            if run_id in attempted or rec.status == "done":
                continue
            if rec.status == "running":
                why = _worker_dead(rec, stale_after_s=stale_after_s, now=now)
                if why is None:
                    waiting += 1
                    continue
                with contextlib.suppress(StoreError):
                    store.fail_run(run_id, f"interrupted: {why}")
                    store.requeue_run(run_id)
                outcome.requeued[run_id] = why
            elif rec.status == "failed":
                if not retry_failed:
                    outcome.failed[run_id] = rec.error or "failed"
                    attempted.add(run_id)
                    continue
                with contextlib.suppress(StoreError):
                    store.requeue_run(run_id)
                outcome.requeued[run_id] = f"failed before: {rec.error}"
            to_submit.append(run_id)
        order = {run_id: i for i, run_id in enumerate(ids)}
        to_submit.sort(key=order.__getitem__)
        unfitted = [records[i] for i in to_submit if i not in prefitted]
        submitted.clear()
        if unfitted and not broken:
            # The fit tasks of every run about to start, across runs, each run submitted when its
            # own fits are done: that is where a study with shadow modelling gets its parallelism.
            prefitted.update(r.id for r in unfitted)
            broken = _prefit(store, executor, unfitted, data, progress, submit_run)
        if broken:
            to_submit = []
        for run_id in to_submit:
            if run_id not in submitted:
                submit_run(run_id)
        if (not futures and not waiting) or broken:
            break
        if futures:
            for fut in as_completed(list(futures)):
                run_id = futures.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died or the executor failed
                    res = _lost(store, run_id, exc)
                    if isinstance(exc, BrokenExecutor):
                        broken = f"{type(exc).__name__}: {exc}"
                        skips[run_id] = 99  # not in this call: the executor is gone
                status = res.get("status")
                if status == "done":
                    outcome.done.append(run_id)
                elif status == "failed":
                    outcome.failed[run_id] = str(res.get("error"))
                else:
                    outcome.skipped[run_id] = str(res.get("reason", ""))
                    skips[run_id] = skips.get(run_id, 0) + 1
                    if skips[run_id] < 3:
                        attempted.discard(run_id)  # another worker has it: wait for it
                progress(f"finished {label(run_id)}", n_finished(), total)
            continue
        time.sleep(poll_s)
    # The final state, whoever executed the runs (another worker may have taken some).
    initially_done = set(initially_done_ids)
    outcome.done, outcome.failed = [], {}
    for rec in store.list_runs(study=spec.name):
        if rec.id not in ids or rec.id in initially_done:
            continue
        if rec.status == "done":
            outcome.done.append(rec.id)
        elif rec.status == "failed":
            outcome.failed[rec.id] = rec.error or "failed"
    outcome.skipped = {k: v for k, v in outcome.skipped.items() if k not in outcome.done}
    outcome.broken = broken
    outcome.seconds = round(time.perf_counter() - t0, 3)
    progress("runs", n_finished(), total)
    return outcome
