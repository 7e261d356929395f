"""Point-in-time household indicators: one family of features per module, assembled by ``build``.

Public entry points: ``build_indicators`` (batch, frames) and ``indicators_for`` (plain records, the
service) — the second builds frames and calls the first, so training and scoring share one code path.
"""

from features.indicators.build import build_indicators
from features.indicators.from_documents import indicators_for

__all__ = ["build_indicators", "indicators_for"]
