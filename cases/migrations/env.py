"""Alembic environment of the case store. Run programmatically by ``cases.migrate`` with the connection in
``config.attributes["connection"]``; no alembic.ini is needed."""

from alembic import context
from sqlalchemy import text

from cases.models import Base

MIGRATION_LOCK = 7_321_001  # PostgreSQL advisory lock: service workers starting together migrate one at a time

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", transactional_ddl=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # SQLite: the write transaction (BEGIN IMMEDIATE) serialises
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the case store's migrations run online only (cases.migrate.upgrade)")
run_migrations_online()
