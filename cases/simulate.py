"""Simulated visit outcomes for a worklist, from the simulator's latent truth, so the loop runs end to end.

For each alert the household's true risk of falling below the line at its next round (``truth.parquet``) draws
whether it really is at risk; the visit then adds the noise of the field:

* ``NOT_REACHED`` of visits find nobody at home (未能入户); most of them are visited again later (a second row:
  history), ``GONE`` find the household moved away;
* verification misses: a household truly at risk is identified with probability ``SENSITIVITY`` (the rest are
  written off, e.g. "income higher than collected"), one not at risk with probability ``FALSE_IDENTIFICATION``;
* households already monitored in the warehouse come back as ``already_monitored``;
* visits mostly within the 5-working-day deadline, some late; decisions 3–14 days after the visit, some later.

Simulator-only: these rates are assumptions of the simulation, never used to read real outcomes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from cases.store import CaseStore
from features.data.contract import OUTCOMES, OVERRIDE_REASON
from features.data.warehouse import Warehouse

NOT_REACHED = 0.05
REVISIT = 0.6            # of the not-reached, visited again later
GONE = 0.005
SENSITIVITY = 0.85
FALSE_IDENTIFICATION = 0.03
LATE_VISIT = 0.12
BELOW_LINE_RISK = 0.9    # the below_line channel lists households already under the line
# Risk types of identified households, illness first as in the national records (~44 %).
RISK_TYPE_WEIGHTS = {"illness": 0.44, "unstable_work": 0.18, "lack_labor": 0.1, "disaster": 0.08,
                     "education": 0.07, "accident": 0.05, "business_failure": 0.05, "disability": 0.03}
_RISK_GROUP = {"business_failure": "business", "unsafe_housing": "housing", "unsafe_water": "water"}


def _truth_at(alerts: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """Each alert's true risk: the household's newest truth row whose round (a year) is not after the as-of
    year, else its newest row; missing households get the median risk."""
    t = truth[["household_id", "round_id", "true_risk"]].copy()
    t["year"] = pd.to_numeric(t["round_id"], errors="coerce")
    t = t.sort_values(["household_id", "year"])
    merged = alerts[["alert_id", "household_id", "as_of"]].merge(t, on="household_id", how="left")
    usable = merged["year"].isna() | (merged["year"] <= merged["as_of"].dt.year)
    merged = merged[usable | ~merged["alert_id"].isin(merged.loc[usable, "alert_id"])]
    risk = merged.groupby("alert_id")["true_risk"].last()
    return risk.reindex(alerts["alert_id"]).fillna(float(truth["true_risk"].median())).set_axis(alerts.index)


def _verifiers(villages: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Two work-team members per village, with stable staff numbers."""
    code = villages.fillna("").map(lambda v: hashlib.sha256(v.encode()).hexdigest()[:4].upper())
    return ("V" + code + "-" + pd.Series(rng.integers(1, 3, len(villages)), index=villages.index).astype(str)).to_numpy()


def _measure_of(risk_type: str) -> str:
    from models.measures import recommend

    found = [m.code for m in recommend([_RISK_GROUP.get(risk_type, risk_type)], per_group=1) if m.code]
    return found[0] if found else "social"


def simulate_outcomes(alerts: pd.DataFrame, truth: pd.DataFrame, *, seed: int,
                      monitored: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Outcome rows (canonical contract form, later rows after earlier ones) for ``alerts`` (``alert_id,
    household_id, village, channel, as_of, check_by, decide_by``)."""
    rng = np.random.default_rng(seed)
    a = alerts.reset_index(drop=True).copy()
    a["as_of"] = pd.to_datetime(a["as_of"])
    n = len(a)
    p = _truth_at(a, truth).to_numpy()
    p = np.where(a["channel"].eq("below_line"), np.maximum(p, BELOW_LINE_RISK), p)
    at_risk = rng.random(n) < p
    u = rng.random(n)
    gone, not_reached = u < GONE, (u >= GONE) & (u < GONE + NOT_REACHED)
    already = a["household_id"].isin(monitored).to_numpy() & ~gone & ~not_reached
    identified = np.where(at_risk, rng.random(n) < SENSITIVITY, rng.random(n) < FALSE_IDENTIFICATION)
    identified &= ~gone & ~not_reached & ~already
    days = np.where(rng.random(n) < LATE_VISIT, rng.integers(8, 21, n), rng.integers(1, 7, n))
    visit = a["as_of"] + pd.to_timedelta(days, unit="D")
    outcome = np.select([gone, not_reached, already, identified],
                        ["gone", "not_reached", "already_monitored", "identified"], "not_identified")
    kinds, weights = list(RISK_TYPE_WEIGHTS), np.array(list(RISK_TYPE_WEIGHTS.values()))
    risk_type = rng.choice(kinds, n, p=weights / weights.sum())
    measures = pd.Series(risk_type).map({k: _measure_of(k) for k in set(risk_type)}).to_numpy()
    reasons = rng.choice(list(OVERRIDE_REASON), n, p=[0.4, 0.25, 0.2, 0.1, 0.05])
    decision = visit + pd.to_timedelta(np.where(rng.random(n) < 0.1, rng.integers(15, 30, n),
                                                rng.integers(3, 15, n)), unit="D")
    out = pd.DataFrame({
        "alert_id": a["alert_id"], "household_id": a["household_id"], "visit_date": visit,
        "verifier_id": _verifiers(a["village"], rng), "outcome": outcome,
        "risk_types": np.where(identified, risk_type, ""),
        "override_reason": np.where(outcome == "not_identified", reasons, ""),
        "decision_date": pd.Series(decision).where(identified),
        "measures": np.where(identified, measures, ""),
        "measures_date": (pd.Series(decision) + pd.Timedelta(days=7)).where(identified),
        "risk_eliminated_date": pd.Series(pd.NaT, index=a.index, dtype="datetime64[ns]"),
    })
    revisit = not_reached & (rng.random(n) < REVISIT)
    if revisit.any():
        again = simulate_outcomes(a[revisit].assign(as_of=visit[revisit]), truth, seed=seed + 1,
                                  monitored=monitored)
        again = again.drop_duplicates("alert_id", keep="last")
        again = again[again["outcome"] != "not_reached"]
        out = pd.concat([out, again], ignore_index=True)
    return out[OUTCOMES.names]


def write_outcomes(rows: pd.DataFrame, path: Path, *, zh: bool = False) -> Path:
    """An outcomes file (CSV with BOM or Parquet by suffix), English codes or Chinese headers and labels."""
    from features.simulator.writer import to_zh

    from features.data.tables import write_table

    return write_table(to_zh(OUTCOMES, rows) if zh else rows, path)


WORKLIST_COLUMNS = ("alert_id", "household_id", "village", "channel", "as_of")  # what a simulated visit needs


def read_worklist(path: Path) -> pd.DataFrame:
    """A worklist file of ``povwatch worklist`` (.csv, .parquet or .json); ValueError naming missing columns."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        alerts = pd.read_parquet(path)
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        alerts = pd.DataFrame(data["entries"] if isinstance(data, dict) and "entries" in data else data)
    elif suffix == ".csv":
        alerts = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    else:
        raise ValueError(f"{path}: a worklist is a .csv, .parquet or .json file of `povwatch worklist`")
    missing = [c for c in WORKLIST_COLUMNS if c not in alerts.columns]
    if missing:
        raise ValueError(f"{path}: the worklist lacks column(s) {', '.join(missing)}")
    return alerts


def simulate_visits(alerts: pd.DataFrame, truth: pd.DataFrame, out: Path, *, seed: int, zh: bool = False,
                    monitored: set[str] | frozenset[str] = frozenset()) -> str:
    """The one way simulated visits are written (``povwatch simulate --visits`` and ``povwatch outcomes
    simulate``): outcome rows for ``alerts`` into ``out``, ingestible by ``povwatch outcomes ingest``;
    returns the line the commands print."""
    rows = simulate_outcomes(alerts, truth, seed=seed, monitored=monitored)
    write_outcomes(rows, Path(out), zh=zh)
    counts = rows.drop_duplicates("alert_id", keep="last")["outcome"].value_counts().to_dict()
    return (f"wrote {len(rows)} outcome rows for {len(alerts)} alerts to {out}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def unvisited_alerts(store: CaseStore) -> pd.DataFrame:
    """Alerts of the case store with no outcome yet (what a simulated field round visits)."""
    alerts = store.alerts()
    done = set(store.outcomes()["alert_id"])
    return alerts[~alerts["alert_id"].isin(done)].reset_index(drop=True)


def monitored_households(warehouse: Warehouse) -> set[str]:
    """Households monitored in their newest round in the warehouse (none when it has no round)."""
    if not warehouse.round_ids():
        return set()
    hh = warehouse.households(columns=["household_id", "round_id", "survey_date", "is_monitored"])
    if hh.empty:
        return set()
    newest = hh.sort_values("survey_date").drop_duplicates("household_id", keep="last")
    return set(newest.loc[newest["is_monitored"].fillna(False).astype(bool), "household_id"])
