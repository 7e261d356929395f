"""What a command needs before it starts — data in the warehouse, a model in the registry, a free port — each
checked first, failing with one line and exit code 2 (``commands.exit_codes``) before anything is created."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from commands.exit_codes import fail


def require_rounds(warehouse: Path) -> "Warehouse":  # noqa: F821
    """The warehouse, when it holds at least one survey round; else 'run ingest first'."""
    from features.data.warehouse import Warehouse

    wh = Warehouse(warehouse)
    if not Path(warehouse).is_dir() or not wh.round_ids():
        fail(f"warehouse {warehouse} has no survey rounds; run `povwatch ingest <files> --warehouse {warehouse}` "
             "first")
    return wh


def require_model(warehouse: Path, alias: str):
    """The RiskModel behind ``alias``; else what is missing (no registry, no such alias), without creating a
    store."""
    from models.registry import RegistryError, load_risk_model

    try:
        return load_risk_model(warehouse, alias)
    except RegistryError as e:
        fail(str(e))


def require_free_port(host: str, port: int) -> None:
    """Fail with one line when ``host:port`` cannot be bound (in use, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is not "in use"
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is in use; stop what uses it or choose another with --port")
            fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
