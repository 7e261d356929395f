"""What the county does at each survey: the 低保 means test (on last year's income, with imperfect take-up),
特困 support, monitoring (identification, type, risk types, risk elimination) and assistance measures that
change the next year. Rules follow the 2021 guidance (see shared/notes/domain.md)."""

from __future__ import annotations

import numpy as np

from features.simulator import codes as K
from features.simulator.income import dibao_standard
from features.simulator.state import State, any_per_household, per_household

B, A = K.RISK_BIT, K.ASSIST_BIT
MAX_RISK_TYPES = 5
MONITORING_START = 2020  # the monitoring mechanism began with the 2020-2021 transition
_PERMANENT = A["housing"] | A["water"] | A["relocation"]


def means_test(s: State, rng: np.random.Generator) -> None:
    """低保 for next year from this year's recorded income (the lag): enrol some eligible households, keep or
    taper (渐退) current ones, and single-person cover (单人保) for the seriously ill or severely disabled."""
    hh, m = s.hh, s.mem
    n = s.n_households
    std = dibao_standard(s.year)
    size = np.maximum(hh["size"], 1).astype(float)
    income_ex = hh["net"] - hh["dibao_income"] - hh["tekun_income"]
    test_pc = (income_ex - 0.5 * hh["medical"]) / size  # 支出型: part of medical spending is deducted
    eligible = (test_pc < std) & (hh["biz"] == 0)
    severe = any_per_household(s, (m["ill"] == 2) | np.isin(m["disab"], [1, 2]))
    single = severe & (test_pc < 1.8 * std) & ~eligible
    tekun = any_per_household(s, m["tekun"])
    u = rng.random((2, n))
    current = hh["dibao"]
    social = (hh["assist_bits"] & A["social_security"]) > 0
    takeup = 0.55 + 0.3 * social + 0.1 * hh["monitored"]
    keep_full = current & eligible
    taper = current & ~eligible & ~single & (u[0] < 0.45) & ~hh["tapering"]
    keep_single = current & single
    new = ~current & ((eligible & (u[1] < takeup)) | (single & (u[1] < 0.12)))
    full_amt = np.clip(std - test_pc, 0.3 * std, 0.85 * std) * size
    amt = np.where(keep_full | (new & eligible), full_amt, 0.0)
    amt = np.where(keep_single | (new & single), 0.5 * std, amt)
    amt = np.where(taper, 0.5 * hh["dibao_amt"], amt)
    hh["dibao"] = (amt > 0) & ~tekun
    hh["dibao_amt"] = np.where(hh["dibao"], amt, 0.0)
    hh["tapering"] = taper


def tekun(s: State, rng: np.random.Generator) -> None:
    """特困供养 for old or severely disabled people without labour and without family able to support them."""
    m = s.mem
    capable = np.isin(m["labor"], [K.SKILL["skilled"], K.SKILL["ordinary"], K.SKILL["weak"]])
    no_support = (per_household(s, capable) == 0) & (s.hh["size"] <= 2)
    candidate = ((m["age"] >= 60) | np.isin(m["disab"], [1, 2])) & no_support[m["hh"]]
    m["tekun"] = m["tekun"] | (candidate & (rng.random(s.n_members) < 0.5))


def risk_bits(s: State) -> np.ndarray:
    """The risk types a county would record for each household this year (at most five, by priority)."""
    hh, m = s.hh, s.mem
    n = s.n_households
    net = np.maximum(hh["net"], 1.0)
    L = K.SKILL
    labour = per_household(s, np.isin(m["labor"], [L["skilled"], L["ordinary"]]))
    S = K.SCHOOL
    found = {
        "illness": any_per_household(s, m["ill"] == 2)
        | (any_per_household(s, m["ill"] == 1) & ((hh["medical"] > 0.08 * net) | (hh["medical"] > 4000))),
        "disability": any_per_household(s, np.isin(m["disab"], [1, 2])),
        "lack_labor": labour <= hh["size"] / 4,
        "education": (hh["education"] > 0.15 * net)
        | any_per_household(s, np.isin(m["school"], [S["high_school"], S["college"]])),
        "unstable_work": any_per_household(s, m["lost_job"]),
        "disaster": hh["disaster_hit"],
        "accident": any_per_household(s, m["accident"]),
        "business_failure": hh["biz_failed"],
        "unsafe_housing": ~hh["housing_safe"],
        "unsafe_water": ~hh["water_safe"],
    }
    bits = np.zeros(n, np.int64)
    count = np.zeros(n, np.int64)
    for name in K.RISK_PRIORITY[:-1]:
        add = found[name] & (count < MAX_RISK_TYPES)
        bits |= np.where(add, B[name], 0)
        count += add
    return np.where(bits == 0, B["other"], bits)


def monitor(s: State, rng: np.random.Generator, line: np.ndarray) -> None:
    """Identify, type and clear monitored households from this year's record, as a county would."""
    hh = s.hh
    n = s.n_households
    hp, prev = hh["hardship_pc"], hh["prev_hardship_pc"]
    below = hp < line
    near = hp < 1.3 * line
    rigid = hh["medical"] + hh["education"]
    sudden = ((rigid > 0.6 * np.maximum(hh["net"], 1)) | (hp < 0.5 * prev)) & (hp < 1.5 * line)
    bits = risk_bits(s)
    u = rng.random((3, n))
    named = (bits & ~B["other"]) != 0
    p_id = np.where(below, 0.5, np.where(near & named, 0.05, np.where(sudden, 0.3, 0.0)))
    p_id = p_id if s.year >= MONITORING_START else np.zeros(n)
    active = hh["monitored"] & ~hh["eliminated"]
    found = ~active & (u[0] < p_id)
    escaped = hh["type"] == K.HOUSEHOLD_TYPE["escaped"]
    T = K.MONITORING_TYPE
    # 突发严重困难户: income itself above the range, brought down by rigid spending or a sharp drop.
    income_low = hh["net_pc"] < 1.1 * line
    new_type = np.where(income_low | ~sudden, np.where(escaped, T["unstable_escaped"], T["marginal"]),
                        T["sudden_hardship"])
    hh["mon_type"] = np.where(found & ~hh["monitored"], new_type, hh["mon_type"])
    hh["monitored"] = hh["monitored"] | found
    capable = per_household(s, s.mem["labor"] != K.SKILL["none"]) > 0
    cleared = active & (hp >= 1.15 * line) & (prev >= line) & capable & (u[1] < 0.7)
    hh["eliminated"] = (hh["eliminated"] & ~found) | cleared
    now_active = hh["monitored"] & ~hh["eliminated"]
    hh["risk_bits"] = np.where(now_active, bits, hh["risk_bits"])
    _assist(s, rng, now_active, bits)


def _assist(s: State, rng: np.random.Generator, active: np.ndarray, bits: np.ndarray) -> None:
    """Measures by risk type for active monitored households; withdrawal after risk elimination."""
    hh = s.hh
    n = s.n_households
    labour = per_household(s, np.isin(s.mem["labor"], [K.SKILL["skilled"], K.SKILL["ordinary"]])) > 0
    want = np.zeros(n, np.int64)
    rules = (("illness", A["health"]), ("disability", A["social_security"]), ("lack_labor", A["social_security"]),
             ("education", A["education"]), ("unstable_work", A["employment"] | A["public_job"]),
             ("disaster", A["industry"]), ("business_failure", A["industry"] | A["finance"]),
             ("unsafe_housing", A["housing"]), ("unsafe_water", A["water"]), ("accident", A["social"]))
    for risk, measure in rules:
        want |= np.where((bits & B[risk]) != 0, measure, 0)
    development = want & (A["industry"] | A["employment"])
    u = rng.random((3, n))
    want |= np.where(labour & (development == 0), np.where(u[0] < 0.5, A["industry"], A["employment"]), 0)
    want |= np.where(~labour & (u[1] < 0.5), A["public_job"], 0)
    current = hh["assist_bits"]
    # Off the list: each measure is withdrawn with some chance a year (過渡期 keeps most support in place).
    p_drop = np.where(hh["monitored"] & hh["eliminated"], 0.35, 0.12)
    dropped = np.where(u[2] < p_drop, current & ~_PERMANENT & ~(A["industry"] | A["finance"]), 0)
    hh["assist_bits"] = np.where(active, current | want, current & ~dropped)
    hh["assist_bits"] |= np.where(hh["relocated"], A["relocation"], 0)
    hh["assist_bits"] |= np.where(any_per_household(s, s.mem["tekun"]) | hh["dibao"], A["social_security"], 0)
    _public_jobs(s, rng)


def _public_jobs(s: State, rng: np.random.Generator) -> None:
    """One member at home with some labour gets a public-welfare job where the measure is in force; the job
    ends where the measure was withdrawn."""
    m, hh = s.mem, s.hh
    has_measure = (hh["assist_bits"] & A["public_job"]) != 0
    m["public_job"] &= has_measure[m["hh"]]
    need = has_measure & ~any_per_household(s, m["public_job"])
    cand = need[m["hh"]] & np.isin(m["labor"], [K.SKILL["weak"], K.SKILL["ordinary"]]) \
        & (m["age"] >= 18) & (m["age"] <= 70) & np.isin(m["loc"], [K.WORK["none"], K.WORK["in_county"]])
    idx = np.flatnonzero(cand & (rng.random(s.n_members) < 0.8))
    if len(idx):
        order = np.lexsort((rng.random(len(idx)), m["hh"][idx]))
        first = np.r_[True, np.diff(m["hh"][idx][order]) != 0]
        m["public_job"][idx[order[first]]] = True


def review(s: State, rng: np.random.Generator, line: np.ndarray) -> None:
    """All of the county's decisions at this survey, in order."""
    r = rng.spawn(3)
    tekun(s, r[0])
    means_test(s, r[1])
    monitor(s, r[2], line)
