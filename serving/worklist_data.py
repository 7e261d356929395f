"""The worklist's status table from the warehouse or from request documents, and the reasons of the listed
households — the data side of ``models.worklist``, which decides.

Both paths compute indicators with the model's own code (``RiskModel``), score with it, and explain the listed
households with ``models.explain`` (the one reason-selection rule).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from features.data.as_of import reference_round
from features.data.chunks import DEFAULT_CHUNK, IdRangeView, id_ranges
from features.data.heap import release_free_memory
from features.data.warehouse import IdRange
from models.risk_model import RiskModel
from models.worklist import Listed

DEPARTMENT_ALERT = "department_alert"
SHOCK_SINCE_SURVEY = "_count_since_survey"


def below_line(indicators: pd.DataFrame, eligible_now: np.ndarray) -> np.ndarray:
    """Already below the line at the as-of record: ``RiskModel.score``'s ``eligible`` false where the hardship
    income is known (unknown income is not 'below')."""
    known = indicators["hardship_income_pc"].notna().to_numpy() & indicators["monitoring_line"].notna().to_numpy()
    return known & ~np.asarray(eligible_now, dtype=bool)


def department_alert_days(events: pd.DataFrame, as_of: pd.Series | pd.Timestamp) -> pd.Series:
    """Days from each household's latest department alert (``events.source``) to its as-of date."""
    if events.empty or "source" not in events.columns:
        return pd.Series(dtype="float64")
    ev = events.loc[events["source"].astype("object") == DEPARTMENT_ALERT, ["household_id", "event_date"]].copy()
    ev["household_id"] = ev["household_id"].astype(str)
    if isinstance(as_of, pd.Series):
        ev["as_of"] = ev["household_id"].map(as_of)
    else:
        ev["as_of"] = pd.Timestamp(as_of)
    ev = ev[pd.to_datetime(ev["event_date"]) <= ev["as_of"]]
    days = (ev["as_of"] - pd.to_datetime(ev["event_date"])).dt.days
    return days.groupby(ev["household_id"]).min().astype("float64")


def status_table(model: RiskModel, indicators: pd.DataFrame, places: pd.DataFrame, events: pd.DataFrame, *,
                 reference_start: pd.Timestamp | None, previous_risk: pd.Series | None = None) -> pd.DataFrame:
    """``models.worklist.STATUS_COLUMNS`` for every household of ``indicators``; ``places`` gives each
    household's ``village`` and ``county``."""
    ind = indicators.reset_index(drop=True)
    ids = ind["household_id"].astype(str)
    status = pd.DataFrame({"household_id": ids, "round_id": ind["round_id"].astype(str),
                           "survey_date": pd.to_datetime(ind["survey_date"])})
    where = places.assign(household_id=places["household_id"].astype(str)).set_index("household_id")
    status["village"] = ids.map(where["village"]).fillna("—").astype(str)
    status["county"] = ids.map(where["county"]).fillna("—").astype(str)
    scored = model.score(ind, round_start=reference_start)  # the one scoring interface: risk, eligible, stale
    status["stale"] = scored["stale"].to_numpy(dtype=bool)  # re-survey, do not treat as current
    status["below_line"] = below_line(ind, scored["eligible"].to_numpy())
    current = ~status["stale"] & ~status["below_line"]
    status["risk"] = np.where(current, scored["risk"].to_numpy(), np.nan)
    status["tier"] = np.where(current, scored["tier"].to_numpy(), "")
    status["monitored"] = ind["monitored_now"].fillna(0).to_numpy() >= 0.5
    status["previous_risk"] = ids.map(previous_risk).to_numpy(dtype="float64") if previous_risk is not None else np.nan
    shock_cols = [c for c in ind.columns if c.startswith("shock_") and c.endswith(SHOCK_SINCE_SURVEY)]
    status["new_shock"] = (ind[shock_cols].fillna(0).to_numpy() > 0).any(axis=1) if shock_cols else False
    as_of = pd.Series(pd.to_datetime(ind["as_of"]).to_numpy(), index=ids)
    status["department_alert_days"] = ids.map(department_alert_days(events, as_of)).to_numpy(dtype="float64")
    medical = ind["medical_expense"].fillna(0) + ind["shock_health_amount_since_survey"].fillna(0)
    status["medical_spending"] = medical.to_numpy()
    status["rigid_spending"] = (medical + ind["education_expense"].fillna(0)).to_numpy()
    status["net_income"] = ind["net_income"].to_numpy()
    status["hardship_ratio"] = ind["hardship_ratio"].to_numpy()
    return status


def explained(model: RiskModel, indicators: pd.DataFrame, *, top: int = 3) -> dict[str, Listed]:
    """Reasons and measures of every household of ``indicators`` (``models.explain``, the one rule)."""
    from models.explain import explain

    if indicators.empty:
        return {}
    return {e.household_id: Listed(e.reasons, e.measures) for e in explain(model, indicators, top=top)}


def listed_from(model: RiskModel, indicators: pd.DataFrame, *, top: int = 3) -> Callable[[list[str]], dict[str, Listed]]:
    """The ``listed`` callback of ``models.worklist.build`` over indicators in memory (the documents path)."""

    def listed(ids: list[str]) -> dict[str, Listed]:
        part = indicators[indicators["household_id"].astype(str).isin(set(ids))].reset_index(drop=True)
        return explained(model, part, top=top)

    return listed


@dataclass(frozen=True)
class _Area:
    """What both passes over the warehouse read: the rounds known at ``as_of`` and the household-id ranges."""

    warehouse: Any
    known: list[str]
    as_of: pd.Timestamp
    ref_start: pd.Timestamp | None
    county: str | None
    village: str | None
    ranges: list[IdRange]


@dataclass
class _RangeTables:
    """One household-id range's tables at ``as_of``, restricted to the households kept (``area``: their
    latest record, with village and county)."""

    area: pd.DataFrame
    households: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame


def _read_range(area: _Area, rng: IdRange, keep: Callable[[pd.DataFrame], pd.DataFrame]) -> _RangeTables | None:
    """The one range read of both passes: the range's records on or before ``as_of``, its members and events,
    restricted to the households ``keep`` returns from the latest records; None when it keeps none."""
    view = IdRangeView(area.warehouse, rng)
    hh = view.households(area.known)
    hh = hh[hh["survey_date"] <= area.as_of]
    latest = hh.sort_values(["household_id", "survey_date"]).groupby("household_id", sort=True).tail(1)
    kept = keep(latest)
    if kept.empty:
        return None
    ids = set(kept["household_id"].astype(str))
    hh = hh[hh["household_id"].astype(str).isin(ids)]
    mem = view.members(area.known)
    mem = mem[mem["household_id"].astype(str).isin(ids)]
    ev = view.events(end=area.as_of)
    ev = ev[ev["household_id"].astype(str).isin(ids)]
    return _RangeTables(kept, hh, mem, ev)


class WarehouseListed:
    """Pass 2, the ``listed`` callback of ``models.worklist.build`` for the warehouse path: re-reads only the
    ranges that hold listed households, builds indicators for those households only and explains them a
    range at a time, so memory is bounded by the chunk and the list, not the county. ``ranges_read`` and
    ``households_built`` say what it read (the list is small next to the county)."""

    def __init__(self, model: RiskModel, area: _Area, *, top: int = 3) -> None:
        self.model, self.area, self.top = model, area, top
        self.ranges_read: list[IdRange] = []
        self.households_built = 0

    def __call__(self, ids: list[str]) -> dict[str, Listed]:
        from features.indicators import build_indicators

        wanted = sorted({str(h) for h in ids})
        out: dict[str, Listed] = {}
        for rng in self.area.ranges:
            part = set(wanted[bisect_left(wanted, rng[0]):bisect_right(wanted, rng[1])])
            if not part:
                continue
            tables = _read_range(self.area, rng, lambda latest: latest[latest["household_id"].astype(str).isin(part)])
            self.ranges_read.append(rng)
            if tables is None:
                continue
            ind = build_indicators(tables.households, tables.members, tables.events, self.model.lines,
                                   self.area.as_of)
            self.households_built += len(ind)
            out.update(explained(self.model, ind, top=self.top))
            del tables, ind
            release_free_memory()  # the range's frames are gone: give their pages back before the next
        return out


class WarehouseInputs(NamedTuple):
    """The status table of the area's households and the ``listed`` callback that explains the listed ones."""

    status: pd.DataFrame
    listed: WarehouseListed


def warehouse_inputs(model: RiskModel, warehouse, *, as_of: pd.Timestamp, round_id: str | None = None,
                     county: str | None = None, village: str | None = None,
                     chunk: int | None = None, top: int = 3) -> WarehouseInputs:
    """Status table of the households of a county or village (all when neither) at ``as_of``, and the
    callback that gives the listed ones their reasons.

    Pass 1 (here) reads the warehouse one household-id range of ``chunk`` households at a time
    (``features.data.chunks``, as ``score`` does) and keeps only each range's status rows; pass 2
    (``WarehouseListed``) re-reads the ranges of the listed households. Every value is per household, so the
    rows are those of a whole read, in household-id order."""
    rounds = warehouse.rounds()
    known = list(rounds.loc[rounds["first_date"] <= as_of, "round_id"])
    if not known:
        raise ValueError(f"no survey round has records on or before {as_of.date()}")
    _, ref_start = reference_round(rounds, as_of, round_id)
    area = _Area(warehouse, known, as_of, ref_start, county, village,
                 id_ranges(warehouse, chunk or DEFAULT_CHUNK, rounds=known))
    statuses, places = [], set()
    shared: dict[str, str] = {}
    for rng in area.ranges:
        tables = _read_range(area, rng, lambda latest: _in_area(latest, county, village, places))
        if tables is not None:
            statuses.append(_compact(_range_status(model, area, tables), shared))
            del tables
            release_free_memory()  # only the status rows are kept: the range's pages go back to the system
    if not statuses:
        what = f"village {village!r}" if village is not None else f"county {county!r}" if county else "any area"
        names = sorted(places)
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise ValueError(f"no household of {what} surveyed on or before {as_of.date()}; known: {shown}")
    return WarehouseInputs(pd.concat(statuses, ignore_index=True), WarehouseListed(model, area, top=top))


def _in_area(latest: pd.DataFrame, county: str | None, village: str | None, places: set[str]) -> pd.DataFrame:
    """The latest records of the county's (village's) households; when there are none, adds the range's
    county (village) names to ``places``, for the message when no range has any."""
    area = latest
    if county is not None:
        area = area[area["county"].astype(str) == county]
    if village is not None:
        area = area[area["village"].astype(str) == village]
    if area.empty:
        places.update(latest["village" if village is not None else "county"].astype(str).unique())
    return area


def _range_status(model: RiskModel, area: _Area, tables: _RangeTables) -> pd.DataFrame:
    """Pass 1 for one range: the status rows of its households in the area (their indicators are dropped)."""
    from features.indicators import build_indicators

    ind = build_indicators(tables.households, tables.members, tables.events, model.lines, area.as_of)
    previous = _previous_risk(model, tables.households, tables.members, tables.events, ind)
    return status_table(model, ind, tables.area[["household_id", "village", "county"]], tables.events,
                        reference_start=area.ref_start, previous_risk=previous)


def _compact(status: pd.DataFrame, shared: dict[str, str]) -> pd.DataFrame:
    """The same values, each repeated text (village, county, round, tier) one shared string object across
    ranges: a county's status table costs a pointer per repeated cell, not a string."""
    for col in ("village", "county", "round_id", "tier"):
        status[col] = pd.Series([shared.setdefault(v, v) for v in status[col].tolist()], index=status.index,
                                dtype=object)
    return status


def _previous_risk(model: RiskModel, hh: pd.DataFrame, mem: pd.DataFrame, ev: pd.DataFrame,
                   ind: pd.DataFrame) -> pd.Series | None:
    """Risk of each monitored household at its previous record, as known on that record's survey date (the
    same as the documents path: the document's last history round)."""
    from features.indicators import build_indicators

    monitored = set(ind.loc[ind["monitored_now"].fillna(0) >= 0.5, "household_id"].astype(str))
    current = ind.assign(household_id=ind["household_id"].astype(str)).set_index("household_id")["survey_date"]
    old = hh[hh["household_id"].astype(str).isin(monitored)]
    old = old[old["survey_date"] < old["household_id"].astype(str).map(current)]
    if old.empty:
        return None
    when = old.sort_values("survey_date").groupby("household_id")["survey_date"].last()
    when.index = when.index.astype(str)
    before = build_indicators(old, mem[mem["household_id"].astype(str).isin(monitored)], ev, model.lines, when)
    return pd.Series(model.score(before)["risk"].to_numpy(), index=before["household_id"].astype(str).to_numpy())


def _previous_documents(docs) -> list[dict]:
    """Each monitored document with history as it was at its previous round (for 'risk rose')."""
    out = []
    for d in docs:
        history = d.get("history") or []
        if not history or not d["record"].get("is_monitored"):
            continue
        prev = history[-1]
        out.append({"record": prev["record"], "members": prev.get("members") or [], "history": history[:-1],
                    "events": d.get("events") or [], "as_of": str(prev["record"]["survey_date"])[:10]})
    return out


def documents_worklist(model: RiskModel, docs, frames, *, options=None, triggers=None, round_id: str | None = None,
                       issued=None):
    """The worklist of request documents (the service's ``POST /worklist``): checked ``frames`` of ``docs``."""
    from features.indicators.from_documents import indicators_of_frames
    from models.worklist import build

    ind = indicators_of_frames(frames, lines=model.lines)
    records = pd.DataFrame([{"household_id": str(d["record"]["household_id"]), "round_id": str(d["record"]["round_id"]),
                             "survey_date": pd.Timestamp(str(d["record"]["survey_date"])[:10]),
                             "village": d["record"].get("village"), "county": d["record"].get("county")} for d in docs])
    ref = round_id or str(records.sort_values("survey_date")["round_id"].iloc[-1])
    in_ref = records.loc[records["round_id"] == ref, "survey_date"]
    if in_ref.empty:
        raise ValueError(f"round_id {ref!r}: no household record of that round; rounds given: "
                         f"{', '.join(sorted(records['round_id'].unique()))}")
    previous = None
    prev_docs = _previous_documents(docs)
    if prev_docs:
        before = model.indicators(prev_docs)
        previous = pd.Series(model.score(before)["risk"].to_numpy(), index=before["household_id"].astype(str).to_numpy())
    status = status_table(model, ind, records[["household_id", "village", "county"]], frames.events,
                          reference_start=in_ref.min(), previous_risk=previous)
    as_of = pd.to_datetime(ind["as_of"]).max().date().isoformat()
    return build(status, as_of=as_of, model_version=str(model.model_version), listed=listed_from(model, ind),
                 triggers=triggers, options=options, issued=issued)
