"""Schema versions of the store, managed by Alembic and run from Python (no alembic.ini at run time).

The migration environment ships inside the package (``synth_audit/store/migrations``). A store records
its revision in Alembic's ``alembic_version`` table, and :func:`check_schema` compares it with the head
revision of the migrations that this synth-audit carries:

- no ``alembic_version`` table and none of the store's tables: a fresh database, upgraded to head;
- at head: used as is;
- an older known revision: refused unless the caller asked to upgrade (``synth-audit store upgrade``);
- a revision these migrations do not know: refused; it was written by a newer synth-audit.

Upgrades only add: no revision may drop or rewrite stored data (``downgrade`` refuses outright). An
upgrade runs in one transaction holding a lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory
lock), so two processes that open a fresh store at once do not both create it.

To write a new revision: change ``_models.py``, run :func:`new_revision` (it autogenerates the diff
against a scratch SQLite store at head), review the file, and bump :data:`SCHEMA_REVISION`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from synth_audit._logging import get_logger
from synth_audit.errors import StoreError

from ._engine import WRITE_OPTION, ResolvedURL, create_store_engine, mask_url, resolve_url

__all__ = [
    "MIGRATIONS_DIR",
    "SCHEMA_REVISION",
    "SchemaState",
    "alembic_config",
    "check_schema",
    "new_revision",
    "read_schema_state",
    "upgrade_schema",
]

_log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The head revision of the migrations shipped with this synth-audit (a test keeps it in step).
SCHEMA_REVISION = "0003"

_STORE_TABLES = frozenset({"studies", "runs", "results", "artefacts"})
# Any constant works; it only has to be the same in every process that migrates a store.
_PG_MIGRATION_LOCK = 0x5A_5A_A0D1


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands relative to the migrations at hand."""

    current: str | None  # None: never migrated
    head: str
    known: bool  # ``current`` is one of the revisions at hand (or None)
    has_store_tables: bool

    @property
    def is_fresh(self) -> bool:
        return self.current is None and not self.has_store_tables

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def is_older(self) -> bool:
        return self.known and self.current is not None and self.current != self.head


def alembic_config(script_location: Path | None = None) -> Config:
    """An Alembic ``Config`` pointing at the shipped migrations (or ``script_location``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    return cfg


def _head(cfg: Config) -> tuple[ScriptDirectory, str]:
    script = ScriptDirectory.from_config(cfg)
    heads = script.get_heads()
    if len(heads) != 1:
        raise StoreError(
            f"The store migrations in {script.dir} have {len(heads)} heads ({', '.join(heads)}); "
            "they must form one line. Merge the branches with a new revision."
        )
    return script, heads[0]


def read_schema_state(conn: Connection, script_location: Path | None = None) -> SchemaState:
    cfg = alembic_config(script_location)
    script, head = _head(cfg)
    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        current: str | None = "+".join(sorted(heads))
        known = False
    else:
        current = heads[0] if heads else None
        known = current is None or _is_known(script, current)
    tables = set(inspect(conn).get_table_names())
    return SchemaState(
        current=current, head=head, known=known, has_store_tables=bool(tables & _STORE_TABLES)
    )


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for unknown / malformed ids
        return False


def check_schema(
    engine: Engine,
    resolved: ResolvedURL,
    *,
    upgrade: bool,
    script_location: Path | None = None,
) -> str:
    """Make sure the database is at head; upgrade a fresh one (or any older one if ``upgrade``).

    Returns the revision the database is at afterwards. Raises :class:`StoreError` for an older store
    (without ``upgrade``), a newer or unknown one, and a database with the store's tables but no
    version.
    """
    with engine.connect() as conn:
        state = read_schema_state(conn, script_location)
    url = resolved.masked
    if state.at_head:
        return state.head
    _refuse_foreign(state, url)
    if state.is_older and not upgrade:
        raise StoreError(
            f"The result store {url} has schema revision {state.current!r}, older than this "
            f"synth-audit's {state.head!r}. Upgrade it with `synth-audit store upgrade "
            + (
                f"--store {url}`"
                if resolved.url.password is None
                else f"` with $SYNTH_AUDIT_STORE set to the store's URL ({url})"
            )
            + " (nothing stored is dropped; back up the store first if you like), or call "
            "open_store(..., upgrade=True)."
        )
    _, after = upgrade_schema(engine, resolved, script_location=script_location)
    return after


def _refuse_foreign(state: SchemaState, url: str) -> None:
    if state.current is None and state.has_store_tables:
        raise StoreError(
            f"The database {url} has tables named like the store's (studies, runs, results, "
            "artefacts) but no synth-audit schema version, so synth-audit will not write to it. "
            "Point --store at an empty database or at a synth-audit store."
        )
    if not state.known:
        raise StoreError(
            f"The result store {url} has schema revision {state.current!r}, which this synth-audit "
            f"(schema revision {state.head!r}) does not know: it was written by a newer synth-audit. "
            "Upgrade synth-audit to use this store (do not upgrade or downgrade the store), or use "
            "another store."
        )


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            yield conn


def upgrade_schema(
    engine: Engine, resolved: ResolvedURL, *, script_location: Path | None = None
) -> tuple[str | None, str]:
    """Upgrade the database to head under the migration lock; returns (before, after)."""
    cfg = alembic_config(script_location)
    _, head = _head(cfg)
    with _migration_lock(engine) as conn:
        # Read again under the lock: another process may have migrated in the meantime.
        state = read_schema_state(conn, script_location)
        _refuse_foreign(state, resolved.masked)
        if state.at_head:
            return state.current, head
        _log.info("Upgrading store %s from %s to %s", resolved.masked, state.current, head)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        return state.current, head


def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write the next migration file (for developers); returns its path. Review it before committing.

    Revisions are numbered ``0001``, ``0002``, ... so that their order is plain in the file names.
    Alembic reports what it writes on stdout.
    """
    cfg = alembic_config()
    _, head = _head(cfg)
    rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    with tempfile.TemporaryDirectory() as tmp:
        resolved = resolve_url(str(Path(tmp) / "scratch.sqlite"))
        engine = create_store_engine(resolved)
        try:
            upgrade_schema(engine, resolved)
            with _migration_lock(engine) as conn:
                cfg.attributes["connection"] = conn
                script = command.revision(
                    cfg, message=message, autogenerate=autogenerate, rev_id=rev_id
                )
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError(f"Alembic wrote no single revision for {message!r}.")
    _log.info("Wrote %s (store %s)", script.path, mask_url(resolved.url))
    return Path(script.path)
