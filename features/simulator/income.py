"""A year's money flows from the members' and the farm's states: income by source, medical and schooling costs.

Orders of magnitude (2021 yuan) are cited inline; they set the composition of net income close to the
published one for poverty-exit counties (see CALIBRATION.md).
"""

from __future__ import annotations

import numpy as np

from features.simulator import codes as K
from features.simulator.geography import INDUSTRY_VALUE_PER_MU
from features.simulator.state import State, any_per_household, per_household

Events = list[dict[str, np.ndarray]]

FARM_COST_SHARE = 0.42       # seeds, fertiliser, machinery: ~40-45% of gross (NBS cost-benefit survey)
LIVESTOCK_COST_SHARE = 0.55  # feed and young stock
BUSINESS_COST_SHARE = 0.5
LAND_RENT_PER_MU = 300.0     # 土地流转 rent, western hills (400-800 yuan/mu)
PLANTING_SUBSIDY_PER_MU = 100.0  # 耕地地力保护补贴
PENSION_2021 = 2000.0        # 城乡居民基础养老金 + local top-up + account: ~150-200 yuan/month in 2021
OLD_AGE_ALLOWANCE = 600.0    # 高龄津贴, 80+
DISABILITY_ALLOWANCE = 1300.0  # 困难残疾人生活补贴 + 重度残疾人护理补贴, grades 1-2
FAMILY_PLANNING = 960.0      # 农村部分计划生育家庭奖励扶助: 80 yuan/month a parent aged 60+
PRICE_GROWTH = 0.045


def _ev(events: Events, hh: np.ndarray, mid: np.ndarray | None, etype: str, frac: np.ndarray,
        amount: np.ndarray) -> None:
    mid = np.full(len(hh), -1, np.int64) if mid is None else mid
    events.append({"hh": hh, "mid": mid, "type": np.full(len(hh), K.EVENT[etype]), "frac": frac,
                   "amount": amount})


def operating(s: State, rng: np.random.Generator, year: int, events: Events) -> None:
    """Farming, livestock and small business: gross, expenses, price and disaster shocks, failures."""
    hh, geo, m = s.hh, s.geo, s.mem
    n = s.n_households
    W, L = K.WORK, K.SKILL
    at_home = (m["loc"] == W["none"]) | (m["loc"] == W["in_county"])
    farm_hands = per_household(s, at_home * np.select([m["labor"] == L["weak"], m["labor"] == L["none"]], [0.5, 0.0], 1.0))
    labour_f = np.clip(0.35 + 0.65 * farm_hands / np.maximum(1.0, hh["land_mu"] / 5.0), 0.2, 1.0)
    industry = (hh["assist_bits"] & K.ASSIST_BIT["industry"]) > 0
    rented = np.where(farm_hands == 0, 1.0, hh["rent_share"])
    farmed = hh["land_mu"] * (1 - rented)
    v = hh["village"]
    county = geo["county"][v]
    growth = (1 + PRICE_GROWTH) ** (year - 2021)
    crop_price = np.exp(rng.normal(0, 0.07, s.n_counties))[county]
    pig_price = np.exp(rng.normal(0, 0.12, s.n_worlds))[hh["world"]]  # the national hog cycle
    # Disasters: a village is struck with its own yearly probability; most of its households lose 15-60%.
    struck = rng.random(s.n_villages) < geo["disaster_p"]
    severity = rng.uniform(0.15, 0.6, s.n_villages)
    hit = struck[v] & (rng.random(n) < 0.75)
    loss = np.where(hit, severity[v] * rng.uniform(0.6, 1.4, n), 0.0).clip(0, 0.95)
    value = INDUSTRY_VALUE_PER_MU[geo["industry"][v]] * growth
    crop_gross_0 = farmed * value * np.exp(0.5 * hh["lprod"]) * labour_f * rng.lognormal(0, 0.1, n) * (1 + 0.15 * industry)
    crop_gross = crop_gross_0 * crop_price * (1 - loss)
    crop_cost = farmed * value * FARM_COST_SHARE
    # Livestock: industry support starts or grows herds; losses end some.
    start = (hh["herd"] == 0) & industry & (rng.random(n) < 0.25)
    hh["herd"] = np.where(start, rng.lognormal(np.log(10000), 0.4, n), hh["herd"] * rng.lognormal(0.03, 0.1, n))
    herd_gross_0 = hh["herd"] * growth * np.exp(0.3 * hh["lprod"]) * rng.lognormal(0, 0.1, n)
    herd_gross = herd_gross_0 * pig_price * (1 - 0.4 * loss)
    herd_cost = hh["herd"] * growth * LIVESTOCK_COST_SHARE
    # Small business: failures (~7% a year, more for fragile ones and in bad years) cut revenue and end it.
    finance = (hh["assist_bits"] & K.ASSIST_BIT["finance"]) > 0
    new_biz = (hh["biz"] == 0) & (rng.random(n) < 0.01 * (1 + 2 * finance) * np.exp(hh["lprod"]))
    hh["biz"] = np.where(new_biz, rng.lognormal(np.log(30000), 0.4, n), hh["biz"])
    hh["microcredit"] = np.where(new_biz & finance, 50000.0, hh["microcredit"] * 0.7).round(-3)
    fail = (hh["biz"] > 0) & (rng.random(n) < 0.07 * np.exp(0.5 * hh["fragility"]) * (1 + 0.5 * loss))
    fail_frac = rng.random(n)
    biz_gross_0 = hh["biz"] * 1.8 * growth * np.exp(0.3 * hh["lprod"]) * rng.lognormal(0, 0.15, n)
    biz_gross = np.where(fail, biz_gross_0 * fail_frac * 0.6, biz_gross_0)
    biz_cost = np.where(fail, biz_gross_0 * BUSINESS_COST_SHARE * (0.5 + 0.5 * fail_frac), biz_gross_0 * BUSINESS_COST_SHARE)
    hh["biz"] = np.where(fail, 0.0, hh["biz"])
    hh["herd"] = np.where(hit & (rng.random(n) < 0.2 * loss), hh["herd"] * 0.5, hh["herd"])
    hh["op_income"] = crop_gross + herd_gross + biz_gross
    hh["op_expense"] = crop_cost + herd_cost + biz_cost
    hh["land_rent"] = hh["land_mu"] * rented * LAND_RENT_PER_MU * growth
    hh["disaster_hit"], hh["biz_failed"] = hit, fail
    hh["housing_safe"] = hh["housing_safe"] & ~(hit & (rng.random(n) < 0.12 * loss))
    idx = np.flatnonzero(hit)
    _ev(events, idx, None, "natural_disaster", rng.random(len(idx)), (crop_gross_0 * crop_price * loss)[idx])
    idx = np.flatnonzero(fail)
    _ev(events, idx, None, "business_failure", fail_frac[idx], (biz_gross_0 - biz_gross)[idx])
    drop_loss = crop_gross_0 * np.clip(1 - crop_price, 0, None) + herd_gross_0 * np.clip(1 - pig_price, 0, None)
    idx = np.flatnonzero(((crop_price < 0.88) & (crop_gross_0 > 2000)) | ((pig_price < 0.85) & (herd_gross_0 > 2000)))
    _ev(events, idx, None, "price_drop", rng.random(len(idx)), drop_loss[idx])


def medical(s: State, rng: np.random.Generator, events: Events) -> None:
    """Out-of-pocket compliant medical spending after basic, critical-illness and commercial insurance and
    medical assistance (医疗救助). Reimbursement rates: rural inpatient ~65-70% within policy (NHSA 2021),
    critical-illness insurance ≥60% above a ~10,000 deductible (halved, +5pp for escaped/dibao households)."""
    m, hh = s.mem, s.hh
    n = s.n_members
    age = m["age"]
    base = rng.lognormal(np.log(400 + 12 * age), 0.6, n)  # outpatient, everyone
    chronic = np.where(m["ill"] >= 1, rng.lognormal(np.log(4500), 0.45, n), 0.0)
    inpatient = np.where(m["hosp"], rng.lognormal(np.log(11000), 0.6, n), 0.0)
    serious = np.where(m["ill"] == 2, rng.lognormal(np.log(45000), 0.7, n) * np.where(m["new_serious"], 1.0, 0.6), 0.0)
    accident = np.where(m["accident"], rng.lognormal(np.log(15000), 0.8, n), 0.0)
    total_in = inpatient + serious + accident
    ins = m["basic_ins"]
    poor = (hh["type"] == K.HOUSEHOLD_TYPE["escaped"]) | hh["dibao"] | hh["monitored"]
    poor_m = poor[m["hh"]]
    after_basic = base * np.where(ins, 0.7, 1.0) + chronic * np.where(ins, 0.5, 1.0) \
        + total_in * np.where(ins, np.where(poor_m, 0.3, 0.35), 1.0)
    deductible = np.where(poor_m, 5000.0, 10000.0)
    crit = np.where(m["crit_ins"], np.clip(after_basic - deductible, 0, None) * np.where(poor_m, 0.65, 0.6), 0.0)
    oop = after_basic - crit
    oop_hh = per_household(s, oop)
    # Medical assistance for dibao/特困/monitored households with a health measure: ~70% of the rest above
    # 2,000, capped (民政 医疗救助).
    health_measure = (hh["assist_bits"] & K.ASSIST_BIT["health"]) > 0
    eligible = hh["dibao"] | any_per_household(s, m["tekun"]) | (hh["monitored"] & health_measure)
    assist = np.where(eligible, np.minimum(np.clip(oop_hh - 2000, 0, None) * 0.7, 40000), 0.0)
    oop_hh = oop_hh - assist
    # 防贫保险 (commercial, county-bought): 60% of what remains above 5,000, reported as a claim.
    covered = any_per_household(s, m["comm_ins"])
    claim = np.where(covered, np.clip(oop_hh - 5000, 0, None) * 0.6, 0.0)
    hh["medical"] = oop_hh - claim
    hh["claims"] = claim
    hh["temp_relief"] = np.where(any_per_household(s, m["new_serious"] | m["accident"]) & poor, 3000.0, 0.0)
    total = base + chronic + total_in
    for mask, etype in ((m["new_serious"], "serious_illness"), (m["hosp"] & ~m["new_serious"], "hospitalization"),
                        (m["accident"], "accident")):
        idx = np.flatnonzero(mask)
        _ev(events, m["hh"][idx], m["mid"][idx], etype, m["onset"][idx], total[idx])


# Schooling cost a year (2021 yuan): tuition is free in compulsory school and vocational school, high school
# and college are not (high-school fees + boarding ~5,000; college tuition + living ~12,000).
SCHOOL_COST = {"preschool": 1500.0, "compulsory": 700.0, "high_school": 5500.0, "vocational": 3000.0,
               "college": 13000.0}


def education(s: State, rng: np.random.Generator, year: int, enrolled: np.ndarray, events: Events) -> None:
    """Education spending, less 雨露计划 (3,000 a vocational/college student) and high-school grants for
    escaped, dibao and monitored households with an education measure."""
    m, hh = s.mem, s.hh
    cost = np.zeros(s.n_members)
    for status, c in SCHOOL_COST.items():
        cost[m["school"] == K.SCHOOL[status]] = c
    cost *= rng.lognormal(0, 0.2, s.n_members) * 1.04 ** (year - 2021)
    helped = ((hh["type"] == K.HOUSEHOLD_TYPE["escaped"]) | hh["dibao"]
              | ((hh["assist_bits"] & K.ASSIST_BIT["education"]) > 0))[m["hh"]]
    aid = np.where(helped & np.isin(m["school"], [K.SCHOOL["vocational"], K.SCHOOL["college"]]), 3000.0, 0.0)
    aid += np.where(helped & (m["school"] == K.SCHOOL["high_school"]), 2000.0, 0.0)
    hh["education"] = per_household(s, np.clip(cost - aid, 0, None))
    idx = np.flatnonzero(enrolled)
    _ev(events, m["hh"][idx], m["mid"][idx], "school_enrollment", np.full(len(idx), 0.7), cost[idx])


def wages_property_transfers(s: State, rng: np.random.Generator, year: int, events: Events) -> None:
    """Wage income (public jobs a part), property income (dividends a part) and transfers by programme."""
    m, hh, geo = s.mem, s.hh, s.geo
    n = s.n_households
    sick_care = any_per_household(s, m["new_serious"])
    hh["wage"] = per_household(s, m["wage"]) * np.where(sick_care, 0.85, 1.0)  # caring for the sick
    hh["public_income"] = np.minimum(per_household(s, np.where(m["public_job"], m["wage"], 0.0)), hh["wage"])
    lost = m["lost_job"]
    idx = np.flatnonzero(lost)
    _ev(events, m["hh"][idx], m["mid"][idx], "job_loss", m["job_frac"][idx], m["lost_wage"][idx])
    escaped = hh["type"] == K.HOUSEHOLD_TYPE["escaped"]
    v = hh["village"]
    hh["dividend"] = np.where(escaped | hh["monitored"], geo["dividend"][v], 0.0) * rng.uniform(0.8, 1.2, n)
    hh["property"] = hh["dividend"] + hh["land_rent"] + rng.gamma(0.6, 100.0, n)
    growth = (1 + 0.05) ** (year - 2021)
    support_growth = (1 + 0.06) ** (year - 2021)
    old = (m["age"] >= 60)
    hh["pension"] = per_household(s, old & m["pension_ins"]) * PENSION_2021 * growth * rng.uniform(0.85, 1.15, n)
    hh["fp_income"] = np.where(hh["fp"], per_household(s, old) * FAMILY_PLANNING, 0.0)
    hh["eco_income"] = geo["eco"][v] * rng.uniform(0.8, 1.2, n)
    tekun_n = per_household(s, m["tekun"])
    hh["tekun_income"] = tekun_n * 1.3 * dibao_standard(year - 1)
    hh["dibao_income"] = np.where(hh["dibao"], hh["dibao_amt"], 0.0)
    relief = np.where(hh["disaster_hit"], rng.uniform(500, 3000, n), 0.0)
    allowances = per_household(s, m["age"] >= 80) * OLD_AGE_ALLOWANCE + \
        per_household(s, np.isin(m["disab"], [1, 2])) * DISABILITY_ALLOWANCE
    # Children living elsewhere support their parents: more the more old members the household has.
    support = hh["support"] * (0.6 + 0.3 * per_household(s, old)) * support_growth * rng.lognormal(0, 0.12, n)
    hh["support"] = hh["support"] * rng.lognormal(0, 0.08, n)
    hh["other_transfer"] = (support + relief + allowances + hh["temp_relief"]
                            + hh["land_mu"] * PLANTING_SUBSIDY_PER_MU)


# Rural 低保 standard: 6,362 yuan/person/year at end 2021 (民政部 statistics: 530 yuan/month), ~+6%/year.
DIBAO_2021 = 6362.0


def dibao_standard(year: int) -> float:
    return DIBAO_2021 * 1.06 ** (year - 2021)
