"""Late arrivals of department feeds: events that reach the warehouse long after they happened, so that the
re-scoring between rounds learned of them too late to act.

"Late" is judged against the feed's own delivery rhythm, not a fixed delay: an event is late when it
happened more than ``GRACE_DAYS`` before the previous delivery of its source (the previous ingest date that
brought events of that source) — it could have come with that delivery and did not. A source's first
delivery is a back-fill of its history and is not judged. A source x county is flagged when at least
``MIN_LATE`` of the events that arrived in the checked weeks were late and they make up at least
``LATE_SHARE`` of its arrivals there.

The arrival date is the warehouse's ``ingested_on`` (set by ``povwatch ingest``, ``--ingest-date`` for
replays); events stored before it was recorded have none and are counted apart, never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GRACE_DAYS = 7
MIN_LATE = 5
LATE_SHARE = 0.1


def late_arrivals(arrivals: pd.DataFrame, county: pd.Series, weeks: int) -> dict:
    """Per source x county: events that arrived in the last ``weeks`` weeks of deliveries, how many were late
    and by how much. ``arrivals``: ``Warehouse.event_arrivals()``; ``county``: household_id -> county."""
    from features.data.warehouse import INGESTED_ON

    known = arrivals[arrivals[INGESTED_ON].notna()]
    out = {"unknown_arrival": int(len(arrivals) - len(known)), "since": None, "until": None,
           "grace_days": GRACE_DAYS, "feeds": []}
    if known.empty:
        out["note"] = "not measured: no event has a recorded ingest date (warehouse written before it was kept)"
        return out
    known = known.assign(source=known["source"].fillna("(none)").astype(str),
                         county=known["household_id"].map(county).fillna("(unknown)").astype(str))
    deliveries = known[["source", INGESTED_ON]].drop_duplicates().sort_values(["source", INGESTED_ON])
    deliveries["previous"] = deliveries.groupby("source")[INGESTED_ON].shift()
    known = known.merge(deliveries, on=["source", INGESTED_ON], how="left")
    until = known[INGESTED_ON].max()
    since = until - pd.Timedelta(weeks=weeks)
    recent = known[(known[INGESTED_ON] > since) & known["previous"].notna()]
    recent = recent.assign(late=recent["event_date"] < recent["previous"] - pd.Timedelta(days=GRACE_DAYS),
                           delay=(recent[INGESTED_ON] - recent["event_date"]).dt.days)
    out.update(since=str(since.date()), until=str(until.date()))
    for (source, cty), g in recent.groupby(["source", "county"], observed=True):
        late = g[g["late"]]
        share = len(late) / len(g)
        out["feeds"].append({
            "source": str(source), "county": str(cty), "arrived": int(len(g)), "late": int(len(late)),
            "late_share": float(share),
            "median_delay_days": float(np.median(late["delay"])) if len(late) else None,
            "max_delay_days": int(late["delay"].max()) if len(late) else None,
            "drifted": bool(len(late) >= MIN_LATE and share >= LATE_SHARE)})
    if not out["feeds"]:
        out["note"] = "no delivery after each source's first (back-fill) in the checked weeks"
    return out
