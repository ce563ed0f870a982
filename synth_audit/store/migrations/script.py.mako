"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Rules for every revision (see ``synth_audit/store/_migrate.py``):
- Never drop or rewrite stored data in ``upgrade``: add tables, nullable columns, indexes.
- Do not import ``synth_audit.store._models``: describe the schema as it is at this revision.
- Bump ``SCHEMA_REVISION`` in ``synth_audit/store/_migrate.py`` to this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    raise NotImplementedError(
        "synth-audit never downgrades a result store (it would drop stored results); "
        "restore a backup of the store instead."
    )
