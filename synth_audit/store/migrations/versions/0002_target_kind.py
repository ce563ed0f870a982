"""Runs name the kind of target they attack.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

``runs.target_kind``: "tabular_generator" for every study run stored before (the only kind there
was), "release" for the release evaluations the app queued (stored with generator "release" and
``params.kind = "release_evaluation"``). Additive: nothing is dropped or rewritten but the new column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column(
                "target_kind",
                sa.String(100),
                nullable=False,
                server_default="tabular_generator",
            )
        )
    op.execute("UPDATE runs SET target_kind = 'release' WHERE generator = 'release'")


def downgrade() -> None:
    raise NotImplementedError(
        "synth-audit never downgrades a result store (it would drop stored results); "
        "restore a backup of the store instead."
    )
