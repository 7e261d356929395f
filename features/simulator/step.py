"""One year of the simulation as a pure function of (state, random generator): the year's life events and
money flows that make the next survey's record, then the county's decisions at that survey.

``step`` is the only way the simulation moves forward: the real next round and every Monte Carlo replicate
of the truth (``features.simulator.truth``) go through it, so data and truth cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data.derived import monitoring_line
from features.simulator import codes as K
from features.simulator import geography, income, policy, population
from features.simulator.state import State, per_household

MONEY_CAP = 9_999_999.0


def line_of(s: State, year: int) -> np.ndarray:
    """The contract's default monitoring line for each household's province in ``year``."""
    prov = s.geo["province_name"]
    uniq = np.unique(prov)
    lines = monitoring_line(pd.Series(uniq), pd.Series(np.full(len(uniq), year))).to_numpy()
    by_village = lines[np.searchsorted(uniq, prov)]
    return by_village[s.hh["village"]]


def _money(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, MONEY_CAP)


def close_books(s: State) -> None:
    """The record's money fields in whole yuan, with every "part of" no larger than its total, and the
    derived per-capita incomes the means test, monitoring and the label use."""
    hh = s.hh
    pub = _money(hh["public_income"])
    hh["public_job_income"], hh["wage_income"] = pub, pub + _money(hh["wage"] - pub)
    div = _money(hh["dividend"])
    hh["asset_dividend"], hh["property_income"] = div, div + _money(hh["property"] - hh["dividend"])
    parts = ("dibao_income", "tekun_income", "pension", "eco_income", "fp_income")
    for p in parts:
        hh[p] = _money(hh[p])
    hh["transfer_income"] = sum(hh[p] for p in parts) + _money(hh["other_transfer"])
    hh["operating_income"], hh["operating_expense"] = _money(hh["op_income"]), _money(hh["op_expense"])
    hh["insurance_claim_income"] = _money(hh["claims"])
    hh["medical"], hh["education"] = _money(hh["medical"]), _money(hh["education"])
    size = per_household(s).astype(np.int64)
    hh["size"] = size
    hh["net"] = (hh["wage_income"] + hh["operating_income"] - hh["operating_expense"] + hh["property_income"]
                 + hh["transfer_income"])
    hh["prev_hardship_pc"] = hh["hardship_pc"]
    denom = np.maximum(size, 1)
    hh["net_pc"] = hh["net"] / denom
    hh["hardship_pc"] = (hh["net"] - hh["medical"] - hh["education"]) / denom


def advance(s: State, rng: np.random.Generator) -> tuple[State, list[dict[str, np.ndarray]]]:
    """The year from one survey to the next: who lives, falls ill, studies, works, and what it earns and costs."""
    s = s.copy()
    year = s.year + 1
    r = rng.spawn(10)
    events: list[dict[str, np.ndarray]] = []
    hh = s.hh
    fix = (hh["assist_bits"] & K.ASSIST_BIT["housing"]) != 0
    hh["housing_safe"] |= fix & (r[0].random(s.n_households) < 0.8)
    hh["water_safe"] |= ((hh["assist_bits"] & K.ASSIST_BIT["water"]) != 0) & (r[0].random(s.n_households) < 0.8)
    # Persistent household productivity: AR(1) in logs, visible only through incomes.
    hh["lprod"] = 0.92 * hh["lprod"] + r[0].normal(0, 0.06, s.n_households)
    deaths = population.demography(s, r[1])
    events.append({"hh": deaths["hh"], "mid": deaths["mid"], "type": np.full(len(deaths["hh"]), K.EVENT["death"]),
                   "frac": deaths["frac"], "amount": np.full(len(deaths["hh"]), np.nan)})
    population.health(s, r[2])
    enrolled = population.school_year(s.mem, hh["lprod"], r[3])
    population.work(s, r[4], year)
    income.operating(s, r[5], year, events)
    income.medical(s, r[6], events)
    income.education(s, r[7], year, enrolled, events)
    income.wages_property_transfers(s, r[8], year, events)
    s.year = year
    close_books(s)
    # Some households leave the survey (move to town, merge): ~1.5%/year, more of the better-off.
    hh["gone"] = (hh["size"] == 0) | (r[9].random(s.n_households) < 0.012 + 0.012 * (hh["lprod"] > 0.3))
    return s, events


def step(s: State, rng: np.random.Generator) -> tuple[State, list[dict[str, np.ndarray]]]:
    """``advance`` then the county's review at the new survey. Households that left stay in the arrays,
    flagged ``gone``, so replicates keep their positions."""
    r = rng.spawn(2)
    s, events = advance(s, r[0])
    policy.review(s, r[1], line_of(s, s.year))
    return s, events


def initial_state(n_households: int, year: int, rng: np.random.Generator) -> State:
    """A population at the survey of ``year``, before any simulated year (no money record yet)."""
    r = rng.spawn(3)
    geo = geography.build(n_households, r[0])
    hh = population.init_households(n_households, len(geo["county"]), geo, r[1])
    mem, next_mid = population.init_members(hh, r[2])
    n = n_households
    escaped = hh["type"] == K.HOUSEHOLD_TYPE["escaped"]
    A = K.ASSIST_BIT
    assist = np.where(escaped & (r[1].random(n) < 0.4), A["industry"], 0)
    assist |= np.where(hh["microcredit"] > 0, A["finance"], 0) | np.where(hh["relocated"], A["relocation"], 0)
    hh.update(next_mid=next_mid, assist_bits=assist.astype(np.int64), dibao=np.zeros(n, bool),
              dibao_amt=np.zeros(n), tapering=np.zeros(n, bool), monitored=np.zeros(n, bool),
              eliminated=np.zeros(n, bool), mon_type=np.full(n, -1), risk_bits=np.zeros(n, np.int64),
              hardship_pc=np.full(n, np.nan), gone=np.zeros(n, bool))
    mem["labor"] = population.labor_skill(mem)
    return State(hh, mem, geo, year)
