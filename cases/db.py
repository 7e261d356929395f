"""Where the case store lives and how to connect to it (one place for the URL rule)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

DB_URL_ENV = "POVWATCH_DB_URL"
DB_FILE = "povwatch.db"


def database_url(warehouse: Path | str) -> str:
    """``$POVWATCH_DB_URL`` when set (``postgresql+psycopg://...``), else SQLite at ``<warehouse>/povwatch.db``."""
    url = os.environ.get(DB_URL_ENV, "").strip()
    if url:
        return _with_driver(url)
    return f"sqlite:///{Path(warehouse).resolve() / DB_FILE}"


def store_exists(warehouse: Path | str) -> bool:
    """Whether ``warehouse`` has a case store to read (a database URL set, or the SQLite file there): readers
    that only report (training, field reports) check this first so they never create an empty store."""
    return bool(os.environ.get(DB_URL_ENV, "").strip()) or (Path(warehouse) / DB_FILE).is_file()


def _with_driver(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver we ship), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, a busy timeout, WAL, transactional DDL (so a migration
    is all or nothing there too) and, for connections marked ``write=True``, ``BEGIN IMMEDIATE``: a writer
    takes the lock when its transaction begins, so two writers queue instead of one failing half-way."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # pysqlite's own implicit BEGIN off: SQLAlchemy emits ours
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: consistent after a crash of the process
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def ensure_parent(url: str) -> None:
    """Create the folder of a SQLite file (the warehouse may not exist yet)."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
