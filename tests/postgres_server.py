"""A real PostgreSQL server for the case-store tests, from Debian's ``postgresql`` package.

``initdb`` + ``pg_ctl`` into a temporary folder on a free port, as an unprivileged user (PostgreSQL refuses to
run as root: under root the cluster belongs to the ``postgres`` account the package creates). Each test gets a
database of its own. Where the server cannot be installed or started, the tests that need it are skipped
with the reason (``make test`` installs the package first).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from commands import child_server

INSTALL_HINT = "install Debian's postgresql package (`make system-deps` does it, as root)"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return candidates[-1].parent if candidates else None


def _as_user(base: Path) -> list[str]:
    """The command prefix that runs the server unprivileged (and hands it the folder)."""
    if os.geteuid() != 0:
        return []
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("PostgreSQL tests skipped: running as root and there is no 'postgres' account to run the "
                    f"server as; {INSTALL_HINT}")
    os.chown(base, account.pw_uid, account.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[str]:
    """The URL of the maintenance database of a PostgreSQL server running for this test session."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip(f"PostgreSQL tests skipped: no pg_ctl found; {INSTALL_HINT}")
    base = Path(tempfile.mkdtemp(prefix="povwatch-pg-"))
    base.chmod(0o755)
    prefix = _as_user(base)
    data, logfile, port = base / "data", base / "server.log", child_server.free_port()
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "povwatch", "-A", "trust",
                        "-E", "UTF8", "--locale=C"], check=True, capture_output=True, timeout=120)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-w", "-t", "60",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = getattr(e, "stderr", b"") or b""
        log_tail = logfile.read_text(errors="replace")[-600:] if logfile.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL tests skipped: the server could not be started ({e}; "
                    f"{detail.decode(errors='replace')[-400:]} {log_tail})")
    try:
        yield f"postgresql+psycopg://povwatch@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def postgresql_url(postgresql_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server; dropped after the test."""
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgresql_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgresql_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
