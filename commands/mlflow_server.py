"""``make mlflow-server``: ``mlflow server`` over the warehouse's own registry (``training.tracking_server``).

Not a ``povwatch`` command (it replaces its own process with the server); run it as
``python -m commands.mlflow_server --warehouse DIR --port 5000``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from commands.options import WAREHOUSE, WarehouseOption
from training.tracking_server import DEFAULT_PORT, server_command, server_env


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
