"""CLI commands of the data stage: simulate, ingest, features. Bodies live in their own modules."""

from __future__ import annotations

from features.ingest_cli import ingest_cmd
from features.simulator.cli import simulate_cmd
from features.indicators_cli import features_cmd

__all__ = ["features_cmd", "ingest_cmd", "simulate_cmd"]
