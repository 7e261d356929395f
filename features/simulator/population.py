"""Households and their members: the initial population, and a year of demography, health, school and work.

Every transition is a vectorised draw over the flat member array. Rates are rough published orders of
magnitude (sources inline); they are not fitted to any model.
"""

from __future__ import annotations

import numpy as np

from features.simulator import codes as K
from features.simulator.state import State, any_per_household, append_members, keep_members

# Household size distribution of rural western households (2020 census: rural mean ~3.2 persons; the
# registered-poor population skews larger).
_SIZE_P = np.array([0.09, 0.22, 0.20, 0.22, 0.15, 0.08, 0.04])
ESCAPED_SHARE = 0.45  # share of 脱贫户 among surveyed households of a poverty-exit county's villages
_INT = np.int64


def init_households(n: int, n_villages: int, geo: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    """Household-level latent and observed attributes at the start of the burn-in."""
    village = rng.integers(0, n_villages, n)
    escaped = rng.random(n) < ESCAPED_SHARE
    lprod = rng.normal(0.0, 0.2, n) - 0.1 * escaped
    relocated = escaped & (rng.random(n) < 0.10)  # 易地扶贫搬迁: ~9.6M of ~99M registered poor
    # Contracted land was allotted per person (~1.5 mu a person in the western hills); scaled by size later.
    land = geo["land_factor"][village] * rng.lognormal(np.log(1.5), 0.45, n) * np.where(relocated, 0.4, 1.0)
    industry = geo["industry"][village]
    herd_p = np.where(industry == 2, 0.7, 0.45)
    return {
        "uid": np.arange(n, dtype=_INT), "village": village, "world": np.zeros(n, _INT),
        "type": np.where(escaped, K.HOUSEHOLD_TYPE["escaped"], K.HOUSEHOLD_TYPE["general"]),
        "relocated": relocated, "lprod": lprod,
        "frailty": rng.normal(0.0, 0.35, n), "fragility": rng.normal(0.0, 1.0, n),
        "land_mu": np.round(land, 1), "rent_share": np.where(rng.random(n) < 0.2, rng.uniform(0.3, 1.0, n), 0.0),
        "road_km": np.round(np.where(relocated, 0.5, geo["remote_km"][village] * rng.lognormal(0, 0.3, n)), 1),
        "in_coop": rng.random(n) < np.where(escaped, 0.3, 0.15),
        "housing_safe": rng.random(n) > 0.015, "water_safe": rng.random(n) > 0.02,
        "herd": np.where(rng.random(n) < herd_p, rng.lognormal(np.log(23000), 0.6, n), 0.0),
        "biz": np.where(rng.random(n) < 0.12 + 0.06 * (lprod > 0.2), rng.lognormal(np.log(30000), 0.5, n), 0.0),
        "microcredit": np.where(escaped & (rng.random(n) < 0.15), rng.choice([20000.0, 30000.0, 50000.0], n), 0.0),
        "support": rng.gamma(1.5, 7200.0, n),  # 赡养费 and gifts from children living elsewhere
        "fp": rng.random(n) < 0.12,            # 计划生育奖励扶助 recipients
        "jitter": rng.integers(0, 7, n),
        "commercial": escaped & (rng.random(n) < 0.5),  # 防贫保险 bought by the county for escaped households
    }


def ethnic_minority(village: np.ndarray, remote_km: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """少数民族户: most households of minority villages, few elsewhere; minority villages are the more remote
    ones (odds rise with the distance to a main road). About a quarter of households overall."""
    p_village = 1 / (1 + np.exp(-1.5 * (np.log(remote_km) - 2.0)))
    minority_village = rng.random(len(remote_km)) < p_village
    return rng.random(len(village)) < np.where(minority_village[village], 0.85, 0.04)


def _empty_like_members(n: int) -> dict[str, np.ndarray]:
    z = np.zeros(n)
    zi = np.zeros(n, _INT)
    zb = np.zeros(n, bool)
    return {"hh": zi.copy(), "mid": zi.copy(), "relation": zi.copy(), "sex": zi.copy(), "age": zi.copy(),
            "edu": zi.copy(), "school": zi.copy(), "ill": zi.copy(), "disab": zi.copy(), "skill_lat": z.copy(),
            "frailty": z.copy(), "precarity": z.copy(), "loc": zi.copy(), "months": zi.copy(), "labor": zi.copy(),
            "basic_ins": zb.copy(), "crit_ins": zb.copy(), "comm_ins": zb.copy(), "pension_ins": zb.copy(),
            "public_job": zb.copy(), "tekun": zb.copy(), "new_serious": zb.copy(), "hosp": zb.copy(),
            "accident": zb.copy(), "lost_job": zb.copy(), "onset": z.copy(), "wage": z.copy(),
            "job_frac": z.copy(), "lost_wage": z.copy()}


def init_members(hh: dict, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Members by household composition: head, spouse, children or (for older heads) an adult child, a
    child-in-law and grandchildren, and sometimes a parent. Returns members and each household's next id."""
    n = len(hh["uid"])
    size = rng.choice(np.arange(1, 8), n, p=_SIZE_P)
    head_age = np.clip(rng.normal(52, 12, n), 24, 88).astype(_INT)
    spouse = (size >= 2) & (rng.random(n) < np.where(head_age > 70, 0.6, 0.88))
    old = head_age >= 55
    m = _empty_like_members(int(size.sum()))
    h = np.repeat(np.arange(n), size)
    slot = np.arange(len(h)) - np.repeat(np.cumsum(size) - size, size)
    ha, sp, od, sz = head_age[h], spouse[h], old[h], size[h]
    k = slot - 1 - sp  # position after head (and spouse)
    rel = np.full(len(h), K.RELATION["child"])
    rel[slot == 0] = K.RELATION["head"]
    rel[(slot == 1) & sp] = K.RELATION["spouse"]
    young_parent = (~od) & (sz >= 5) & (slot == sz - 1) & (slot > 1) & (ha <= 60)
    rel[young_parent] = K.RELATION["parent"]
    rel[od & (k == 1)] = K.RELATION["other"]  # the adult child's spouse (儿媳/女婿)
    rel[od & (k >= 2)] = K.RELATION["grandchild"]
    age = np.where(slot == 0, ha, 0)
    age = np.where(rel == K.RELATION["spouse"], np.clip(ha + rng.integers(-5, 3, len(h)), 20, 95), age)
    child_age = ha - 24 - 3 * np.maximum(k, 0) - rng.integers(0, 5, len(h))
    age = np.where((rel == K.RELATION["child"]) & ~od, np.clip(child_age, 0, 60), age)
    age = np.where((rel == K.RELATION["child"]) & od, np.clip(ha - 27 + rng.integers(-4, 5, len(h)), 16, 70), age)
    age = np.where(rel == K.RELATION["other"], np.clip(ha - 27 + rng.integers(-4, 5, len(h)), 18, 70), age)
    age = np.where(rel == K.RELATION["grandchild"], rng.integers(0, 17, len(h)), age)
    age = np.where(rel == K.RELATION["parent"], np.clip(ha + 26 + rng.integers(0, 6, len(h)), 50, 99), age)
    male_head = rng.random(len(h)) < 0.88
    sex = np.where(rng.random(len(h)) < 0.51, K.SEX["M"], K.SEX["F"])
    head_sex = np.where(male_head, K.SEX["M"], K.SEX["F"])
    sex = np.where(slot == 0, head_sex, sex)
    sex = np.where(rel == K.RELATION["spouse"], 1 - head_sex, sex)
    m.update(hh=h.astype(_INT), mid=(slot + 1).astype(_INT), relation=rel, sex=sex, age=age.astype(_INT))
    m["frailty"] = hh["frailty"][h] + rng.normal(0, 0.5, len(h))
    m["skill_lat"] = rng.normal(0, 1, len(h)) + 0.5 * hh["lprod"][h]
    m["precarity"] = rng.normal(0, 1, len(h))
    m["edu"] = _initial_education(m["age"], m["skill_lat"], rng)
    ill_u = rng.random(len(h))
    p_chronic = np.clip(0.03 + 0.005 * np.maximum(age - 30, 0), 0, 0.4)
    m["ill"] = np.where(ill_u < 0.012 + 0.0003 * age, 2, np.where(ill_u < p_chronic + 0.012, 1, 0))
    disabled = rng.random(len(h)) < 0.02 + 0.0008 * age
    m["disab"] = np.where(disabled, rng.choice([1, 2, 3, 4], len(h), p=[0.12, 0.23, 0.30, 0.35]), 0)
    escaped = hh["type"][h] == K.HOUSEHOLD_TYPE["escaped"]
    m["basic_ins"] = rng.random(len(h)) < np.where(escaped, 1.0, 0.985)
    m["crit_ins"] = m["basic_ins"].copy()
    m["comm_ins"] = hh["commercial"][h] & m["basic_ins"]
    m["pension_ins"] = (age >= 16) & (rng.random(len(h)) < 0.88)
    m["loc"] = np.full(len(h), K.WORK["none"])
    hh["land_mu"] = np.round(hh["land_mu"] * np.maximum(size, 2), 1)
    school_year(m, hh["lprod"], rng, ageing=False)
    return m, (size + 1).astype(_INT)


def _initial_education(age: np.ndarray, skill: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Attainment by cohort: older rural cohorts mostly none/primary, the young mostly junior or above."""
    cohort = np.clip((70 - age) / 50, 0, 1)  # 0 for the oldest, 1 for those born after ~2000
    z = 2.2 * cohort + 0.5 * skill + rng.normal(0, 0.6, len(age)) - 0.3
    edu = np.digitize(z, [0.0, 0.9, 2.0, 2.7])
    cap = np.select([age < 7, age < 13, age < 16, age < 19, age < 22], [0, 1, 2, 3, 3], 4)
    return np.minimum(edu, cap).astype(_INT)


def school_year(m: dict, lprod_hh: np.ndarray, rng: np.random.Generator, ageing: bool = True) -> np.ndarray:
    """School status for the coming year from age; progression at 15 (high school / vocational / work) and
    18 (college). Returns the mask of members newly enrolled in high school, vocational school or college."""
    age, sch, edu = m["age"], m["school"], m["edu"]
    S = K.SCHOOL
    n = len(age)
    u = rng.random(n)
    lp = lprod_hh[m["hh"]]
    new = np.full(n, S["not_in_school"])
    new[(age >= 3) & (age <= 5) & (u < 0.88)] = S["preschool"]
    compulsory = (age >= 6) & (age <= 14)
    new[compulsory] = np.where(sch[compulsory] == S["dropped_out"], S["dropped_out"], S["compulsory"])
    new[compulsory & (u < 0.002)] = S["dropped_out"]
    # At 15: ~45% general high school, ~35% vocational (MoE: ~95% of junior graduates continue nationally,
    # fewer in poor rural areas), the rest start work.
    at15 = age == 15
    p_hs = 1 / (1 + np.exp(-(-0.1 + 1.5 * lp + 0.3 * m["skill_lat"])))
    pick = rng.random(n)
    new[at15 & (pick < 0.45 * p_hs * 2)] = S["high_school"]
    new[at15 & (pick >= 0.45 * p_hs * 2) & (pick < 0.45 * p_hs * 2 + 0.35)] = S["vocational"]
    cont = (age >= 16) & (age <= 17) & np.isin(sch, [S["high_school"], S["vocational"]])
    new[cont] = sch[cont]
    at18 = age == 18
    from_hs = at18 & (sch == S["high_school"])
    new[from_hs & (u < 0.55)] = S["college"]
    new[at18 & (sch == S["vocational"]) & (u < 0.25)] = S["vocational"]
    in_college = (age >= 19) & (age <= 21) & np.isin(sch, [S["college"], S["vocational"]])
    new[in_college] = sch[in_college]
    new[in_college & (sch == S["vocational"]) & (age >= 21)] = S["not_in_school"]
    # Attainment follows the finished stage.
    edu = np.where((age >= 12) & (edu < K.EDUCATION["primary"]) & (sch == S["compulsory"]), K.EDUCATION["primary"], edu)
    edu = np.where((age >= 15) & (edu < K.EDUCATION["junior"]) & (sch == S["compulsory"]), K.EDUCATION["junior"], edu)
    edu = np.where((age >= 18) & (edu < K.EDUCATION["senior"]) & np.isin(sch, [S["high_school"], S["vocational"]]),
                   K.EDUCATION["senior"], edu)
    edu = np.where((age >= 22) & (sch == S["college"]) & (new != S["college"]), K.EDUCATION["college"], edu)
    enrolled = np.isin(new, [S["high_school"], S["vocational"], S["college"]]) & (new != sch) if ageing else \
        np.zeros(n, bool)
    m["school"], m["edu"] = new.astype(_INT), edu.astype(_INT)
    return enrolled


def demography(s: State, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Ageing, deaths, adult children moving out, births; a new head where the head died.
    Returns the year's death records (household index, member id, onset fraction)."""
    m = s.mem
    m["age"] += 1
    age = m["age"]
    # Gompertz mortality, rural China order of magnitude (~0.6% at 60, ~4% at 80, ~10% at 90).
    q = np.minimum(0.6, 0.00035 * np.exp(0.095 * (age - 30)) + np.where(age <= 1, 0.004, 0.0))
    q = q * np.where(m["ill"] == 2, 4.0, np.where(m["ill"] == 1, 1.5, 1.0)) * np.where(m["disab"] == 1, 2.0, 1.0)
    q = q + 0.03 * (m["ill"] == 2)
    dies = rng.random(len(age)) < q
    deaths = {"hh": m["hh"][dies], "mid": m["mid"][dies], "frac": rng.random(int(dies.sum()))}
    leaves = (m["relation"] == K.RELATION["child"]) & (age >= 18) & (age <= 32) & (m["school"] == K.SCHOOL["not_in_school"])
    leaves &= rng.random(len(age)) < 0.05
    s.hh["support"] += np.bincount(m["hh"][leaves], minlength=s.n_households) * 1500.0
    keep_members(s, ~dies & ~leaves)
    _replace_heads(s)
    _births(s, rng)
    return deaths


def _replace_heads(s: State) -> None:
    """Where the head died or left, the spouse (else the oldest member) becomes head."""
    m = s.mem
    has_head = any_per_household(s, m["relation"] == K.RELATION["head"])
    need = ~has_head[m["hh"]]
    if not need.any():
        return
    idx = np.flatnonzero(need)
    score = (m["relation"][idx] == K.RELATION["spouse"]) * 1000 + m["age"][idx]
    order = np.lexsort((-score, m["hh"][idx]))
    first = np.r_[True, np.diff(m["hh"][idx][order]) != 0]
    m["relation"][idx[order[first]]] = K.RELATION["head"]


def _births(s: State, rng: np.random.Generator) -> None:
    """At most one birth a household a year; rural fertility ~1.5-1.9 children per woman."""
    m = s.mem
    mothers = (m["sex"] == K.SEX["F"]) & (m["age"] >= 20) & (m["age"] <= 42)
    p = np.where(m["age"] < 33, 0.075, 0.02)
    born = mothers & (rng.random(len(p)) < p)
    hh_idx, first = np.unique(m["hh"][born], return_index=True)
    if len(hh_idx) == 0:
        return
    mother_rel = m["relation"][np.flatnonzero(born)[first]]
    n = len(hh_idx)
    new = _empty_like_members(n)
    new["hh"], new["mid"] = hh_idx, s.hh["next_mid"][hh_idx]
    s.hh["next_mid"][hh_idx] += 1
    new["relation"] = np.where(np.isin(mother_rel, [K.RELATION["head"], K.RELATION["spouse"]]),
                               K.RELATION["child"], K.RELATION["grandchild"])
    new["sex"] = np.where(rng.random(n) < 0.515, K.SEX["M"], K.SEX["F"])
    new["frailty"] = s.hh["frailty"][hh_idx] + rng.normal(0, 0.5, n)
    new["skill_lat"] = rng.normal(0, 1, n) + 0.5 * s.hh["lprod"][hh_idx]
    new["precarity"] = rng.normal(0, 1, n)
    new["basic_ins"] = rng.random(n) < 0.97
    new["crit_ins"] = new["basic_ins"].copy()
    new["comm_ins"] = s.hh["commercial"][hh_idx] & new["basic_ins"]
    append_members(s, new)


def health(s: State, rng: np.random.Generator) -> None:
    """Chronic and serious illness, recovery, hospitalisation, accidents and disability for the year."""
    m = s.mem
    n, age = s.n_members, m["age"]
    fr = np.exp(0.4 * m["frailty"])
    u = rng.random((5, n))
    was = m["ill"].copy()
    p_chronic = (0.004 + 0.0011 * np.maximum(age - 30, 0)) * fr
    p_serious = (0.0015 + 0.00022 * np.maximum(age - 25, 0)) * fr * np.where(was == 1, 2.5, 1.0)
    new_serious = (was < 2) & (u[0] < p_serious)
    # Serious illness: ~35% still under treatment a year later, ~50% become chronic, the rest recover.
    after_serious = np.where(u[1] < 0.35, 2, np.where(u[1] < 0.85, 1, 0))
    ill = np.where(was == 2, after_serious, was)
    ill = np.where((was == 0) & (u[2] < p_chronic), 1, ill)
    ill = np.where((was == 1) & (u[2] < 0.04), 0, ill)
    ill = np.where(new_serious, 2, ill)
    accident = (age >= 16) & (age <= 70) & (u[3] < np.where(m["loc"] == K.WORK["out_of_province"], 0.009, 0.006))
    to_disabled = (m["disab"] == 0) & ((accident & (u[4] < 0.25)) | (new_serious & (u[4] < 0.06))
                                      | ((age >= 70) & (u[4] < 0.008)))
    grade = rng.choice([1, 2, 3, 4], n, p=[0.1, 0.25, 0.3, 0.35])
    m["disab"] = np.where(to_disabled, grade, m["disab"])
    m["ill"] = ill.astype(_INT)
    m["new_serious"] = new_serious
    m["accident"] = accident
    m["hosp"] = ((ill == 1) & (rng.random(n) < 0.12)) | ((ill == 2) & ~new_serious)
    m["onset"] = rng.random(n)


def labor_skill(m: dict) -> np.ndarray:
    """劳动技能 from age, schooling, health, disability and a latent aptitude."""
    age, S, L = m["age"], K.SCHOOL, K.SKILL
    student = np.isin(m["school"], [S["preschool"], S["compulsory"], S["high_school"], S["vocational"], S["college"]])
    none = (age < 16) | student | (m["ill"] == 2) | np.isin(m["disab"], [1, 2]) | (age >= 75)
    weak = (age >= 65) | (m["ill"] == 1) | np.isin(m["disab"], [3, 4])
    skilled = (m["skill_lat"] + 0.6 * (m["edu"] >= K.EDUCATION["senior"])) > 0.9
    return np.select([none, weak, skilled], [L["none"], L["weak"], L["skilled"]], L["ordinary"]).astype(_INT)


# Monthly wage net of living costs away from home (2021 yuan). Migrant workers earned 4,432 yuan/month in
# 2021 (NBS 农民工监测调查报告 2021), out-of-province more, local less; away-from-home living costs take
# ~35-45% of it (same report: ~1,500-1,700/month of living costs in cities), and only what reaches the
# household (brought or sent home) is its wage income in the monitoring record.
NET_MONTHLY_WAGE = {"in_county": 980.0, "in_province": 1070.0, "out_of_province": 1160.0}
PUBLIC_JOB_MONTHLY = 600.0  # 乡村公益岗位: 500-800 yuan/month
WAGE_GROWTH = 0.06         # nominal growth of migrant wages a year (NBS: +8.8% 2021, +4.1% 2022, +3.6% 2023)


def work(s: State, rng: np.random.Generator, year: int) -> None:
    """Labour skill, migration state, months worked, job loss and wages for the year."""
    m, hh = s.mem, s.hh
    m["labor"] = labor_skill(m)
    n = s.n_members
    W, L = K.WORK, K.SKILL
    able = (m["labor"] != L["none"]) & (m["age"] <= 64)
    small_child = any_per_household(s, m["age"] <= 5)[m["hh"]]
    assist = hh["assist_bits"][m["hh"]]
    employment = (assist & K.ASSIST_BIT["employment"]) > 0
    u = rng.random((4, n))
    young_m = (m["age"] < 45) & (m["sex"] == K.SEX["M"])
    w_out = 0.30 + 0.15 * young_m - 0.2 * (m["age"] >= 50) - 0.15 * ((m["sex"] == K.SEX["F"]) & small_child)
    w_out = np.clip(w_out + 0.08 * employment, 0.02, 0.8)
    w_prov = np.full(n, 0.18)
    w_cty = np.full(n, 0.22) + 0.05 * employment
    w_none = np.clip(0.25 + 0.3 * (m["labor"] == L["weak"]) + 0.1 * (m["age"] >= 55), 0.05, 1)
    # Workers change place but do not stop without a reason (job loss, illness, age); people at home start.
    w_none = np.where(m["loc"] != W["none"], 0.0, w_none)
    tot = w_out + w_prov + w_cty + w_none
    c1, c2, c3 = w_none / tot, (w_none + w_cty) / tot, (w_none + w_cty + w_prov) / tot
    draw = np.select([u[0] < c1, u[0] < c2, u[0] < c3], [W["none"], W["in_county"], W["in_province"]],
                     W["out_of_province"])
    # Persistence: most keep last year's place; those who lost a job last year often stay home.
    stay = (u[1] < 0.88) & (m["loc"] != W["none"]) | (u[1] < 0.35) & (m["loc"] == W["none"])
    back_home = m["lost_job"] & (u[2] < 0.45)
    loc = np.where(stay, m["loc"], draw)
    loc = np.where(back_home, W["none"], loc)
    loc = np.where(able, loc, W["none"])
    loc = np.where((m["labor"] == L["weak"]) & (loc == W["out_of_province"]), W["in_county"], loc)
    base_months = np.select([loc == W["out_of_province"], loc == W["in_province"]], [10.3, 9.6], 7.5)
    months = np.clip(np.rint(base_months + rng.normal(0, 1.0, n)), 1, 12)
    # Job loss: ~6% of workers a year, more for precarious jobs and far away, a common labour-market shock
    # a year (per world), less with employment assistance (就业帮扶).
    macro = rng.normal(0, 1, s.n_worlds)[hh["world"][m["hh"]]]
    p_loss = 0.055 * np.exp(0.6 * m["precarity"] + 0.25 * macro) * np.where(employment, 0.7, 1.0)
    p_loss *= np.where(loc == W["out_of_province"], 1.3, np.where(loc == W["in_county"], 0.8, 1.0))
    lost = (loc != W["none"]) & (u[3] < p_loss)
    frac = rng.random(n)
    months = np.where(lost, np.maximum(1, np.floor(months * frac)), months)
    # Public-welfare jobs go to those at home: they work in the county, all year.
    pub = m["public_job"] & (loc == W["none"]) | m["public_job"] & (loc == W["in_county"])
    m["public_job"] = pub & (m["labor"] != L["none"])
    loc = np.where(m["public_job"], W["in_county"], loc)
    months = np.where(m["public_job"], np.maximum(months, 10), months)
    months = np.where(loc == W["none"], 0, months)
    lost &= ~m["public_job"]
    skill_f = np.select([m["labor"] == L["skilled"], m["labor"] == L["weak"]], [1.35, 0.6], 1.0)
    rate = np.select([loc == W["out_of_province"], loc == W["in_province"]],
                     [NET_MONTHLY_WAGE["out_of_province"], NET_MONTHLY_WAGE["in_province"]],
                     NET_MONTHLY_WAGE["in_county"])
    growth = (1 + WAGE_GROWTH) ** (year - 2021)
    level = s.geo["wage_level"][hh["village"][m["hh"]]] * np.exp(0.6 * hh["lprod"][m["hh"]] + 0.2 * m["skill_lat"])
    wage = rate * skill_f * level * growth * rng.lognormal(0, 0.12, n) * months
    pub_wage = PUBLIC_JOB_MONTHLY * 12 * (1 + 0.04) ** (year - 2021)
    m["wage"] = np.where(m["public_job"], pub_wage, np.where(loc == W["none"], 0.0, wage))
    m["loc"], m["months"] = loc.astype(_INT), months.astype(_INT)
    m["lost_job"], m["job_frac"] = lost, frac
    m["lost_wage"] = np.where(lost, wage / np.maximum(months, 1) * (base_months - months).clip(0), 0.0)
