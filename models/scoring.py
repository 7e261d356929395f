"""``score_partition``: raw contract tables in, scores out — the function a CLI chunk, a service request and a
Spark partition all run, so that a household gets the same risk whichever way it arrives.

It is pure: no warehouse, registry or clock; the caller reads the rows and loads the model.
"""

from __future__ import annotations

import pandas as pd

from features.indicators.build import AsOf


def score_partition(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame,
                    lines: pd.DataFrame | None, as_of: AsOf, model, *, explain_top: int = 0, lang: str = "zh",
                    round_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """``RiskModel.score`` columns for every household of the partition with a record known at ``as_of``
    (one date, or a Series of dates by household_id), sorted by household_id.

    ``lines``: the monitoring lines to compute indicators with; None uses the model's own (the lines it was
    trained with — what scoring should use unless a county's table is newer). ``round_start``: the first
    survey date of the reference round, for ``stale`` (see ``features.data.as_of``). ``explain_top``: reasons per
    household (0: none).
    """
    from features.indicators import build_indicators

    indicators = build_indicators(households, members, events, model.lines if lines is None else lines, as_of)
    return model.score(indicators, explain_top=explain_top, lang=lang, round_start=round_start)
