"""Moved to ``models.registry`` (serving loads models without importing training); kept for old imports."""

from models.registry import (  # noqa: F401
    CHALLENGER,
    CHAMPION,
    EXPERIMENT,
    MODEL_NAME,
    ModelRef,
    RegistryError,
    connect,
    has_alias,
    load_risk_model,
    quiet_telemetry,
    resolve,
    set_alias,
    tracking_uri,
)
