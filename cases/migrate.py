"""Run the case store's Alembic migrations from code (they ship inside the package; no alembic.ini)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic's ``context`` is one module-level proxy: two threads migrating at once (a service's first requests)
# would tear it down under each other. Processes are serialised by the database (see migrations/env.py).
_ALEMBIC = threading.Lock()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _run(engine: Engine, action, revision: str) -> None:  # noqa: ANN001
    cfg = alembic_config(engine)
    with _ALEMBIC, engine.connect().execution_options(write=True) as connection:
        cfg.attributes["connection"] = connection
        action(cfg, revision)
        connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest); a no-op when it is there already."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (``base``: no tables)."""
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
