"""What the visits found: per channel, per model version, and the miss rate the random audit reveals.

Definitions (``docs/cases.md``): an alert's outcome is its current state. **visits** are alerts where the team got
in (identified, not identified, already monitored); **identified_share** = identified / visits, with a 95 %
Wilson interval; days to visit/decision are counted from the alert's as-of date. The **audit** channel is a
random sample of households no other channel listed, so identified / audit visits estimates the share of
at-risk households the lists miss (the only unbiased estimate: outcomes exist only where somebody visited).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from scipy.stats import binomtest

from cases.follow_up import VISITED, case_states

AUDIT = "audit"
CONFIDENCE = 0.95


def wilson(k: int, n: int) -> list[float] | None:
    """The 95 % Wilson score interval of k successes in n trials (None when n is 0)."""
    if n <= 0:
        return None
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


def _median_days(end: pd.Series, start: pd.Series) -> float | None:
    days = (end - start).dt.days.dropna()
    return float(days.median()) if len(days) else None


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _figures(df: pd.DataFrame) -> dict[str, Any]:
    visits = int(df["outcome"].isin(VISITED).sum())
    identified = int(df["outcome"].eq("identified").sum())
    visited = df[df["outcome"].isin(VISITED)]
    return {"alerts": int(len(df)), "visits": visits, "identified": identified,
            "identified_share": _ratio(identified, visits), "identified_ci": wilson(identified, visits),
            "median_days_to_visit": _median_days(visited["visit_date"], visited["as_of"]),
            "median_days_to_decision": _median_days(visited["decision_date"], visited["as_of"]),
            "not_reached": int(df["outcome"].eq("not_reached").sum()),
            "overdue_share": _ratio(int(df["overdue"].sum()), len(df))}


def loop_report(alerts: pd.DataFrame, current: pd.DataFrame, *, at: pd.Timestamp,
                since: pd.Timestamp | None = None, unlisted_households: int | None = None) -> dict[str, Any]:
    """The loop report as a JSON-ready dict (shape in ``docs/cases.md``)."""
    if since is not None:
        alerts = alerts[alerts["as_of"] >= pd.Timestamp(since)]
    states = case_states(alerts, current, at)
    channels = []
    for channel, group in sorted(states.groupby("channel"), key=lambda cg: _channel_order(str(cg[0]))):
        channels.append({"channel": str(channel), **_figures(group)})
    by_channel = {c["channel"]: c for c in channels}
    audit = by_channel.get(AUDIT)
    miss = audit["identified_share"] if audit else None
    miss_ci = audit["identified_ci"] if audit else None
    model_alerts = states[states["channel"].eq("model")]
    by_version = [{"model_version": str(v), **_figures(g)}
                  for v, g in model_alerts.groupby(model_alerts["model_version"].fillna("—"), sort=True)]
    return {
        "since": None if since is None else pd.Timestamp(since).date().isoformat(),
        "at": pd.Timestamp(at).date().isoformat(),
        "channels": channels,
        "audit_miss_rate": miss,
        "audit_miss_rate_ci": miss_ci,
        "unlisted_households": unlisted_households,
        "implied_missed_households": _implied(miss, miss_ci, unlisted_households),
        "alerts_per_identified": _alerts_per_identified(by_channel),
        "by_model_version": by_version,
    }


def _channel_order(channel: str) -> tuple[int, str]:
    """Channels in the worklist's order (below_line, trigger, model, follow_up, audit, stale), others after."""
    from models.worklist import CHANNELS, STALE

    order = (*CHANNELS, STALE)
    return (order.index(channel) if channel in order else len(order), channel)


def _implied(rate: float | None, ci: list[float] | None, unlisted: int | None) -> dict[str, Any] | None:
    """At-risk households outside the lists: the audit miss rate times the households no list named."""
    if rate is None or unlisted is None:
        return None
    return {"estimate": int(round(rate * unlisted)), "ci": [int(math.floor(ci[0] * unlisted)),
                                                            int(math.ceil(ci[1] * unlisted))]}


def _alerts_per_identified(by_channel: dict[str, dict]) -> dict[str, float | None]:
    """Alerts issued per household identified: statutory triggers alone, and triggers plus the model."""
    def over(names: tuple[str, ...]) -> float | None:
        alerts = sum(by_channel[c]["alerts"] for c in names if c in by_channel)
        found = sum(by_channel[c]["identified"] for c in names if c in by_channel)
        return _ratio(alerts, found)

    return {"trigger": over(("trigger",)), "trigger+model": over(("trigger", "model"))}
