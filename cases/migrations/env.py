"""Alembic environment of the case store. Run programmatically by ``cases.migrate`` with the connection in
``config.attributes["connection"]``; no alembic.ini is needed."""

from alembic import context

from cases.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the case store's migrations run online only (cases.migrate.upgrade)")
run_migrations_online()
