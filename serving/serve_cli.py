"""``povwatch serve``: run the BentoML service (``serving.service:Povwatch``) with the warehouse's champion.

The registry is checked here, before BentoML starts, so a missing model is one clean message and a non-zero
exit instead of a worker traceback. BentoML then runs as a child process with an explicit environment:
telemetry off, ``BENTOML_HOME`` inside the warehouse, LightGBM threads sized to the workers, access log off.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

SERVICE = "serving.service:Povwatch"
SERVICE_NAME = "povwatch"  # the name in @bentoml.service, for BENTOML_CONFIG_OPTIONS


def serve_env(warehouse: Path, workers: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: telemetry off, registry and BentoML home in the warehouse, thread budget."""
    env = dict(os.environ if base is None else base)
    env.update({"BENTOML_DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                "POVWATCH_WAREHOUSE": str(warehouse.resolve())})
    env.setdefault("BENTOML_HOME", str(warehouse.resolve() / "bentoml"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    env.setdefault("POVWATCH_NUM_THREADS", str(threads))
    env["OMP_NUM_THREADS"] = env["POVWATCH_NUM_THREADS"]  # LightGBM predicts with OpenMP's thread count
    options = [f"services.{SERVICE_NAME}.workers={workers}",
               f"services.{SERVICE_NAME}.logging.access.enabled=false"]
    env["BENTOML_CONFIG_OPTIONS"] = " ".join(filter(None, [env.get("BENTOML_CONFIG_OPTIONS", ""), *options]))
    root = str(Path(__file__).resolve().parent.parent)  # so workers import serving.service from any cwd
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def check_model(warehouse: Path, alias: str) -> str:
    """The version behind ``alias``, or one line naming what is missing (exit 2, ``serving.exit_codes``)."""
    from serving.exit_codes import fail
    from training.registry import MODEL_NAME, RegistryError, connect, quiet_telemetry, resolve, tracking_uri

    quiet_telemetry()
    try:
        return resolve(connect(warehouse, create=False), alias).version
    except RegistryError as e:
        fail(str(e))
    except Exception as e:  # an unreadable store: say which, without a traceback
        fail(f"cannot read the registry at {tracking_uri(warehouse)} for {MODEL_NAME}@{alias}: "
             f"{type(e).__name__}: {e}")


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to bind; loopback by default. Use 0.0.0.0 only behind a "
                                           "proxy and with POVWATCH_API_TOKEN set.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 3000,
    workers: Annotated[int, typer.Option(help="Worker processes; each gets cores // workers LightGBM threads.",
                                         min=1, max=64)] = 1,
    warehouse: Annotated[Path, typer.Option(help="Warehouse whose registry holds the champion.",
                                            envvar="POVWATCH_WAREHOUSE")] = Path("povwatch-data"),
    alias: Annotated[str, typer.Option(help="Registry alias to serve.")] = "champion",
    timeout: Annotated[Optional[float], typer.Option(help="Seconds to run before stopping (default: until "
                                                          "interrupted).")] = None,
) -> None:
    """Serve the champion over HTTP: /score, /explain, /report, /model (+ /healthz, /readyz, /metrics)."""
    from serving.preconditions import require_free_port

    warehouse = warehouse.resolve()
    require_free_port(host, port)
    version = check_model(warehouse, alias)
    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("POVWATCH_API_TOKEN"):
        typer.echo(f"warning: binding {host} without POVWATCH_API_TOKEN: anyone who reaches the port can score",
                   err=True)
    env = serve_env(warehouse, workers)
    env["POVWATCH_MODEL_ALIAS"] = alias
    typer.echo(f"serving povwatch-risk@{alias} (version {version}) on http://{host}:{port} "
               f"with {workers} worker(s) x {env['POVWATCH_NUM_THREADS']} thread(s)", err=True)
    cmd = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=str(Path(__file__).resolve().parent.parent))

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        code = proc.wait()
    raise typer.Exit(0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code)
