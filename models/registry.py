"""MLflow tracking and model registry: one place for names, URIs and aliases.

Each warehouse carries its own registry: ``sqlite:///<warehouse>/mlflow.db`` with artifacts in
``<warehouse>/mlartifacts``, unless ``MLFLOW_TRACKING_URI`` says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

EXPERIMENT = "povwatch"
MONITORING_EXPERIMENT = "povwatch-monitoring"  # drift checks, audits, loop reports
MODEL_NAME = "povwatch-risk"
CHAMPION = "champion"
CHALLENGER = "challenger"


class RegistryError(RuntimeError):
    """The registry lacks what was asked for (no model, no alias)."""


def quiet_telemetry() -> None:
    """Switch off third-party telemetry for this process (called by commands, never at import)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")


@contextmanager
def _environment_kept(*names: str) -> Iterator[None]:
    """Restore the given environment variables to what they were on entry."""
    before = {n: os.environ.get(n) for n in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def tracking_uri(warehouse: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(warehouse).resolve()}/mlflow.db"


def reader(warehouse: Path) -> "mlflow.MlflowClient":  # noqa: F821
    """A client of the warehouse's store that leaves MLflow's process-wide state alone: for a background
    thread (the service's champion watcher) that must not move another code path's tracking URI mid-run."""
    quiet_telemetry()
    if not os.environ.get("MLFLOW_TRACKING_URI") and not (Path(warehouse) / "mlflow.db").exists():
        raise RegistryError(f"no model registry in {warehouse} (no mlflow.db)")
    import mlflow

    uri = tracking_uri(warehouse)
    return mlflow.MlflowClient(uri, uri)


def connect(warehouse: Path, *, create: bool = True) -> "mlflow.MlflowClient":  # noqa: F821
    """Point MLflow at the warehouse's store and make sure experiment ``povwatch`` exists.

    ``create=False`` (commands that only read a model): a warehouse without a store is a ``RegistryError``, and
    no ``mlflow.db`` is created for a command that would then fail for lack of a model."""
    quiet_telemetry()
    warehouse = Path(warehouse)
    if not create and not os.environ.get("MLFLOW_TRACKING_URI") and not (warehouse / "mlflow.db").exists():
        raise RegistryError(f"no model registry in {warehouse} (no mlflow.db); run `povwatch train --warehouse "
                            f"{warehouse}` first, or set MLFLOW_TRACKING_URI")
    import mlflow

    warehouse.mkdir(parents=True, exist_ok=True)
    user_uri = os.environ.get("MLFLOW_TRACKING_URI")
    uri = tracking_uri(warehouse)
    with _environment_kept("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        # mlflow.set_*_uri also export these variables; without restoring them, the next warehouse opened in
        # this process (a test, the demo) would silently use this warehouse's store.
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(uri, uri)
    if client.get_experiment_by_name(EXPERIMENT) is None:
        artifacts = None if user_uri else (warehouse.resolve() / "mlartifacts").as_uri()
        client.create_experiment(EXPERIMENT, artifact_location=artifacts)
    mlflow.set_experiment(EXPERIMENT)
    return client


@dataclass(frozen=True)
class ModelRef:
    version: str
    alias: str
    run_id: str


def resolve(client, alias: str) -> ModelRef:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(MODEL_NAME, alias)
    except MlflowException as e:
        hint = ("run `povwatch train` first, or `povwatch promote` if a challenger was not made champion "
                "(the gate says why; `--force` overrides)" if alias == CHAMPION else "run `povwatch train` first")
        raise RegistryError(f"no model {MODEL_NAME}@{alias} in the registry at {client.tracking_uri}; {hint}") from e
    return ModelRef(version=str(mv.version), alias=alias, run_id=mv.run_id)


def load_risk_model(warehouse: Path, alias: str = CHAMPION):
    """The RiskModel behind ``models:/povwatch-risk@<alias>``, with its registry version set."""
    client = connect(warehouse, create=False)
    ref = resolve(client, alias)
    import mlflow.pyfunc

    pyfunc = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{ref.version}")
    model = pyfunc.unwrap_python_model().risk_model
    model.model_version = ref.version
    model.metadata = {**model.metadata, "alias": alias, "run_id": ref.run_id}
    return model


def set_alias(client, alias: str, version: str) -> None:
    client.set_registered_model_alias(MODEL_NAME, alias, str(version))


def has_alias(client, alias: str) -> bool:
    try:
        resolve(client, alias)
        return True
    except RegistryError:
        return False


def alias_new_version(client, version: str) -> list[str]:
    """The alias policy for a freshly trained version: it becomes ``@challenger``, nothing more. ``@champion``
    moves only through the promotion gate (``training.promote``), the first model of a registry included (``train``
    puts it through the gate at once, as ``first_promotion``). Returns the aliases set."""
    set_alias(client, CHALLENGER, version)
    return [CHALLENGER]
