"""Tiny hand-written canonical frames for indicator and label tests (households you can read)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from features.canonical import cast

LINES = pd.DataFrame({"province": ["*", "*", "*"], "year": [2023, 2024, 2025], "line": [7000.0, 7500.0, 7900.0]}
                     ).astype({"year": "Int64"})


def record(hid: str = "h1", rid: str = "2023", date: str = "2023-11-15", **over: Any) -> dict[str, Any]:
    """A households row: a family of 4 living on wages and some farming, comfortably above the line."""
    base = {
        "household_id": hid, "round_id": rid, "survey_date": date, "province": "P1", "county": "C1",
        "township": "T1", "village": "V1", "household_type": "escaped", "is_monitored": False,
        "monitoring_type": None, "risk_types": "", "risk_eliminated": None, "relocated": False,
        "household_size": 4, "wage_income": 30000.0, "public_job_income": 0.0, "operating_income": 12000.0,
        "operating_expense": 4000.0, "property_income": 1000.0, "asset_dividend": 0.0, "transfer_income": 3000.0,
        "dibao_income": 0.0, "tekun_income": 0.0, "pension_income": 1800.0, "eco_compensation": 600.0,
        "family_planning_income": 0.0, "insurance_claim_income": 0.0, "medical_expense": 1500.0,
        "education_expense": 1000.0, "housing_safe": True, "water_safe": True, "cultivated_land_mu": 5.0,
        "road_distance_km": 3.0, "in_cooperative": True, "microcredit_balance": 0.0, "assistance": "",
    }
    return {**base, **over}


def member(mid: str, hid: str = "h1", rid: str = "2023", **over: Any) -> dict[str, Any]:
    """A members row: a healthy ordinary labourer in their thirties working in the county."""
    base = {
        "household_id": hid, "round_id": rid, "member_id": mid, "relation": "child", "sex": "M", "age": 35,
        "education": "junior", "school_status": "not_in_school", "health": "healthy", "disability_grade": None,
        "labor_skill": "ordinary", "work_location": "in_county", "work_months": 10,
        "basic_medical_insurance": True, "critical_illness_insurance": True, "commercial_medical_insurance": False,
        "pension_insurance": True, "public_job": False,
    }
    return {**base, **over}


def family(hid: str = "h1", rid: str = "2023") -> list[dict[str, Any]]:
    """Head and spouse working, a school child, a grandparent."""
    return [
        member(f"{hid}-1", hid, rid, relation="head", age=42, work_location="in_province", work_months=11),
        member(f"{hid}-2", hid, rid, relation="spouse", sex="F", age=40, work_months=8),
        member(f"{hid}-3", hid, rid, relation="child", age=12, labor_skill="none", work_location="none",
               work_months=0, school_status="compulsory", education="primary"),
        member(f"{hid}-4", hid, rid, relation="parent", age=70, labor_skill="weak", work_location="none",
               work_months=0, education="none"),
    ]


def event(hid: str, date: str, event_type: str, amount: float | None = None, **over: Any) -> dict[str, Any]:
    return {"household_id": hid, "member_id": None, "event_date": date, "event_type": event_type,
            "amount": amount, "source": "self_report", **over}


def frames(records: list[dict], members: list[dict], events: list[dict]
           ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Canonical households, members, events frames."""
    return (cast("households", pd.DataFrame(records)), cast("members", pd.DataFrame(members)),
            cast("events", pd.DataFrame(events)))


def panel() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three households over three rounds (h3 skips the last), with events between rounds."""
    recs, mems = [], []
    for rid, date, wage in (("2023", "2023-11-15", 30000.0), ("2024", "2024-11-20", 26000.0),
                            ("2025", "2025-11-18", 34000.0)):
        for hid, extra in (("h1", {}), ("h2", {"dibao_income": 2400.0, "transfer_income": 5400.0,
                                               "is_monitored": True, "monitoring_type": "marginal",
                                               "risk_types": "illness;lack_labor", "assistance": "health;social_security"}),
                           ("h3", {"household_type": "general", "wage_income": 9000.0})):
            if hid == "h3" and rid == "2025":
                continue
            recs.append(record(hid, rid, date, **{"wage_income": wage, **extra}))
            mems += family(hid, rid)
    evs = [event("h1", "2024-03-02", "hospitalization", 8000.0), event("h1", "2025-01-10", "job_loss"),
           event("h2", "2024-12-01", "natural_disaster", 3000.0), event("h3", "2025-06-30", "price_drop", 500.0),
           event("h2", "2025-12-01", "serious_illness", 50000.0)]
    return frames(recs, mems, evs)
