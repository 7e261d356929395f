"""How many households no list named: the population the audit miss rate is scaled to."""

from __future__ import annotations

import pandas as pd

from features.data.warehouse import Warehouse

NOT_LISTED = ("audit", "stale")  # channels that do not put a household on a visit list


def unlisted_households(warehouse: Warehouse, alerts: pd.DataFrame, *, village: str | None = None) -> int | None:
    """Households not yet monitored of the alerts' counties (or of ``village`` of them) in the newest round
    surveyed by the latest as-of date, minus those any listing channel named — the population the audit samples;
    None when the warehouse has no such round."""
    if alerts.empty:
        return None
    rounds = warehouse.rounds()
    if rounds.empty:
        return None
    eligible = rounds[rounds["survey_date"] <= alerts["as_of"].max()]
    round_id = (eligible if len(eligible) else rounds)["round_id"].iloc[-1]
    households = warehouse.households(rounds=[round_id], columns=["household_id", "county", "village", "is_monitored"])
    households = households[~households["is_monitored"].fillna(False).astype(bool)]
    counties = set(alerts["county"].dropna())
    if counties:
        households = households[households["county"].isin(counties)]
    if village is not None:
        households = households[households["village"].eq(village)]
    listed = set(alerts.loc[~alerts["channel"].isin(NOT_LISTED), "household_id"])
    return int((~households["household_id"].isin(listed)).sum())
