"""Turn the state of one round into the contract's tables (canonical form: English names and codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data import contract as C
from features.data.canonical import cast
from features.simulator import codes as K
from features.simulator.state import State

SURVEY_START = "-10-08"  # rounds open in early October; villages are surveyed in turn over ~6 weeks


def survey_day(s: State, year: int) -> np.ndarray:
    """Each household's survey date in ``year`` as days since the epoch (fixed village slot + own jitter)."""
    start = np.datetime64(f"{year}{SURVEY_START}", "D").astype(np.int64)
    return start + s.geo["survey_offset"][s.hh["village"]] + s.hh["jitter"]


def _padded(nums: np.ndarray, width: int) -> np.ndarray:
    if len(nums) == 0:
        return np.zeros(0, dtype="<U1")
    return np.char.zfill(nums.astype(str), width)


def household_ids(uid: np.ndarray) -> np.ndarray:
    """Synthetic household numbers ``H0000042`` (no real identifier exists in simulated data)."""
    return np.char.add("H", _padded(uid, 7)).astype(object)


def member_ids(hid: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """``<household_id>-<nn>``, stable across rounds."""
    if len(hid) == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(np.char.add(hid.astype(str), "-"), _padded(mid, 2)).astype(object)


def _codes(values: dict[str, str], idx: np.ndarray) -> np.ndarray:
    return np.array(list(values), dtype=object)[idx]


def _lists(values: dict[str, str], bits: np.ndarray) -> np.ndarray:
    """Bit masks → ';'-joined codes, computed once per distinct mask."""
    uniq, inv = np.unique(bits, return_inverse=True)
    names = list(values)
    text = [";".join(n for i, n in enumerate(names) if int(u) >> i & 1) for u in uniq]
    return np.array(text, dtype=object)[inv]


def households_frame(s: State, round_id: str) -> pd.DataFrame:
    hh, geo = s.hh, s.geo
    v = hh["village"]
    monitored = hh["monitored"]
    mtype = np.where(monitored, _codes(C.MONITORING_TYPE, np.maximum(hh["mon_type"], 0)), None)
    data = {
        "household_id": household_ids(hh["uid"]), "round_id": round_id,
        "survey_date": survey_day(s, s.year).astype("datetime64[D]"),
        "province": geo["province_name"][v], "county": geo["county_name"][v],
        "township": geo["township_name"][v], "village": geo["village_name"][v],
        "household_type": _codes(C.HOUSEHOLD_TYPE, hh["type"]),
        "is_monitored": monitored, "monitoring_type": mtype,
        "risk_types": np.where(monitored, _lists(C.RISK_TYPE, hh["risk_bits"]), ""),
        "risk_eliminated": pd.array(np.where(monitored, hh["eliminated"], False), dtype="boolean"),
        "relocated": hh["relocated"], "household_size": hh["size"],
        "wage_income": hh["wage_income"], "public_job_income": hh["public_job_income"],
        "operating_income": hh["operating_income"], "operating_expense": hh["operating_expense"],
        "property_income": hh["property_income"], "asset_dividend": hh["asset_dividend"],
        "transfer_income": hh["transfer_income"], "dibao_income": hh["dibao_income"],
        "tekun_income": hh["tekun_income"], "pension_income": hh["pension"],
        "eco_compensation": hh["eco_income"], "family_planning_income": hh["fp_income"],
        "insurance_claim_income": hh["insurance_claim_income"], "medical_expense": hh["medical"],
        "education_expense": hh["education"], "housing_safe": hh["housing_safe"], "water_safe": hh["water_safe"],
        "cultivated_land_mu": np.round(hh["land_mu"], 1), "road_distance_km": np.round(hh["road_km"], 1),
        "in_cooperative": hh["in_coop"], "microcredit_balance": hh["microcredit"],
        "ethnic_minority": hh["minority"],
        "assistance": _lists(C.ASSISTANCE, hh["assist_bits"]),
    }
    df = pd.DataFrame(data)
    df.loc[~monitored, "risk_eliminated"] = pd.NA
    return cast("households", df)


def members_frame(s: State, round_id: str) -> pd.DataFrame:
    m = s.mem
    order = np.lexsort((m["mid"], s.hh["uid"][m["hh"]]))
    g = {k: v[order] for k, v in m.items()}
    hid = household_ids(s.hh["uid"])[g["hh"]]
    health = np.select([g["ill"] == 2, g["disab"] > 0, g["ill"] == 1],
                       [K.HEALTH["serious"], K.HEALTH["disabled"], K.HEALTH["chronic"]], K.HEALTH["healthy"])
    grade = pd.array(np.where(health == K.HEALTH["disabled"], g["disab"], 0), dtype="Int64")
    grade[health != K.HEALTH["disabled"]] = pd.NA
    df = pd.DataFrame({
        "household_id": hid, "round_id": round_id,
        "member_id": member_ids(hid, g["mid"]),
        "relation": _codes(C.RELATION, g["relation"]), "sex": _codes(C.SEX, g["sex"]),
        "age": np.minimum(g["age"], 120), "education": _codes(C.EDUCATION, g["edu"]),
        "school_status": _codes(C.SCHOOL_STATUS, g["school"]), "health": _codes(C.HEALTH, health),
        "disability_grade": grade, "labor_skill": _codes(C.LABOR_SKILL, g["labor"]),
        "work_location": _codes(C.WORK_LOCATION, g["loc"]), "work_months": g["months"],
        "basic_medical_insurance": g["basic_ins"], "critical_illness_insurance": g["crit_ins"],
        "commercial_medical_insurance": g["comm_ins"], "pension_insurance": g["pension_ins"],
        "public_job": g["public_job"],
    })
    return cast("members", df)


def events_frame(s: State, rows: dict[str, np.ndarray]) -> pd.DataFrame:
    hid = household_ids(s.hh["uid"][rows["hh"]])
    mid = member_ids(hid, np.maximum(rows["mid"], 0))
    mid[rows["mid"] < 0] = None
    amount = rows["amount"].astype(float)
    df = pd.DataFrame({
        "household_id": hid, "member_id": mid, "event_date": rows["day"].astype("datetime64[D]"),
        "event_type": _codes(C.EVENT_TYPE, rows["type"]), "amount": amount,
        "source": _codes(C.EVENT_SOURCE, rows["source"]),
    })
    return cast("events", df)
