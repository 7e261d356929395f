"""Shocks injected into simulated rounds (``povwatch simulate --shock KIND:YEAR[:COUNTY]``), to test the drift
monitor against problems whose place and kind are known.

Each shock rewrites the observed tables of one round in one county, after the simulation, with its own random
stream (the rest of the data stays identical to the unshocked run with the same seed). The simulator's truth
is left as it was: shocks are for monitoring tests, not for training.

- ``disaster``: a county-wide flood — most households lose a large share of operating income, some houses
  become unsafe, and the disasters are reported as events;
- ``wage``: a wage collapse (a factory or construction sector closing) — wage income of earners falls by half
  or more, with job losses reported;
- ``survey``: a survey-method change — enumerators record only the named programme transfers, so the other
  transfers (children's support, allowances, subsidies) go unrecorded;
- ``silent``: the department feed (行业部门预警) of the county delivers nothing in the window before the round;
- ``late``: the same feed delivers the window's events late: they are held back from the round's events
  (``late_events``, written by ``povwatch simulate`` as ``late_events.<fmt>``, which a folder ingest skips) to
  be ingested afterwards as a later delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.data.canonical import cast

KINDS = ("disaster", "wage", "survey", "silent", "late")
TRANSFER_PARTS = ("dibao_income", "tekun_income", "pension_income", "eco_compensation", "family_planning_income")
_SOURCES = np.array(["self_report", "cadre_visit", "department_alert"], dtype=object)
_SOURCE_P = np.array([0.45, 0.4, 0.15])


@dataclass(frozen=True)
class Shock:
    kind: str
    year: int
    county: str | None = None   # None: the first county (by name) of the round

    @classmethod
    def parse(cls, text: str) -> Shock:
        """``KIND:YEAR[:COUNTY]``, e.g. ``wage:2024:长坝县``."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[0] not in KINDS or not parts[1].isdigit():
            raise ValueError(f"expected KIND:YEAR[:COUNTY] with KIND one of {', '.join(KINDS)}; got {text!r}")
        return cls(parts[0], int(parts[1]), parts[2] if len(parts) == 3 and parts[2] else None)


def apply_shocks(round_output, shocks: list[Shock], seed: int):
    """The round with every shock of its year applied (in place on its frames; returned for chaining)."""
    for i, shock in enumerate(s for s in shocks if s.year == round_output.year):
        hh = round_output.households
        counties = sorted(hh["county"].astype(str).unique())
        county = shock.county or counties[0]
        if county not in counties:
            raise ValueError(f"--shock {shock.kind}:{shock.year}:{county}: no county of that name in round "
                             f"{round_output.round_id}; counties: {', '.join(counties)}")
        rng = np.random.default_rng([seed, KINDS.index(shock.kind), shock.year, i])
        in_county = (hh["county"].astype(str) == county).to_numpy()
        _APPLY[shock.kind](round_output, in_county, rng)
    return round_output


def _whole_yuan(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0, None))


def _add_events(r, rows: np.ndarray, event_type: str, amount: np.ndarray, rng: np.random.Generator) -> None:
    hh = r.households.iloc[rows]
    days = rng.integers(20, 330, len(rows))
    ev = pd.DataFrame({"household_id": hh["household_id"].to_numpy(), "member_id": None,
                       "event_date": (hh["survey_date"] - pd.to_timedelta(days, unit="D")).to_numpy(),
                       "event_type": event_type, "amount": np.rint(amount),
                       "source": _SOURCES[rng.choice(3, len(rows), p=_SOURCE_P)]})
    both = pd.concat([r.events, cast("events", ev)], ignore_index=True)
    r.events = cast("events", both.drop_duplicates(["household_id", "event_date", "event_type"]).sort_values(
        ["household_id", "event_date", "event_type"], ignore_index=True))


def _disaster(r, in_county: np.ndarray, rng: np.random.Generator) -> None:
    hh = r.households
    hit = in_county & (rng.random(len(hh)) < 0.8)
    loss = rng.uniform(0.4, 0.8, len(hh))
    op = hh["operating_income"].to_numpy(float)
    lost = np.where(hit, op * loss, 0.0)
    hh["operating_income"] = _whole_yuan(op - lost)
    unsafe = hit & (rng.random(len(hh)) < 0.15)
    hh.loc[unsafe, "housing_safe"] = False
    rows = np.flatnonzero(hit)
    _add_events(r, rows, "natural_disaster", np.maximum(lost[rows], 100.0), rng)


def _wage(r, in_county: np.ndarray, rng: np.random.Generator) -> None:
    hh = r.households
    wage = hh["wage_income"].to_numpy(float)
    hit = in_county & (wage > 0)
    keep = rng.uniform(0.2, 0.5, len(hh))
    new = np.where(hit, _whole_yuan(wage * keep), wage)
    hh["wage_income"] = new
    hh["public_job_income"] = np.minimum(hh["public_job_income"].to_numpy(float), new)
    rows = np.flatnonzero(hit & (rng.random(len(hh)) < 0.6))
    _add_events(r, rows, "job_loss", (wage - new)[rows], rng)


def _survey(r, in_county: np.ndarray, rng: np.random.Generator) -> None:
    hh = r.households
    named = sum(hh[p].fillna(0).to_numpy(float) for p in TRANSFER_PARTS)
    hh["transfer_income"] = np.where(in_county, named, hh["transfer_income"].to_numpy(float))


def _department_feed(r, in_county: np.ndarray) -> pd.Series:
    ids = set(r.households.loc[in_county, "household_id"])
    return r.events["household_id"].isin(ids) & (r.events["source"].astype(str) == "department_alert")


def _silent(r, in_county: np.ndarray, rng: np.random.Generator) -> None:
    r.events = r.events.loc[~_department_feed(r, in_county)].reset_index(drop=True)


def _late(r, in_county: np.ndarray, rng: np.random.Generator) -> None:
    held = _department_feed(r, in_county)
    late = r.events.loc[held]
    r.late_events = late if r.late_events is None else pd.concat([r.late_events, late], ignore_index=True)
    r.events = r.events.loc[~held].reset_index(drop=True)


_APPLY = {"disaster": _disaster, "wage": _wage, "survey": _survey, "silent": _silent, "late": _late}
