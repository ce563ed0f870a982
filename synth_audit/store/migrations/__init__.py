"""Alembic migration environment of the result store (run programmatically; see ``_migrate``)."""
