"""The store's tables as SQLAlchemy 2.x typed ORM classes.

These classes describe the schema at head. The schema itself is created and changed only by the
Alembic migrations in ``synth_audit/store/migrations/versions`` (which never import this module, so an
old migration keeps meaning what it meant when it was written). A test checks that the two agree.

Portability rules, so that SQLite and PostgreSQL behave the same:

- JSON lives in ``Text`` columns written with ``json.dumps(sort_keys=True)``.
- Timestamps are UTC. PostgreSQL stores ``timestamp with time zone``; SQLite stores naive UTC text, and
  :class:`UTCDateTime` turns both back into aware UTC datetimes.
- Seeds, counts and sizes are ``BigInteger`` (a seed may exceed 2**31 - 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ArtefactModel",
    "Base",
    "FitModel",
    "ResultModel",
    "RunModel",
    "StudyModel",
    "UTCDateTime",
]

# Deterministic constraint names, so that later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"The store only takes timezone-aware datetimes. Got {value!r}.")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StudyModel(Base):
    __tablename__ = "studies"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    spec_json: Mapped[str] = mapped_column(Text)
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunModel(Base):
    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("study_id", "run_key"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 1)", name="progress"),
        Index(None, "status", "created_at"),
        Index(None, "study_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    study_id: Mapped[str | None] = mapped_column(ForeignKey("studies.id"))
    run_key: Mapped[str] = mapped_column(String(128))
    generator: Mapped[str] = mapped_column(String(200))
    target_kind: Mapped[str] = mapped_column(String(100), server_default="tabular_generator")
    params_json: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    code_version: Mapped[str] = mapped_column(String(200))
    data_fingerprints_json: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float | None] = mapped_column(Float)
    progress_message: Mapped[str | None] = mapped_column(Text)
    summary_json: Mapped[str] = mapped_column(Text)


class ResultModel(Base):
    __tablename__ = "results"
    __table_args__ = (Index(None, "run_id", "metric", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    confidence_level: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(BigInteger)
    counts_json: Mapped[str] = mapped_column(Text)
    extra_json: Mapped[str] = mapped_column(Text)


class ArtefactModel(Base):
    __tablename__ = "artefacts"
    __table_args__ = (UniqueConstraint("run_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FitModel(Base):
    """The fit cache: one sample of one fit (recipe, training subset, seeds), a Parquet file.

    Not tied to a run: a fit is reused by every run (and study) that asks for the same key.
    """

    __tablename__ = "fits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipe_json: Mapped[str] = mapped_column(Text)
    subset_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    sample_seed: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    fit_seconds: Mapped[float | None] = mapped_column(Float)
    sample_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
