"""Frozen value objects that the store hands out and takes in.

They mirror the rows of the store's tables with the JSON columns already parsed, and carry no link to a
database session: a :class:`RunRecord` read in one process can be sent to another, compared, printed or
turned into a dict (``to_dict``) and back (``from_dict``) without touching the database again.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "STATUSES",
    "ArtefactRow",
    "FitRecord",
    "ResultRow",
    "RunRecord",
    "RunStatus",
    "StudyRecord",
    "canonical_json",
    "make_run_key",
]

RunStatus = Literal["queued", "running", "done", "failed"]
STATUSES: tuple[RunStatus, ...] = ("queued", "running", "done", "failed")


def _json_default(obj: object) -> Any:
    # numpy scalars and arrays (parameter grids often hold them) become plain Python values.
    for attr in ("item", "tolist"):
        convert = getattr(obj, attr, None)
        if callable(convert):
            return convert()
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


def canonical_json(obj: object) -> str:
    """``json.dumps`` with sorted keys and no spaces: equal values give equal text on every backend."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def make_run_key(*, study: str, generator: str, params: Mapping[str, Any], seed: int) -> str:
    """Deterministic key of one run: SHA-256 of the canonical JSON of (study, generator, params, seed).

    Two expansions of the same study produce the same keys, so a re-run finds the runs already stored
    (:meth:`Store.add_run` is idempotent on ``(study, run_key)``).
    """
    payload = canonical_json(
        {"study": study, "generator": generator, "params": dict(params), "seed": int(seed)}
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    out = float(value)  # type: ignore[arg-type]
    return None if math.isnan(out) else out


@dataclass(frozen=True)
class StudyRecord:
    """One study: its name, the spec it was declared with and when it was first stored."""

    name: str
    spec: dict[str, Any]
    spec_hash: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": self.spec,
            "spec_hash": self.spec_hash,
            "created_at": _iso(self.created_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudyRecord:
        created = _parse_dt(data["created_at"])
        assert created is not None
        return cls(
            name=str(data["name"]),
            spec=dict(data["spec"]),
            spec_hash=str(data["spec_hash"]),
            created_at=created,
        )


@dataclass(frozen=True)
class RunRecord:
    """One run as stored: identity, what it runs, where it stands, and its small summary dict.

    Timestamps are timezone-aware UTC datetimes.
    """

    id: str
    study: str | None
    run_key: str
    generator: str
    params: dict[str, Any]
    seed: int
    status: RunStatus
    code_version: str
    data_fingerprints: dict[str, Any]
    worker_id: str | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    progress: float | None
    progress_message: str | None
    summary: dict[str, Any]
    target_kind: str = "tabular_generator"

    @property
    def candidate(self) -> str:
        """The name of what the run fits or audits (stored in the column ``generator``)."""
        return self.generator

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "study": self.study,
            "run_key": self.run_key,
            "generator": self.generator,
            "params": self.params,
            "seed": self.seed,
            "status": self.status,
            "code_version": self.code_version,
            "data_fingerprints": self.data_fingerprints,
            "worker_id": self.worker_id,
            "heartbeat_at": _iso(self.heartbeat_at),
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "error": self.error,
            "progress": self.progress,
            "progress_message": self.progress_message,
            "summary": self.summary,
            "target_kind": self.target_kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        created = _parse_dt(data["created_at"])
        assert created is not None
        status = str(data["status"])
        if status not in STATUSES:
            raise ValueError(f"Unknown run status {status!r}; expected one of {STATUSES}.")
        return cls(
            id=str(data["id"]),
            study=None if data.get("study") is None else str(data["study"]),
            run_key=str(data["run_key"]),
            generator=str(data["generator"]),
            params=dict(data.get("params") or {}),
            seed=int(data["seed"]),
            status=status,  # type: ignore[arg-type]
            code_version=str(data["code_version"]),
            data_fingerprints=dict(data.get("data_fingerprints") or {}),
            worker_id=data.get("worker_id"),
            heartbeat_at=_parse_dt(data.get("heartbeat_at")),
            created_at=created,
            started_at=_parse_dt(data.get("started_at")),
            finished_at=_parse_dt(data.get("finished_at")),
            error=data.get("error"),
            progress=_opt_float(data.get("progress")),
            progress_message=data.get("progress_message"),
            summary=dict(data.get("summary") or {}),
            target_kind=str(data.get("target_kind") or "tabular_generator"),
        )


@dataclass(frozen=True)
class ResultRow:
    """One metric of one run: ``value`` with its CI, confidence level, sample size and raw counts.

    ``metric`` is a dotted name such as ``"linkability.risk"`` or ``"membership.auc"``; a run holds at
    most one row per metric. ``value`` is ``None`` when the metric could not be computed (``NaN`` is
    stored as ``None`` so that SQLite and PostgreSQL agree).
    """

    metric: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence_level: float | None = None
    n: int | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence_level": self.confidence_level,
            "n": self.n,
            "counts": self.counts,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResultRow:
        n = data.get("n")
        return cls(
            metric=str(data["metric"]),
            value=_opt_float(data.get("value")),
            ci_low=_opt_float(data.get("ci_low")),
            ci_high=_opt_float(data.get("ci_high")),
            confidence_level=_opt_float(data.get("confidence_level")),
            n=None if n is None else int(n),
            counts=dict(data.get("counts") or {}),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class ArtefactRow:
    """A bulk file of one run (synthetic sample, per-record scores, report), kept beside the store.

    ``path`` is relative to the store's ``artefact_root`` and uses ``/`` on every platform; ``sha256``
    is the hex digest of the file's bytes, checked on every read.
    """

    kind: str
    path: str
    sha256: str
    bytes: int
    n_rows: int | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "n_rows": self.n_rows,
            "created_at": _iso(self.created_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtefactRow:
        n_rows = data.get("n_rows")
        return cls(
            kind=str(data["kind"]),
            path=str(data["path"]),
            sha256=str(data["sha256"]),
            bytes=int(data["bytes"]),
            n_rows=None if n_rows is None else int(n_rows),
            created_at=_parse_dt(data.get("created_at")),
        )


@dataclass(frozen=True)
class FitRecord:
    """One cached fit (table ``fits``): the sample of a fit of ``recipe`` on a training subset.

    ``key`` is the fit task's key (SHA-256 of recipe, subset hash and seeds); ``path`` is relative
    to the store's ``artefact_root`` (under ``fits/``) and ``sha256`` is checked on every read.
    ``worker_id`` (``host:pid``) and the timings say where and how long the fit ran.
    """

    key: str
    recipe: Mapping[str, Any]
    subset_hash: str
    seed: int
    sample_seed: int
    path: str
    sha256: str
    n_rows: int
    bytes: int
    worker_id: str | None = None
    fit_seconds: float | None = None
    sample_seconds: float | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "recipe": dict(self.recipe),
            "subset_hash": self.subset_hash,
            "seed": self.seed,
            "sample_seed": self.sample_seed,
            "path": self.path,
            "sha256": self.sha256,
            "n_rows": self.n_rows,
            "bytes": self.bytes,
            "worker_id": self.worker_id,
            "fit_seconds": self.fit_seconds,
            "sample_seconds": self.sample_seconds,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
        }
