"""Reported events per source and county in a round's window against the earlier rounds' windows: a
department feed that fell silent (or doubled) shows here before it blinds the between-round re-scoring.

The window of a round is from the previous round's as-of date to its own. A source is judged by its share
of the county's events, not its raw rate: a calm year lowers every source of a county alike (disasters and
illness come in waves), while a broken feed changes one source against the others. A source x county is
flagged when its count is off the count its earlier share predicts by a factor of two or more and a binomial
test rejects the earlier share after a Bonferroni correction over every source x county checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from scipy import stats

RATE_FACTOR = 2.0
FAMILY_ALPHA = 0.001
MIN_EXPECTED = 10.0   # fewer expected events than this cannot show a silence


@dataclass
class FeedDrift:
    source: str
    county: str
    events: int
    expected: float       # events the source's earlier share of the county's events predicts
    rate_ratio: float
    p_value: float
    drifted: bool


def _windows(warehouse) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    from features.indicators.labels import round_as_of

    ra = round_as_of(warehouse).sort_values()
    return [(r, pd.Timestamp(ra.iloc[i - 1]), pd.Timestamp(ra.iloc[i])) for i, r in enumerate(ra.index) if i > 0]


def _counts(warehouse, round_id: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Events by (source, county) in (start, end] and household-years by county."""
    hh = warehouse.households([round_id], columns=["household_id", "county"])
    ev = warehouse.events(start=start, end=end)
    ev = ev[ev["event_date"] > start].merge(hh, on="household_id", how="inner")
    years = (end - start).days / 365.25
    exposure = hh.groupby("county").size().astype(float) * years
    return ev.groupby(["source", "county"], observed=True).size(), exposure


def feed_drift(warehouse, round_id: str) -> list[FeedDrift]:
    """Every source x county of the round's window against all earlier windows with any event."""
    windows = {r: (a, b) for r, a, b in _windows(warehouse)}
    if round_id not in windows:
        return []
    order = list(windows)
    now, now_exp = _counts(warehouse, round_id, *windows[round_id])
    before, before_exp = None, None
    for r in order[:order.index(round_id)]:
        c, e = _counts(warehouse, r, *windows[r])
        if c.sum() == 0:
            continue  # no feed at all yet (e.g. the first window of a new system)
        before = c if before is None else before.add(c, fill_value=0)
        before_exp = e if before_exp is None else before_exp.add(e, fill_value=0)
    if before is None:
        return []
    keys = sorted(set(before.index) | set(now.index))
    tests = []
    for source, county in keys:
        if county not in now_exp.index or county not in before_exp.index:
            continue
        n_now, n_before = int(now.get((source, county), 0)), int(before.get((source, county), 0))
        county_now = int(now.xs(county, level="county").sum()) if county in now.index.get_level_values("county") else 0
        county_before = int(before.xs(county, level="county").sum())
        share = n_before / county_before if county_before else 0.0
        expected = share * county_now
        if expected < MIN_EXPECTED and n_now < MIN_EXPECTED:
            continue
        p = float(stats.binomtest(n_now, county_now, share).pvalue) if county_now and 0 < share < 1 else 1.0
        tests.append((source, county, n_now, expected, p))
    alpha = FAMILY_ALPHA / max(len(tests), 1)
    out = []
    for source, county, n_now, expected, p in tests:
        ratio = (n_now + 0.5) / (expected + 0.5)
        off = ratio <= 1 / RATE_FACTOR or ratio >= RATE_FACTOR
        out.append(FeedDrift(str(source), str(county), int(n_now), float(expected), float(ratio), p,
                             bool(off and p < alpha)))
    return out
