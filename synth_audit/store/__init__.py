"""The result store: every study, run, result and artefact synth-audit produces.

A database on a URL (SQLAlchemy 2.x) plus Parquet files beside it::

    from synth_audit.store import ResultRow, make_run_key, open_store

    store = open_store()  # <workspace>/synth_audit.sqlite; or open_store("postgresql+psycopg://...")
    store.ensure_study("demo", spec)
    key = make_run_key(study="demo", generator="gaussian_copula", params={}, seed=0)
    run_id = store.add_run(study="demo", run_key=key, generator="gaussian_copula", params={}, seed=0,
                           code_version="0.1.0")
    run = store.claim_run("worker-1")          # queued -> running, race-free across processes
    store.heartbeat(run.id, progress=0.5)
    store.finish_run(run.id, results=[ResultRow("linkability.risk", 0.02, 0.0, 0.05, 0.95)],
                     summary={"risk": 0.02})

- Default: an SQLite file in the workspace (WAL, 30 s busy timeout, foreign keys); PostgreSQL by URL for
  several users. Artefacts: ``<sqlite dir>/artefacts`` or ``<workspace>/artefacts``.
- The schema is versioned by Alembic migrations shipped in this package. Opening a store created by an
  older synth-audit asks for ``synth-audit store upgrade --store URL``; one written by a newer
  synth-audit is refused. Upgrades never drop stored data.
- Timestamps are UTC; JSON is stored as text with sorted keys.
"""

from __future__ import annotations

from ._engine import STORE_ENV, WORKSPACE_ENV, default_workspace, mask_url
from ._migrate import MIGRATIONS_DIR, SCHEMA_REVISION
from ._protocol import ResultStore
from ._records import (
    STATUSES,
    ArtefactRow,
    FitRecord,
    ResultRow,
    RunRecord,
    RunStatus,
    StudyRecord,
    canonical_json,
    make_run_key,
)
from ._store import Store, open_store, shared_store, upgrade_store

__all__ = [
    "MIGRATIONS_DIR",
    "SCHEMA_REVISION",
    "STATUSES",
    "STORE_ENV",
    "WORKSPACE_ENV",
    "ArtefactRow",
    "FitRecord",
    "ResultRow",
    "ResultStore",
    "RunRecord",
    "RunStatus",
    "Store",
    "StudyRecord",
    "canonical_json",
    "default_workspace",
    "make_run_key",
    "mask_url",
    "open_store",
    "shared_store",
    "upgrade_store",
]
