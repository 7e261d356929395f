"""Survey simulator: a structural panel of rural households with known true risk (``povwatch simulate``).

Public API: ``simulate`` (a stream of ``RoundOutput`` rounds), ``step`` (one year, pure in state and rng),
``true_risk`` (Monte Carlo through ``step``). See CALIBRATION.md for the figures it is calibrated to.
"""

from importlib import import_module
from typing import Any

_HOME = {"RoundOutput": "run", "simulate": "run", "step": "step", "true_risk": "truth"}

__all__ = ["RoundOutput", "simulate", "step", "true_risk"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use: ``povwatch --help`` imports ``commands.simulate`` and must not
    load numpy and pandas."""
    if name in _HOME:
        return getattr(import_module(f"features.simulator.{_HOME[name]}"), name)
    raise AttributeError(f"module 'features.simulator' has no attribute {name!r}")
