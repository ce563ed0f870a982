"""Alembic environment of the synth-audit result store.

At run time ``synth_audit.store._migrate`` hands over an open connection (already inside a transaction
that holds the store's migration lock) through ``config.attributes["connection"]``; no alembic.ini is
read and logging is left alone (the library is silent).

For developers writing a new revision, the usual Alembic commands also work with a URL, e.g.::

    alembic -x url=sqlite:///dev.sqlite \\
        -c /dev/null --raiseerr revision -m "add x"   # with script_location set, see CONTRIBUTING
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from synth_audit.store._models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("Pass the store URL with `alembic -x url=...`.")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
