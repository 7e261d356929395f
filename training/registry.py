"""Moved to ``models.registry`` (serving loads models without importing training); kept for old imports."""

from models.registry import (
    CHALLENGER,
    CHAMPION,
    EXPERIMENT,
    MODEL_NAME,
    MONITORING_EXPERIMENT,
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

__all__ = ["CHALLENGER", "CHAMPION", "EXPERIMENT", "MODEL_NAME", "MONITORING_EXPERIMENT", "ModelRef", "RegistryError",
           "connect", "has_alias", "load_risk_model", "quiet_telemetry", "resolve", "set_alias", "tracking_uri"]
