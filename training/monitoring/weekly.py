"""``povwatch drift --events``: reported events per source x county x week against their own history.

The history rate of each source x county (weeks before the checked window) sets what a week should bring.
A feed is ``silent`` when its trailing run of empty weeks is longer than its rate makes plausible
(P(no event for n weeks) = exp(-rate x n) < 1%) and longer than any empty run in its own history; a Poisson
CUSUM (Page) for a halving or a doubling of the
rate flags slower drops and surges, with its decision limit from the same CUSUM run over the history — and
only when the county's other sources did not move the same way (a flood raises every source of a county;
a broken feed changes one).
Late arrivals (an event that reached the warehouse long after it happened) come from the ingest date the
warehouse keeps with each event (``training.monitoring.late``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.monitoring.late import late_arrivals

SILENT_P = 0.01
MIN_HISTORY_WEEKS = 8


def _cusum(counts: np.ndarray, rate: float, factor: float) -> np.ndarray:
    """Page's CUSUM for a Poisson rate moving from ``rate`` to ``factor x rate`` (both directions by sign)."""
    new = rate * factor
    k = (new - rate) / np.log(factor)
    s, out = 0.0, []
    for c in counts:
        s = max(0.0, s + (c - k) * np.sign(factor - 1))
        out.append(s)
    return np.array(out)


def _longest_empty_run(counts: np.ndarray) -> int:
    best = run = 0
    for c in counts:
        run = run + 1 if c == 0 else 0
        best = max(best, run)
    return best


def _until(warehouse, ev: pd.DataFrame) -> pd.Timestamp:
    """The last complete week: the newest event's week, unless the events stop inside the newest round's
    survey period (a stream that ends at each household's survey thins out over those weeks): then the
    week before that period began."""
    last = ev["event_date"].max()
    rounds = warehouse.rounds()
    if len(rounds) and last <= rounds["last_date"].iloc[-1]:
        last = min(last, rounds["first_date"].iloc[-1] - pd.Timedelta(days=7))
    return last.to_period("W-SUN").start_time


def feed_weeks(warehouse, weeks: int = 12) -> dict:
    """Per source x county: history rate, the last ``weeks`` weekly counts, silence and CUSUM alarms."""
    ev = warehouse.events()
    if ev.empty:
        return {"until": None, "weeks": weeks, "feeds": [], "verdict": "no events"}
    hh = warehouse.households(columns=["household_id", "county", "survey_date"])
    county = hh.sort_values("survey_date").drop_duplicates("household_id", keep="last").set_index("household_id")["county"]
    ev = ev.assign(county=ev["household_id"].map(county).fillna("(unknown)").astype(str),
                   week=ev["event_date"].dt.to_period("W-SUN").dt.start_time)
    until = _until(warehouse, ev)
    ev = ev[ev["week"] <= until]
    all_weeks = pd.date_range(ev["week"].min(), until, freq="7D")
    start = until - pd.Timedelta(weeks=weeks - 1)
    table = ev.groupby(["source", "county", "week"], observed=True).size().unstack("week", fill_value=0)
    table = table.reindex(columns=all_weeks, fill_value=0)
    history, recent = table.loc[:, table.columns < start], table.loc[:, table.columns >= start]
    feeds = []
    county_of = table.index.get_level_values("county")
    for source, cty in table.index:
        others = (county_of == cty) & (table.index.get_level_values("source") != source)
        other_ratio = ((recent.loc[others].to_numpy().sum() + 0.5) / max(recent.shape[1], 1)) / \
            ((history.loc[others].to_numpy().sum() + 0.5) / max(history.shape[1], 1))
        h, r = history.loc[(source, cty)].to_numpy(float), recent.loc[(source, cty)].to_numpy(float)
        full = np.concatenate([h, r])
        trailing = len(full) - (np.flatnonzero(full)[-1] + 1) if full.any() else len(full)
        h = h[:len(full) - trailing]  # a silence that began before the window is not history to learn from
        rate = h.mean() if len(h) >= MIN_HISTORY_WEEKS else float("nan")
        entry = {"source": str(source), "county": str(cty), "history_weeks": len(h), "rate_per_week": rate,
                 "recent": [int(x) for x in r], "silent_weeks": int(trailing), "silent": False, "drop": False,
                 "surge": False}
        if np.isfinite(rate) and rate > 0:
            plausible = int(np.ceil(np.log(1 / SILENT_P) / rate))
            entry["silent"] = entry["silent_weeks"] >= max(plausible, _longest_empty_run(h) + 1)
            relative = ((r.sum() + 0.5) / max(len(r), 1) / rate) / other_ratio
            entry["ratio_to_other_sources"] = float(relative)
            for name, factor in (("drop", 0.5), ("surge", 2.0)):
                limit = max(_cusum(h, rate, factor).max(), 1.0)
                apart = relative <= factor if factor < 1 else relative >= factor
                entry[name] = bool(_cusum(r, rate, factor).max() > limit and apart)
        entry["drifted"] = entry["silent"] or entry["drop"] or entry["surge"]
        feeds.append(entry)
    late = late_arrivals(warehouse.event_arrivals(), county, weeks)
    bad = [f for f in feeds + late["feeds"] if f["drifted"]]
    return {"until": str(until.date()), "weeks": weeks, "feeds": feeds,
            "verdict": "data problem suspected" if bad else "stable", "late_arrivals": late}


def format_weeks(report: dict) -> str:
    if not report["feeds"]:
        return "no events in the warehouse"
    lines = [f"department feeds, {report['weeks']} weeks to {report['until']}: {report['verdict']}"]
    for f in report["feeds"]:
        flags = [k for k in ("silent", "drop", "surge") if f[k]]
        mark = " <- " + ", ".join(flags) if flags else ""
        lines.append(f"  {f['source']:<17} {f['county']:<8} history {f['rate_per_week']:.1f}/week, "
                     f"last weeks {' '.join(map(str, f['recent']))}{mark}")
    late = report["late_arrivals"]
    if late.get("note"):
        lines.append(f"  late arrivals: {late['note']}")
    else:
        lines.append(f"  late arrivals (happened > {late['grace_days']} days before their source's previous "
                     f"delivery), deliveries {late['since']} to {late['until']}:")
        for f in late["feeds"]:
            mark = " <- late" if f["drifted"] else ""
            delay = f", median {f['median_delay_days']:.0f} days late" if f["late"] else ""
            lines.append(f"  {f['source']:<17} {f['county']:<8} {f['late']} of {f['arrived']} late{delay}{mark}")
    if late["unknown_arrival"]:
        lines.append(f"  {late['unknown_arrival']} events have no recorded ingest date (stored before it was kept)")
    return "\n".join(lines)
