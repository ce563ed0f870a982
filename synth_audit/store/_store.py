"""The result store: studies, runs and their results in a database, bulk artefacts as Parquet beside it.

Life of a run::

    queued ──claim_run / start_run──► running ──finish_run──► done
       ▲                                 │
       └──────────requeue_run── failed ◄─┴─fail_run, or heartbeats stop (expire_stale_runs)

Every method opens and closes its own short transaction, so a :class:`Store` can be shared by the
threads of one process, and any number of processes may open the same store at once: state changes are
conditional ``UPDATE ... WHERE status = ...`` statements whose row count says whether this caller won.
A store is pickled as its URL, so it can be handed to a process pool; each process then opens its own
connections (and a forked child drops the parent's).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Select, delete, func, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from synth_audit._logging import get_logger
from synth_audit.errors import StoreError, format_names

from ._engine import WRITE_OPTION, ResolvedURL, create_store_engine, resolve_url
from ._migrate import check_schema, read_schema_state, upgrade_schema
from ._models import ArtefactModel, FitModel, ResultModel, RunModel, StudyModel
from ._records import (
    STATUSES,
    ArtefactRow,
    FitRecord,
    ResultRow,
    RunRecord,
    RunStatus,
    StudyRecord,
    canonical_json,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Store", "open_store", "upgrade_store"]

_log = get_logger(__name__)

_KIND_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_NAME_MAX = 200
_HASH_CHUNK = 1 << 20
_RUN_ID_RE = re.compile(r"^[0-9a-f]{1,64}$")
_MAX_CANDIDATES = 10
_FIT_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _dumps(obj: Mapping[str, Any] | None, what: str) -> str:
    try:
        return canonical_json(dict(obj or {}))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"The {what} cannot be stored as JSON: {exc}.") from None


def _clean_float(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"The {what} must be a number or None. Got {value!r}.") from None
    return None if math.isnan(out) else out


def _check_name(value: object, param: str, method: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _NAME_MAX:
        raise StoreError(
            f"The {param!r} parameter of Store.{method} must be a non-empty str of at most "
            f"{_NAME_MAX} characters. Got {value!r}."
        )
    return value


def _check_status(value: object, method: str) -> RunStatus:
    if value not in STATUSES:
        raise StoreError(
            f"The 'status' parameter of Store.{method} must be one of "
            f"{format_names(STATUSES)}. Got {value!r}."
        )
    return value  # type: ignore[return-value]


def _to_record(row: RunModel) -> RunRecord:
    return RunRecord(
        id=row.id,
        study=row.study_id,
        run_key=row.run_key,
        generator=row.generator,
        params=_loads(row.params_json),
        seed=int(row.seed),
        status=_check_status(row.status, "get_run"),
        code_version=row.code_version,
        data_fingerprints=_loads(row.data_fingerprints_json),
        worker_id=row.worker_id,
        heartbeat_at=row.heartbeat_at,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        progress=row.progress,
        progress_message=row.progress_message,
        summary=_loads(row.summary_json),
        target_kind=row.target_kind or "tabular_generator",
    )


def _to_result(row: ResultModel) -> ResultRow:
    return ResultRow(
        metric=row.metric,
        value=row.value,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        confidence_level=row.confidence_level,
        n=row.n,
        counts=_loads(row.counts_json),
        extra=_loads(row.extra_json),
    )


def _to_artefact(row: ArtefactModel) -> ArtefactRow:
    return ArtefactRow(
        kind=row.kind,
        path=row.path,
        sha256=row.sha256,
        bytes=int(row.bytes),
        n_rows=row.n_rows,
        created_at=row.created_at,
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; not possible (nor needed) on every platform.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Store:
    """Studies, runs, results and artefacts of synth-audit, in SQLite or PostgreSQL.

    Open one with :func:`open_store`; the constructor is internal (it does not check the schema).
    """

    def __init__(
        self,
        resolved: ResolvedURL,
        engine: Engine,
        *,
        script_location: Path | None = None,
    ) -> None:
        self._resolved = resolved
        self._engine = engine
        self._script_location = script_location
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._make_sessions()

    # ------------------------------------------------------------------ plumbing
    def _make_sessions(self) -> None:
        self._reader = sessionmaker(self._engine, expire_on_commit=False)
        writer_engine = self._engine.execution_options(**{WRITE_OPTION: True})
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)

    def _check_pid(self) -> None:
        # A forked child must not use the parent's pooled connections.
        if os.getpid() != self._pid:
            with self._lock:
                if os.getpid() != self._pid:
                    self._engine.dispose(close=False)
                    self._pid = os.getpid()

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        self._check_pid()
        factory = self._writer if write else self._reader
        try:
            with factory() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise StoreError(
                f"The result store {self.url} could not be used: {exc.orig}. If another process "
                "holds it (SQLite waits up to 30 s), try again; if the server is down, start it."
            ) from exc

    def __reduce__(self) -> tuple[Any, ...]:
        url = self._resolved.url.render_as_string(hide_password=False)
        return (
            _reopen,
            (url, str(self._resolved.workspace), self._script_location),
        )

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's connections. The object stays usable (it reconnects on demand)."""
        self._engine.dispose()

    @property
    def url(self) -> str:
        """The store's URL with any password masked."""
        return self._resolved.masked

    @property
    def sqlalchemy_url(self) -> URL:
        return self._resolved.url

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def artefact_root(self) -> Path:
        """Directory of the artefact files: ``<sqlite dir>/artefacts`` or ``<workspace>/artefacts``."""
        return self._resolved.artefact_root

    # ------------------------------------------------------------------ schema
    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None`` if never migrated)."""
        self._check_pid()
        with self._engine.connect() as conn:
            return read_schema_state(conn, self._script_location).current

    def upgrade(self) -> tuple[str | None, str]:
        """Upgrade the schema to this synth-audit's head; returns (before, after). Never drops data."""
        self._check_pid()
        return upgrade_schema(self._engine, self._resolved, script_location=self._script_location)

    # ------------------------------------------------------------------ studies
    def ensure_study(
        self, name: str, spec: Mapping[str, Any], *, replace_spec: bool = False
    ) -> None:
        """Record a study; a no-op when it is already stored with the same spec.

        A different spec under an existing name is refused (its runs were made under the old spec),
        unless ``replace_spec=True``, which records the new spec and keeps the runs.
        """
        name = _check_name(name, "name", "ensure_study")
        spec_json = _dumps(spec, f"spec of study {name!r}")
        spec_hash = hashlib.sha256(spec_json.encode("utf-8")).hexdigest()
        for attempt in range(2):
            try:
                with self._session(write=True) as s:
                    row = s.get(StudyModel, name)
                    if row is None:
                        s.add(
                            StudyModel(
                                id=name, spec_json=spec_json, spec_hash=spec_hash, created_at=_now()
                            )
                        )
                        return
                    if row.spec_hash == spec_hash:
                        return
                    if not replace_spec:
                        raise StoreError(
                            f"The study {name!r} is already in the store {self.url} with a different "
                            f"spec (stored {row.spec_hash[:12]}, given {spec_hash[:12]}). Give the "
                            "study a new name, or pass replace_spec=True to record the new spec and "
                            "keep the runs already stored."
                        )
                    _log.info("Replacing the spec of study %r", name)
                    row.spec_json, row.spec_hash = spec_json, spec_hash
                    return
            except IntegrityError:
                if attempt:  # created by another process between our read and write
                    raise
        raise AssertionError("unreachable")

    def get_study(self, name: str) -> StudyRecord:
        with self._session(write=False) as s:
            row = s.get(StudyModel, name)
            if row is None:
                raise self._unknown_study(s, name)
            return StudyRecord(
                name=row.id,
                spec=_loads(row.spec_json),
                spec_hash=row.spec_hash,
                created_at=row.created_at,
            )

    def list_studies(self) -> list[StudyRecord]:
        """All studies, oldest first."""
        with self._session(write=False) as s:
            rows = s.scalars(select(StudyModel).order_by(StudyModel.created_at, StudyModel.id))
            return [
                StudyRecord(
                    name=r.id,
                    spec=_loads(r.spec_json),
                    spec_hash=r.spec_hash,
                    created_at=r.created_at,
                )
                for r in rows
            ]

    def _unknown_study(self, s: Session, name: str) -> StoreError:
        names = list(s.scalars(select(StudyModel.id)))
        known = format_names(names) if names else "none"
        return StoreError(
            f"There is no study {name!r} in the store {self.url} (studies: {known}). "
            "Record it first with ensure_study (or run the study)."
        )

    # ------------------------------------------------------------------ runs
    def add_run(
        self,
        *,
        study: str,
        run_key: str,
        generator: str,
        params: Mapping[str, Any],
        seed: int,
        code_version: str,
        data_fingerprints: Mapping[str, Any] | None = None,
        status: RunStatus = "queued",
        target_kind: str = "tabular_generator",
    ) -> str:
        """Store a run and return its id; idempotent on ``(study, run_key)``.

        ``target_kind`` names the kind of target the run audits (see :mod:`synth_audit.targets`);
        ``generator`` is the candidate's name within that kind (a generator, a model, a release).

        When the study already holds a run with this key, its id is returned and nothing is changed
        (a study re-run never duplicates runs). The key is the caller's; :func:`make_run_key` gives the
        usual one. The study must exist (:meth:`ensure_study`).
        """
        study = _check_name(study, "study", "add_run")
        run_key = _check_name(run_key, "run_key", "add_run")
        generator = _check_name(generator, "generator", "add_run")
        target_kind = _check_name(target_kind, "target_kind", "add_run")
        status = _check_status(status, "add_run")
        if isinstance(seed, bool) or not isinstance(seed, int | float) or int(seed) != seed:
            raise StoreError(f"The 'seed' parameter of Store.add_run must be an int. Got {seed!r}.")
        params_json = _dumps(params, f"params of run {run_key!r}")
        fingerprints_json = _dumps(data_fingerprints, f"data fingerprints of run {run_key!r}")
        for attempt in range(2):
            try:
                with self._session(write=True) as s:
                    existing = s.scalars(
                        select(RunModel).where(
                            RunModel.study_id == study, RunModel.run_key == run_key
                        )
                    ).first()
                    if existing is not None:
                        self._check_same_run(existing, generator, params_json, int(seed))
                        return existing.id
                    if s.get(StudyModel, study) is None:
                        raise self._unknown_study(s, study)
                    now = _now()
                    run_id = uuid.uuid4().hex
                    s.add(
                        RunModel(
                            id=run_id,
                            study_id=study,
                            run_key=run_key,
                            generator=generator,
                            target_kind=target_kind,
                            params_json=params_json,
                            seed=int(seed),
                            status=status,
                            code_version=str(code_version),
                            data_fingerprints_json=fingerprints_json,
                            created_at=now,
                            started_at=now if status == "running" else None,
                            heartbeat_at=now if status == "running" else None,
                            finished_at=now if status in ("done", "failed") else None,
                            summary_json="{}",
                        )
                    )
                    return run_id
            except IntegrityError:
                if attempt:  # the same key was added by another process at the same moment
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _check_same_run(row: RunModel, generator: str, params_json: str, seed: int) -> None:
        if (row.generator, row.params_json, int(row.seed)) != (generator, params_json, seed):
            raise StoreError(
                f"The run key {row.run_key!r} of study {row.study_id!r} is already stored for "
                f"generator {row.generator!r}, seed {row.seed}, params {row.params_json}; it was "
                f"given again for generator {generator!r}, seed {seed}, params {params_json}. Run "
                "keys must identify (study, generator, params, seed): use make_run_key."
            )

    def get_run(self, run_id: str) -> RunRecord:
        with self._session(write=False) as s:
            return _to_record(self._get_row(s, run_id))

    def resolve_run_id(self, prefix: str) -> str:
        """The full id of the one run whose id starts with ``prefix`` (a whole id is returned as is).

        Ids are shown shortened (8 characters in the app and ``runs list``); any unique prefix works.
        Raises :class:`StoreError` when no run matches, or when several do (listing them).
        """
        text = str(prefix).strip().lower().replace("-", "")
        if not text:
            raise StoreError("The run id is empty. Give a run id (or its first characters).")
        with self._session(write=False) as s:
            if s.get(RunModel, text) is not None:
                return text
            matches: list[RunModel] = []
            if _RUN_ID_RE.match(text):  # ids are hex: no LIKE wildcard can be in the prefix
                matches = list(
                    s.scalars(
                        select(RunModel)
                        .where(RunModel.id.like(f"{text}%"))
                        .order_by(RunModel.created_at, RunModel.id)
                        .limit(_MAX_CANDIDATES + 1)
                    )
                )
            if len(matches) == 1:
                return matches[0].id
            if not matches:
                raise StoreError(
                    f"There is no run {str(prefix).strip()!r} in the store {self.url} (no run id "
                    "starts with it). List the runs with `synth-audit runs list`."
                )
            shown = [f"{m.id} ({m.study_id}, {m.generator}, {m.status})" for m in matches]
            more = " and more" if len(matches) > _MAX_CANDIDATES else ""
            raise StoreError(
                f"The run id {str(prefix).strip()!r} is ambiguous in the store {self.url}: it starts "
                f"the ids of {'; '.join(shown[:_MAX_CANDIDATES])}{more}. Give more characters of "
                "the id."
            )

    def _get_row(self, s: Session, run_id: str) -> RunModel:
        row = s.get(RunModel, run_id)
        if row is None:
            raise StoreError(f"There is no run {run_id!r} in the store {self.url}.")
        return row

    def _filtered(
        self,
        stmt: Select[Any],
        *,
        study: str | None,
        status: RunStatus | Sequence[RunStatus] | None,
        generator: str | None,
        method: str,
    ) -> Select[Any]:
        if study is not None:
            stmt = stmt.where(RunModel.study_id == study)
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            stmt = stmt.where(RunModel.status.in_([_check_status(x, method) for x in wanted]))
        if generator is not None:
            stmt = stmt.where(RunModel.generator == generator)
        return stmt

    def list_runs(
        self,
        *,
        study: str | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        generator: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs matching every filter given, oldest first."""
        stmt = self._filtered(
            select(RunModel), study=study, status=status, generator=generator, method="list_runs"
        ).order_by(RunModel.created_at, RunModel.id)
        if offset:
            stmt = stmt.offset(int(offset))
        if limit is not None:
            stmt = stmt.limit(int(limit))
        with self._session(write=False) as s:
            return [_to_record(r) for r in s.scalars(stmt)]

    def count_runs(
        self,
        *,
        study: str | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        generator: str | None = None,
    ) -> int:
        stmt = self._filtered(
            select(func.count()).select_from(RunModel),
            study=study,
            status=status,
            generator=generator,
            method="count_runs",
        )
        with self._session(write=False) as s:
            return int(s.scalar(stmt) or 0)

    def status_counts(self, study: str | None = None) -> dict[str, int]:
        """``{"queued": n, "running": n, "done": n, "failed": n}`` (zeros included)."""
        stmt = select(RunModel.status, func.count()).group_by(RunModel.status)
        if study is not None:
            stmt = stmt.where(RunModel.study_id == study)
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        with self._session(write=False) as s:
            for status, n in s.execute(stmt):
                counts[str(status)] = int(n)
        return counts

    # ------------------------------------------------------------------ run life cycle
    def _expire(self, s: Session, timeout_s: float, now: datetime) -> list[str]:
        cutoff = now - timedelta(seconds=float(timeout_s))
        last = func.coalesce(RunModel.heartbeat_at, RunModel.started_at, RunModel.created_at)
        stale = s.execute(
            select(RunModel.id, RunModel.worker_id, RunModel.heartbeat_at).where(
                RunModel.status == "running", last < cutoff
            )
        ).all()
        expired: list[str] = []
        for run_id, worker, beat in stale:
            when = beat.isoformat() if beat is not None else "never"
            result = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status == "running", last < cutoff)
                .values(
                    status="failed",
                    finished_at=now,
                    error=(
                        f"worker {worker} stopped sending heartbeats (last at {when}); "
                        "re-queue with requeue_run"
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                expired.append(run_id)
        if expired:
            _log.warning("Marked %d run(s) failed after lost heartbeats: %s", len(expired), expired)
        return expired

    def expire_stale_runs(self, timeout_s: float) -> list[str]:
        """Mark failed every running run without a heartbeat for ``timeout_s`` seconds; their ids."""
        with self._session(write=True) as s:
            return self._expire(s, timeout_s, _now())

    def claim_run(
        self,
        worker_id: str,
        *,
        study: str | None = None,
        heartbeat_timeout_s: float | None = 60.0,
    ) -> RunRecord | None:
        """Move the oldest queued run (of ``study``, if given) to running for this worker.

        Race-free across processes: the claim is ``UPDATE ... WHERE id = :id AND status = 'queued'``
        and counts only if it changed one row (PostgreSQL also skips rows locked by other claimers).
        First, runs whose heartbeats stopped more than ``heartbeat_timeout_s`` ago are marked failed
        (``None`` skips this). Returns ``None`` when nothing is queued.
        """
        worker_id = _check_name(worker_id, "worker_id", "claim_run")
        with self._session(write=True) as s:
            now = _now()
            if heartbeat_timeout_s is not None:
                self._expire(s, heartbeat_timeout_s, now)
            for _ in range(10_000):
                candidate = select(RunModel.id).where(RunModel.status == "queued")
                if study is not None:
                    candidate = candidate.where(RunModel.study_id == study)
                candidate = candidate.order_by(RunModel.created_at, RunModel.id).limit(1)
                if s.get_bind().dialect.name == "postgresql":
                    candidate = candidate.with_for_update(skip_locked=True)
                run_id = s.scalar(candidate)
                if run_id is None:
                    return None
                result = s.execute(
                    update(RunModel)
                    .where(RunModel.id == run_id, RunModel.status == "queued")
                    .values(
                        status="running",
                        worker_id=worker_id,
                        started_at=now,
                        heartbeat_at=now,
                        finished_at=None,
                        error=None,
                        progress=None,
                        progress_message=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    s.expire_all()
                    return _to_record(self._get_row(s, run_id))
            return None

    def start_run(self, run_id: str, worker_id: str) -> RunRecord:
        """Move a known run from queued (or failed) to running, for executors that pick runs directly."""
        worker_id = _check_name(worker_id, "worker_id", "start_run")
        with self._session(write=True) as s:
            now = _now()
            result = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status.in_(["queued", "failed"]))
                .values(
                    status="running",
                    worker_id=worker_id,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                    error=None,
                    progress=None,
                    progress_message=None,
                )
                .execution_options(synchronize_session=False)
            )
            row = self._get_row(s, run_id)
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise StoreError(
                    f"Cannot start run {run_id!r}: it is {row.status!r}"
                    + (f" (worker {row.worker_id})" if row.status == "running" else "")
                    + "; only queued or failed runs can be started."
                )
            return _to_record(row)

    def heartbeat(
        self, run_id: str, *, progress: float | None = None, message: str | None = None
    ) -> None:
        """Tell the store the run's worker is alive; optionally report progress in [0, 1]."""
        values: dict[str, Any] = {"heartbeat_at": _now()}
        if progress is not None:
            p = _clean_float(progress, "'progress' parameter of Store.heartbeat")
            if p is None or not 0.0 <= p <= 1.0:
                raise StoreError(
                    f"The 'progress' parameter of Store.heartbeat must be a float in [0, 1]. "
                    f"Got {progress!r}."
                )
            values["progress"] = p
        if message is not None:
            values["progress_message"] = str(message)
        with self._session(write=True) as s:
            result = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status == "running")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                row = self._get_row(s, run_id)
                raise StoreError(
                    f"Run {run_id!r} is {row.status!r}, not running, so it takes no heartbeat"
                    + (f" ({row.error})" if row.error else "")
                    + ". Its worker should stop."
                )

    def finish_run(
        self,
        run_id: str,
        *,
        results: Sequence[ResultRow],
        summary: Mapping[str, Any],
        artefacts: Sequence[ArtefactRow] = (),
    ) -> None:
        """Record a running run's results, summary and artefacts and mark it done, in one transaction."""
        dupes = [m for m, k in Counter(r.metric for r in results).items() if k > 1]
        if dupes:
            raise StoreError(
                f"finish_run got more than one result for metric(s) {format_names(dupes)} of run "
                f"{run_id!r}; a run holds one row per metric."
            )
        summary_json = _dumps(summary, f"summary of run {run_id!r}")
        result_rows = [self._result_model(run_id, r) for r in results]
        for art in artefacts:
            self._check_kind(art.kind)
        with self._session(write=True) as s:
            now = _now()
            done = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status == "running")
                .values(
                    status="done",
                    finished_at=now,
                    heartbeat_at=now,
                    progress=1.0,
                    summary_json=summary_json,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                row = self._get_row(s, run_id)
                raise StoreError(
                    f"Cannot finish run {run_id!r}: it is {row.status!r}, not running"
                    + (f" ({row.error})" if row.error else "")
                    + ". Nothing was recorded."
                )
            s.add_all(result_rows)
            for art in artefacts:
                self._upsert_artefact(s, run_id, art)

    @staticmethod
    def _result_model(run_id: str, r: ResultRow) -> ResultModel:
        metric = _check_name(r.metric, "metric", "finish_run")
        what = f"result {metric!r} of run {run_id!r}"
        return ResultModel(
            run_id=run_id,
            metric=metric,
            value=_clean_float(r.value, f"value of {what}"),
            ci_low=_clean_float(r.ci_low, f"ci_low of {what}"),
            ci_high=_clean_float(r.ci_high, f"ci_high of {what}"),
            confidence_level=_clean_float(r.confidence_level, f"confidence_level of {what}"),
            n=None if r.n is None else int(r.n),
            counts_json=_dumps(r.counts, f"counts of {what}"),
            extra_json=_dumps(r.extra, f"extra of {what}"),
        )

    def fail_run(self, run_id: str, error: str) -> None:
        """Mark a queued or running run failed with an error message (a failed one gets the new one)."""
        with self._session(write=True) as s:
            result = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status.in_(["queued", "running", "failed"]))
                .values(status="failed", error=str(error), finished_at=_now())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                row = self._get_row(s, run_id)
                raise StoreError(
                    f"Cannot mark run {run_id!r} failed: it is {row.status!r}, and a finished run's "
                    "results are never overwritten."
                )

    def requeue_run(self, run_id: str, *, force: bool = False) -> None:
        """Put a failed run back in the queue (clears its error and worker). Queued runs stay as they are.

        ``force=True`` also re-queues a *done* run, for when its stored results cannot be trusted (a
        corrupted or missing artefact): its results, summary and artefacts are deleted, so the next
        worker (``synth-audit worker``, ``study run``) runs it again from scratch, with the same key
        and seed. A running run is never re-queued (its worker is still writing to it).
        """
        allowed = ["failed", "done"] if force else ["failed"]
        removed: list[Path] = []
        with self._session(write=True) as s:
            row = self._get_row(s, run_id)
            result = s.execute(
                update(RunModel)
                .where(RunModel.id == run_id, RunModel.status.in_(allowed))
                .values(
                    status="queued",
                    error=None,
                    worker_id=None,
                    heartbeat_at=None,
                    started_at=None,
                    finished_at=None,
                    progress=None,
                    progress_message=None,
                    **({"summary_json": "{}"} if force else {}),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                s.refresh(row)
                if row.status == "queued":
                    return
                if row.status == "done":
                    raise StoreError(
                        f"Cannot re-queue run {run_id!r}: it is done, and a finished run's results "
                        "are kept unless you ask otherwise. To run it again from scratch (its "
                        "results and artefacts are deleted), use `synth-audit runs requeue "
                        f"{run_id} --force` (Store.requeue_run(run_id, force=True))."
                    )
                raise StoreError(
                    f"Cannot re-queue run {run_id!r}: it is {row.status!r}"
                    + (f" (worker {row.worker_id})" if row.worker_id else "")
                    + "; only failed runs can be re-queued (and done ones, with force). Wait for "
                    "it to finish; a run whose worker died is re-queued by `synth-audit study run`."
                )
            if force:
                arts = list(s.scalars(select(ArtefactModel).where(ArtefactModel.run_id == run_id)))
                removed = [self._resolve_artefact_path(a.path) for a in arts]
                s.execute(delete(ArtefactModel).where(ArtefactModel.run_id == run_id))
                s.execute(delete(ResultModel).where(ResultModel.run_id == run_id))
        for path in removed:  # after the commit: the rows no longer point at them
            with suppress(OSError):
                path.unlink(missing_ok=True)
        if force:
            _log.info(
                "Run %s re-queued by force; %d artefact file(s) removed", run_id, len(removed)
            )

    # ------------------------------------------------------------------ results
    def results_for(self, run_id: str) -> list[ResultRow]:
        """The run's results, sorted by metric."""
        with self._session(write=False) as s:
            self._get_row(s, run_id)
            rows = s.scalars(
                select(ResultModel).where(ResultModel.run_id == run_id).order_by(ResultModel.metric)
            )
            return [_to_result(r) for r in rows]

    def results_for_study(self, study: str) -> pd.DataFrame:
        """One row per (run, metric) of the study's runs that have results, with the run's columns.

        Columns: run_id, run_key, generator, seed, status, code_version, created_at, finished_at,
        params (dict), metric, value, ci_low, ci_high, confidence_level, n, and one ``param.<name>``
        column per parameter (so a frontier can group or colour by it).
        """
        import pandas as pd

        columns = [
            "run_id",
            "run_key",
            "generator",
            "seed",
            "status",
            "code_version",
            "created_at",
            "finished_at",
            "params",
            "metric",
            "value",
            "ci_low",
            "ci_high",
            "confidence_level",
            "n",
        ]
        stmt = (
            select(RunModel, ResultModel)
            .join(ResultModel, ResultModel.run_id == RunModel.id)
            .where(RunModel.study_id == study)
            .order_by(RunModel.created_at, RunModel.id, ResultModel.metric)
        )
        records: list[dict[str, Any]] = []
        param_names: set[str] = set()
        with self._session(write=False) as s:
            if s.get(StudyModel, study) is None:
                raise self._unknown_study(s, study)
            for run, res in s.execute(stmt).tuples():
                params = _loads(run.params_json)
                param_names.update(params)
                records.append(
                    {
                        "run_id": run.id,
                        "run_key": run.run_key,
                        "generator": run.generator,
                        "seed": int(run.seed),
                        "status": run.status,
                        "code_version": run.code_version,
                        "created_at": run.created_at,
                        "finished_at": run.finished_at,
                        "params": params,
                        "metric": res.metric,
                        "value": res.value,
                        "ci_low": res.ci_low,
                        "ci_high": res.ci_high,
                        "confidence_level": res.confidence_level,
                        "n": res.n,
                        **{f"param.{k}": v for k, v in params.items()},
                    }
                )
        all_columns = columns + [f"param.{k}" for k in sorted(param_names)]
        frame = pd.DataFrame.from_records(records, columns=all_columns)
        for col in ("value", "ci_low", "ci_high", "confidence_level"):
            frame[col] = frame[col].astype("float64")
        frame["n"] = frame["n"].astype("Int64")
        return frame

    # ------------------------------------------------------------------ artefacts
    @staticmethod
    def _check_kind(kind: object) -> str:
        if not isinstance(kind, str) or not _KIND_RE.match(kind):
            raise StoreError(
                "An artefact kind must be 1-100 letters, digits, '_', '-' or '.', starting with a "
                f"letter or digit (it becomes a file name). Got {kind!r}."
            )
        return kind

    def _upsert_artefact(self, s: Session, run_id: str, art: ArtefactRow) -> None:
        self._resolve_artefact_path(art.path)
        row = s.scalars(
            select(ArtefactModel).where(
                ArtefactModel.run_id == run_id, ArtefactModel.kind == art.kind
            )
        ).first()
        if row is None:
            s.add(
                ArtefactModel(
                    run_id=run_id,
                    kind=art.kind,
                    path=art.path,
                    sha256=art.sha256,
                    n_rows=art.n_rows,
                    bytes=int(art.bytes),
                    created_at=art.created_at or _now(),
                )
            )
        else:
            row.path, row.sha256, row.n_rows, row.bytes = (
                art.path,
                art.sha256,
                art.n_rows,
                art.bytes,
            )
            row.created_at = art.created_at or _now()

    def _resolve_artefact_path(self, rel: str) -> Path:
        root = self.artefact_root.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            raise StoreError(
                f"The artefact path {rel!r} points outside the store's artefact root {root}; "
                "artefact paths are relative to it."
            )
        return path

    def artefacts_for(self, run_id: str) -> list[ArtefactRow]:
        """The run's artefacts, sorted by kind."""
        with self._session(write=False) as s:
            self._get_row(s, run_id)
            rows = s.scalars(
                select(ArtefactModel)
                .where(ArtefactModel.run_id == run_id)
                .order_by(ArtefactModel.kind)
            )
            return [_to_artefact(r) for r in rows]

    def write_artefact(self, run_id: str, kind: str, df: pd.DataFrame) -> ArtefactRow:
        """Write ``df`` as Parquet to ``<artefact_root>/<run_id>/<kind>.parquet`` and record it.

        The file is written to a temporary name, flushed to disk and renamed over the target, so a
        reader sees the old file or the new one, never half of one. The returned row (path relative to
        :attr:`artefact_root`, SHA-256, size, row count) is recorded for the run at once (replacing a
        previous artefact of the same kind); passing it again to :meth:`finish_run` is harmless.
        """
        kind = self._check_kind(kind)
        with self._session(write=False) as s:
            self._get_row(s, run_id)
        rel = f"{run_id}/{kind}.parquet"
        sha, size = _write_parquet(self._resolve_artefact_path(rel), df)
        art = ArtefactRow(
            kind=kind, path=rel, sha256=sha, bytes=size, n_rows=len(df), created_at=_now()
        )
        with self._session(write=True) as s:
            self._get_row(s, run_id)
            self._upsert_artefact(s, run_id, art)
        return art

    def artefact_path(self, run_id: str, kind: str) -> Path:
        """Absolute path of a recorded artefact after checking its SHA-256 (any file type)."""
        with self._session(write=False) as s:
            row = s.scalars(
                select(ArtefactModel).where(
                    ArtefactModel.run_id == run_id, ArtefactModel.kind == kind
                )
            ).first()
            if row is None:
                self._get_row(s, run_id)
                kinds = list(
                    s.scalars(select(ArtefactModel.kind).where(ArtefactModel.run_id == run_id))
                )
                raise StoreError(
                    f"Run {run_id!r} has no artefact {kind!r} in the store {self.url} "
                    f"(it has: {format_names(kinds) if kinds else 'none'})."
                )
            art = _to_artefact(row)
        path = self._resolve_artefact_path(art.path)
        if not path.is_file():
            raise StoreError(
                f"The artefact file {path} ({kind!r} of run {run_id!r}) is missing. Restore it from a "
                f"backup, or run the run again: {_rerun_hint(run_id)}"
            )
        actual = _sha256_of(path)
        if actual != art.sha256:
            raise StoreError(
                f"The artefact file {path} ({kind!r} of run {run_id!r}) does not match the SHA-256 "
                f"recorded when it was written (recorded {art.sha256}, found {actual}): it was "
                f"modified or corrupted. Restore it from a backup, or run the run again: "
                f"{_rerun_hint(run_id)}"
            )
        return path

    def read_artefact(self, run_id: str, kind: str) -> pd.DataFrame:
        """Read a Parquet artefact after checking its SHA-256 against the one recorded."""
        import pandas as pd

        path = self.artefact_path(run_id, kind)
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise StoreError(f"Cannot read the artefact file {path} as Parquet: {exc}.") from None

    # ------------------------------------------------------------------ fit cache
    @staticmethod
    def _check_fit_key(key: object) -> str:
        if not isinstance(key, str) or not _FIT_KEY_RE.match(key):
            raise StoreError(
                f"A fit key is the 64 hex digits of a SHA-256 (FitTask.key()). Got {key!r}."
            )
        return key

    def get_fit(self, key: str) -> FitRecord | None:
        """The cached fit with this key, or None (the file itself is checked by :meth:`read_fit`)."""
        key = self._check_fit_key(key)
        with self._session(write=False) as s:
            row = s.get(FitModel, key)
            return None if row is None else _to_fit(row)

    def list_fits(self, keys: Sequence[str] | None = None) -> list[FitRecord]:
        """Cached fits (those with ``keys``, or all), oldest first."""
        with self._session(write=False) as s:
            q = select(FitModel).order_by(FitModel.created_at, FitModel.key)
            if keys is not None:
                q = q.where(FitModel.key.in_([self._check_fit_key(k) for k in keys]))
            return [_to_fit(r) for r in s.scalars(q)]

    def _fit_file_ok(self, rec: FitRecord) -> bool:
        path = self._resolve_artefact_path(rec.path)
        return path.is_file() and _sha256_of(path) == rec.sha256

    def put_fit(
        self,
        key: str,
        *,
        recipe: Mapping[str, Any],
        subset_hash: str,
        seed: int,
        sample_seed: int,
        sample: pd.DataFrame,
        worker_id: str | None = None,
        fit_seconds: float | None = None,
        sample_seconds: float | None = None,
    ) -> FitRecord:
        """Cache ``sample`` (the output of fit task ``key``) as Parquet under ``fits/``; return its row.

        The first writer of a key wins: when the key is cached already (its file intact), the
        existing row is returned and ``sample`` is dropped, so two workers that fit the same task
        at once leave one entry. An entry whose file is missing or modified is replaced.
        """
        key = self._check_fit_key(key)
        existing = self.get_fit(key)
        if existing is not None and self._fit_file_ok(existing):
            return existing
        rel = f"fits/{key[:2]}/{key}.{uuid.uuid4().hex[:12]}.parquet"
        target = self._resolve_artefact_path(rel)
        sha, size = _write_parquet(target, sample)
        row = FitModel(
            key=key,
            recipe_json=_dumps(recipe, "recipe"),
            subset_hash=str(subset_hash),
            seed=int(seed),
            sample_seed=int(sample_seed),
            path=rel,
            sha256=sha,
            n_rows=len(sample),
            bytes=size,
            worker_id=worker_id,
            fit_seconds=_clean_float(fit_seconds, "fit_seconds"),
            sample_seconds=_clean_float(sample_seconds, "sample_seconds"),
            created_at=_now(),
        )
        try:
            with self._session(write=True) as s:
                old = s.get(FitModel, key)
                if old is not None:
                    if existing is None or old.sha256 != existing.sha256:
                        # Another worker cached it in the meantime: keep theirs.
                        target.unlink(missing_ok=True)
                        return _to_fit(old)
                    s.delete(old)  # the broken entry this call found
                    s.flush()
                s.add(row)
        except IntegrityError:
            target.unlink(missing_ok=True)
            won = self.get_fit(key)
            if won is None:  # pragma: no cover - a delete between the two statements
                raise
            return won
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if existing is not None and existing.path != rel:
            with suppress(OSError, StoreError):
                self._resolve_artefact_path(existing.path).unlink(missing_ok=True)
        return _to_fit(row)

    def delete_fits(self, keys: Sequence[str]) -> int:
        """Drop the cached fits ``keys`` (rows and Parquet files); returns how many were dropped.
        A study that needs one again refits it."""
        checked = [self._check_fit_key(k) for k in keys]
        paths: list[str] = []
        with self._session(write=True) as s:
            for row in s.scalars(select(FitModel).where(FitModel.key.in_(checked))):
                paths.append(row.path)
                s.delete(row)
        for rel in paths:
            with suppress(OSError, StoreError):
                self._resolve_artefact_path(rel).unlink(missing_ok=True)
        return len(paths)

    def read_fit(self, key: str) -> pd.DataFrame:
        """The cached sample of fit ``key``, after checking its SHA-256; StoreError if absent."""
        import pandas as pd

        rec = self.get_fit(key)
        if rec is None:
            raise StoreError(f"The fit {key} is not in the fit cache of the store {self.url}.")
        path = self._resolve_artefact_path(rec.path)
        if not path.is_file():
            raise StoreError(
                f"The cached fit file {path} (fit {key}) is missing; the fit is redone when a "
                "study needs it again."
            )
        actual = _sha256_of(path)
        if actual != rec.sha256:
            raise StoreError(
                f"The cached fit file {path} (fit {key}) does not match the SHA-256 recorded when "
                f"it was written (recorded {rec.sha256}, found {actual}): it was modified or "
                "corrupted. The fit is redone when a study needs it again."
            )
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise StoreError(f"Cannot read the cached fit file {path} as Parquet: {exc}.") from None


def _to_fit(row: FitModel) -> FitRecord:
    return FitRecord(
        key=row.key,
        recipe=_loads(row.recipe_json),
        subset_hash=row.subset_hash,
        seed=int(row.seed),
        sample_seed=int(row.sample_seed),
        path=row.path,
        sha256=row.sha256,
        n_rows=int(row.n_rows),
        bytes=int(row.bytes),
        worker_id=row.worker_id,
        fit_seconds=row.fit_seconds,
        sample_seconds=row.sample_seconds,
        created_at=row.created_at,
    )


def _write_parquet(target: Path, df: pd.DataFrame) -> tuple[str, int]:
    """Write ``df`` as Parquet to ``target`` atomically (temporary name, fsync, rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as fh:
            df.to_parquet(fh, engine="pyarrow")
            fh.flush()
            os.fsync(fh.fileno())
        sha = _sha256_of(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return sha, size


def _rerun_hint(run_id: str) -> str:
    return (
        f"`synth-audit runs requeue {run_id} --force` (deletes its results and artefacts and queues "
        "it), then `synth-audit study run STUDY.toml` for a study's run, or `synth-audit worker "
        "--once` for a run queued by the app."
    )


_reopened: dict[tuple[str, str, str | None], Store] = {}
_reopened_lock = threading.Lock()


_shared: dict[str, Store] = {}
_shared_lock = threading.Lock()


def shared_store(store: Store | str) -> Store:
    """``store`` itself, or the one :class:`Store` this process keeps open for the URL ``store``.

    What tasks shipped to workers with a store URL call (runs, fit tasks): each worker opens and
    checks a store once, not once per task.
    """
    if isinstance(store, Store):
        return store
    with _shared_lock:
        if store not in _shared:
            _shared[store] = open_store(store)
        return _shared[store]


def _reopen(url: str, workspace: str, script_location: Path | None) -> Store:
    """Unpickle a store: one :class:`Store` per store and process, so that a worker running many
    small tasks (fit tasks, runs) opens and checks each store once, not once per task."""
    cache_key = (url, workspace, None if script_location is None else str(script_location))
    with _reopened_lock:
        store = _reopened.get(cache_key)
        if store is None:
            store = open_store(url, workspace=Path(workspace), _script_location=script_location)
            _reopened[cache_key] = store
        return store


def _connect_error(resolved: ResolvedURL, exc: BaseException) -> StoreError:
    reason = getattr(exc, "orig", None) or exc
    if resolved.is_sqlite and "not a database" in str(reason):
        remedy = (
            "The file is not an SQLite database. Point --store at a synth-audit store file, or at "
            "a new file name to create one."
        )
    elif resolved.is_sqlite:
        remedy = (
            "Check that the directory exists and is writable, or choose another file with --store "
            "(default: <workspace>/synth_audit.sqlite; the workspace is $SYNTH_AUDIT_HOME or "
            "./.synth_audit)."
        )
    else:
        remedy = (
            "Check that the server is running and reachable, that the database exists and that the "
            "user and password are right (URL form: postgresql+psycopg://user:password@host:5432/"
            "dbname), or leave --store out to use the embedded SQLite file."
        )
    text = str(reason).strip().replace(resolved.url.password or "\0", "***")
    return StoreError(f"Cannot open the result store {resolved.masked}: {text}. {remedy}")


def _open_engine(
    url: str | Path | URL | None, workspace: Path | None
) -> tuple[ResolvedURL, Engine]:
    resolved = resolve_url(url, workspace=workspace)
    engine = create_store_engine(resolved)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise _connect_error(resolved, exc) from None
    return resolved, engine


def open_store(
    url: str | Path | URL | None = None,
    *,
    workspace: Path | None = None,
    upgrade: bool = False,
    _script_location: Path | None = None,
) -> Store:
    """Open (creating if needed) the result store at ``url``.

    ``url``: ``None`` for ``<workspace>/synth_audit.sqlite``; ``sqlite:///path``, a plain file path,
    or ``postgresql+psycopg://user:password@host:5432/dbname``. ``workspace`` defaults to
    ``$SYNTH_AUDIT_HOME`` or ``./.synth_audit``; it holds the default SQLite file and, for PostgreSQL,
    the artefacts.

    A fresh database is given the current schema. A store at an older schema revision is refused
    with the command that upgrades it, unless ``upgrade=True``; one written by a newer synth-audit is
    refused. ``_script_location`` (tests, forks) replaces the shipped migrations.
    """
    resolved, engine = _open_engine(url, workspace)
    try:
        check_schema(engine, resolved, upgrade=upgrade, script_location=_script_location)
    except OperationalError as exc:
        engine.dispose()
        raise _connect_error(resolved, exc) from None
    except BaseException:
        engine.dispose()
        raise
    return Store(resolved, engine, script_location=_script_location)


def upgrade_store(
    url: str | URL | None = None,
    *,
    workspace: Path | None = None,
    _script_location: Path | None = None,
) -> tuple[str | None, str]:
    """Upgrade the store at ``url`` to this synth-audit's schema; returns (before, after) revisions.

    What ``synth-audit store upgrade --store URL`` runs. Only adds tables, columns and indexes;
    nothing stored is dropped. Refuses a store written by a newer synth-audit.
    """
    resolved, engine = _open_engine(url, workspace)
    try:
        return upgrade_schema(engine, resolved, script_location=_script_location)
    except OperationalError as exc:
        raise _connect_error(resolved, exc) from None
    finally:
        engine.dispose()
