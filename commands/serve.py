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

from features import settings
from commands.options import ALIAS, WAREHOUSE, AliasOption, WarehouseOption

SERVICE = "serving.service:Povwatch"
SERVICE_NAME = "povwatch"  # the name in @bentoml.service, for BENTOML_CONFIG_OPTIONS


def serve_env(warehouse: Path, workers: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: telemetry off, registry and BentoML home in the warehouse, thread budget."""
    env = dict(os.environ if base is None else base)
    env.update({"BENTOML_DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                settings.WAREHOUSE_ENV: str(warehouse.resolve())})
    env.setdefault("BENTOML_HOME", str(warehouse.resolve() / "bentoml"))
    given = env.get(settings.NUM_THREADS_ENV)
    env[settings.NUM_THREADS_ENV] = given or str(settings.num_threads(workers))
    env["OMP_NUM_THREADS"] = env[settings.NUM_THREADS_ENV]  # LightGBM predicts with OpenMP's thread count
    options = [f"services.{SERVICE_NAME}.workers={workers}",
               f"services.{SERVICE_NAME}.logging.access.enabled=false"]
    env["BENTOML_CONFIG_OPTIONS"] = " ".join(filter(None, [env.get("BENTOML_CONFIG_OPTIONS", ""), *options]))
    root = str(Path(__file__).resolve().parent.parent)  # so workers import serving.service from any cwd
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def check_model(warehouse: Path, alias: str) -> str:
    """The version behind ``alias``, or one line naming what is missing (exit 2, ``commands.exit_codes``)."""
    from commands.exit_codes import fail
    from models.registry import MODEL_NAME, RegistryError, connect, quiet_telemetry, resolve, tracking_uri

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
    warehouse: WarehouseOption = WAREHOUSE,
    alias: AliasOption = ALIAS,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds to run before stopping (default: until "
                                                          "interrupted).")] = None,
    reload_interval: Annotated[float, typer.Option(help="Seconds between looks at the registry alias: a newly "
                                                   "promoted model is loaded and swapped in without a restart "
                                                   "(0: only on SIGHUP).", min=0)] = 30.0,
) -> None:
    """Serve the champion over HTTP: /score, /explain, /report, /model (+ /healthz, /readyz, /metrics). A promoted
    model is picked up without a restart (every --reload-interval seconds, and at once on SIGHUP)."""
    from commands.preconditions import require_free_port

    warehouse = warehouse.resolve()
    require_free_port(host, port)
    version = check_model(warehouse, alias)
    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("POVWATCH_API_TOKEN"):
        typer.echo(f"warning: binding {host} without POVWATCH_API_TOKEN: anyone who reaches the port can score",
                   err=True)
    from serving.hot_reload import RELOAD_SECONDS_ENV, RELOAD_TRIGGER_ENV, request_reload

    env = serve_env(warehouse, workers)
    env[settings.MODEL_ALIAS_ENV] = alias
    env[RELOAD_SECONDS_ENV] = str(reload_interval)
    trigger = Path(env["BENTOML_HOME"]) / f"povwatch-reload-{os.getpid()}"
    env[RELOAD_TRIGGER_ENV] = str(trigger)
    typer.echo(f"serving povwatch-risk@{alias} (version {version}) on http://{host}:{port} "
               f"with {workers} worker(s) x {env[settings.NUM_THREADS_ENV]} thread(s)", err=True)
    cmd = [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=str(Path(__file__).resolve().parent.parent))

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    signal.signal(signal.SIGHUP, lambda _s, _f: request_reload(trigger))  # workers look at the registry now
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        code = proc.wait()
    finally:
        trigger.unlink(missing_ok=True)
    raise typer.Exit(0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code)
