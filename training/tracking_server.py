"""``make mlflow-server``: an MLflow tracking server over the warehouse's own registry.

Several analysts (or a Spark cluster, or the service on another machine) then share one registry through
``MLFLOW_TRACKING_URI=http://HOST:PORT`` instead of each opening ``<warehouse>/mlflow.db``. The server keeps the
warehouse's database (or any SQLAlchemy URL, e.g. PostgreSQL, via ``--backend-store-uri``) and proxies artifacts
to ``<warehouse>/mlartifacts`` (or ``--artifacts-destination``, e.g. ``s3://bucket/mlartifacts``), so clients
need no access to the artifact store themselves.

Run: ``python -m training.tracking_server --warehouse DIR --port 5000`` (what ``make mlflow-server`` runs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import WAREHOUSE, WarehouseOption

DEFAULT_PORT = 5000


def backend_uri(warehouse: Path) -> str:
    """The warehouse's registry database: the store every command opens when no server is set."""
    return f"sqlite:///{Path(warehouse).resolve()}/mlflow.db"


def server_command(warehouse: Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, workers: int = 1,
                   backend_store_uri: str | None = None, artifacts_destination: str | None = None) -> list[str]:
    """The ``mlflow server`` command line (one place: the Makefile target and the tests run it)."""
    warehouse = Path(warehouse).resolve()
    artifacts = artifacts_destination or (warehouse / "mlartifacts").as_uri()
    return [sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", backend_store_uri or backend_uri(warehouse),
            "--artifacts-destination", artifacts, "--serve-artifacts",
            "--host", host, "--port", str(port), "--workers", str(workers)]


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: telemetry off, and no tracking URI of its own (it *is* the store)."""
    env = dict(os.environ if base is None else base)
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def main(
    warehouse: WarehouseOption = WAREHOUSE,
    host: Annotated[str, typer.Option(help="Address to bind; loopback by default. Use 0.0.0.0 only on a trusted "
                                           "network: this server has no authentication.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535, envvar="MLFLOW_PORT")] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option(help="Server worker processes.", min=1, max=32)] = 1,
    backend_store_uri: Annotated[Optional[str], typer.Option(
        help="Another store than the warehouse's SQLite file, e.g. postgresql://user@host/mlflow.")] = None,
    artifacts_destination: Annotated[Optional[str], typer.Option(
        help="Another artifact store than <warehouse>/mlartifacts, e.g. s3://bucket/mlartifacts.")] = None,
) -> None:
    """Start ``mlflow server`` on the warehouse's registry; point clients at it with MLFLOW_TRACKING_URI."""
    warehouse.mkdir(parents=True, exist_ok=True)
    cmd = server_command(warehouse, host=host, port=port, workers=workers, backend_store_uri=backend_store_uri,
                         artifacts_destination=artifacts_destination)
    typer.echo(f"MLflow server for {warehouse.resolve()} on http://{host}:{port}\n"
               f"  export MLFLOW_TRACKING_URI=http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}", err=True)
    os.execve(sys.executable, cmd, server_env())  # replaces this process: Ctrl-C and SIGTERM reach the server


if __name__ == "__main__":  # pragma: no cover
    typer.run(main)
