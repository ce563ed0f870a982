"""The fit cache: shadow and reference fits keyed by recipe, training subset and seeds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

A new table ``fits`` (one row per cached sample: its key, recipe, subset hash, seeds, the Parquet
file under ``<artefact root>/fits/`` with its SHA-256, the worker and the fit's timings). Additive:
no existing table is touched, so every stored run keeps its key and resumes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fits",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("recipe_json", sa.Text(), nullable=False),
        sa.Column("subset_hash", sa.String(64), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("sample_seed", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("fit_seconds", sa.Float(), nullable=True),
        sa.Column("sample_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_fits"),
    )


def downgrade() -> None:
    raise NotImplementedError(
        "synth-audit never downgrades a result store (it would drop stored results); "
        "restore a backup of the store instead."
    )
