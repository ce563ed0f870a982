"""From a store URL (or nothing) to a configured SQLAlchemy engine.

Backends:

- **SQLite** (default): one file, ``<workspace>/synth_audit.sqlite``. Every connection turns on WAL (readers
  never block the writer), a 30 s ``busy_timeout`` (a writer waits for another instead of failing) and
  foreign keys. SQLAlchemy, not the ``sqlite3`` module, emits ``BEGIN``: write transactions start with
  ``BEGIN IMMEDIATE`` so that two processes never both read, then both try to write (which SQLite would
  answer with "database is locked" at once, without waiting). WAL needs a local file system; do not put
  the store on NFS or SMB.
- **PostgreSQL** (several users): ``postgresql+psycopg://user:password@host:5432/dbname``;
  ``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from synth_audit.errors import StoreError

__all__ = [
    "BUSY_TIMEOUT_S",
    "DEFAULT_DB_NAME",
    "STORE_ENV",
    "WORKSPACE_ENV",
    "ResolvedURL",
    "create_store_engine",
    "default_workspace",
    "mask_url",
    "resolve_url",
]

WORKSPACE_ENV = "SYNTH_AUDIT_HOME"
#: The store URL when no ``--store`` is given (the CLI, the app and the workers it starts). Put a
#: URL that holds a password here rather than on a command line, where ``ps`` shows it.
STORE_ENV = "SYNTH_AUDIT_STORE"
DEFAULT_DB_NAME = "synth_audit.sqlite"
BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
#: Execution option that marks a connection as a writer (SQLite: ``BEGIN IMMEDIATE``).
WRITE_OPTION = "synth_audit_write"

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_DRIVERS = {"postgresql", "postgresql+psycopg"}
_URL_EXAMPLES = (
    "sqlite:////absolute/path/results.sqlite, a plain file path, or "
    "postgresql+psycopg://user:password@host:5432/dbname"
)


@dataclass(frozen=True)
class ResolvedURL:
    url: URL
    artefact_root: Path
    workspace: Path

    @property
    def masked(self) -> str:
        return mask_url(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def default_workspace() -> Path:
    """``$SYNTH_AUDIT_HOME`` if set, else ``./.synth_audit``."""
    return Path(os.environ.get(WORKSPACE_ENV) or ".synth_audit")


def mask_url(url: URL | str) -> str:
    """The URL as text with its password replaced by ``***``."""
    if isinstance(url, str):
        text = url
        try:
            url = make_url(text)
        except ArgumentError:
            return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)
    return url.render_as_string(hide_password=True)


def resolve_url(url: str | Path | URL | None, *, workspace: Path | None = None) -> ResolvedURL:
    """Normalise a store URL and decide where its artefacts live.

    ``None`` is the SQLite file ``<workspace>/synth_audit.sqlite``. Text without ``://`` is read as the
    path of an SQLite file. The artefact root is ``<directory of the SQLite file>/artefacts``, or
    ``<workspace>/artefacts`` for a server database.
    """
    ws = Path(workspace) if workspace is not None else default_workspace()
    if isinstance(url, Path):
        url = str(url)
    if url is None:
        db = (ws / DEFAULT_DB_NAME).resolve()
        return ResolvedURL(URL.create("sqlite", database=str(db)), db.parent / "artefacts", ws)
    if isinstance(url, str) and "://" not in url:
        if not url.strip():
            raise StoreError(
                f"The store URL is empty. Give one such as {_URL_EXAMPLES}, or leave it out to use "
                f"the SQLite file in the workspace ({ws / DEFAULT_DB_NAME})."
            )
        db = Path(url).expanduser().resolve()
        return ResolvedURL(URL.create("sqlite", database=str(db)), db.parent / "artefacts", ws)
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise StoreError(
            f"Cannot read the store URL {mask_url(str(url))!r}: {exc}. Use a URL such as "
            f"{_URL_EXAMPLES}."
        ) from None
    driver = parsed.drivername
    if driver in _SQLITE_DRIVERS:
        if parsed.username or parsed.password or parsed.host or parsed.port:
            raise StoreError(
                f"The store URL {mask_url(parsed)!r} gives a user, password or host, which an SQLite "
                "file has none of. Write sqlite:////absolute/path/results.sqlite (four slashes), "
                "sqlite:///relative/path.sqlite or a plain file path."
            )
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreError(
                f"The store URL {mask_url(parsed)!r} names an in-memory SQLite database, which other "
                "processes cannot see and which is lost on exit. Give a file, e.g. "
                "sqlite:///results.sqlite."
            )
        db = Path(database).expanduser().resolve()
        parsed = parsed.set(drivername="sqlite", database=str(db))
        return ResolvedURL(parsed, db.parent / "artefacts", ws)
    if driver in _POSTGRES_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
        return ResolvedURL(parsed, (ws / "artefacts").resolve(), ws)
    raise StoreError(
        f"The store URL {mask_url(parsed)!r} uses the backend {driver!r}, which synth-audit does not "
        f"support. Use SQLite or PostgreSQL, e.g. {_URL_EXAMPLES}."
    )


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see ``_on_sqlite_begin``); the sqlite3 module's own
    # transaction handling would start transactions lazily and as DEFERRED.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    writer = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def create_store_engine(resolved: ResolvedURL) -> Engine:
    """An engine for the resolved URL, with the SQLite hooks described in the module docstring."""
    url = resolved.url
    kwargs: dict[str, Any] = {"pool_pre_ping": not resolved.is_sqlite}
    if resolved.is_sqlite:
        assert url.database is not None
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the directory of the store {mask_url(url)!r}: {exc}. Choose a "
                f"writable location (--store or ${WORKSPACE_ENV})."
            ) from None
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(url, **kwargs)
    except ArgumentError as exc:
        raise StoreError(
            f"Cannot open the store {mask_url(url)!r}: {str(exc).splitlines()[0]}. Use a URL such as "
            f"{_URL_EXAMPLES}."
        ) from None
    except (NoSuchModuleError, ImportError) as exc:
        hint = (
            'install the PostgreSQL driver with `pip install "psycopg[binary]>=3.1"`'
            if url.get_backend_name() == "postgresql"
            else "check the URL"
        )
        raise StoreError(
            f"Cannot open the store {mask_url(url)!r}: {exc}. To use it, {hint}."
        ) from None
    if resolved.is_sqlite:
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    return engine
