"""Survey simulator: a structural panel of rural households with known true risk (``povwatch simulate``).

Public API: ``simulate`` (a stream of ``RoundOutput`` rounds), ``step`` (one year, pure in state and rng),
``true_risk`` (Monte Carlo through ``step``). See CALIBRATION.md for the figures it is calibrated to.
"""

from features.simulator.run import RoundOutput, simulate
from features.simulator.step import step
from features.simulator.truth import true_risk

__all__ = ["RoundOutput", "simulate", "step", "true_risk"]
