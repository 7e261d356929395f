"""``make mlflow-server``: an MLflow tracking server over the warehouse's own registry.

Several analysts (or a Spark cluster, or the service on another machine) then share one registry through
``MLFLOW_TRACKING_URI=http://HOST:PORT`` instead of each opening ``<warehouse>/mlflow.db``. The server keeps the
warehouse's database (or any SQLAlchemy URL, e.g. PostgreSQL, via ``--backend-store-uri``) and proxies artifacts
to ``<warehouse>/mlartifacts`` (or ``--artifacts-destination``, e.g. ``s3://bucket/mlartifacts``), so clients
need no access to the artifact store themselves.

Run: ``python -m commands.mlflow_server --warehouse DIR --port 5000`` (what ``make mlflow-server`` runs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
