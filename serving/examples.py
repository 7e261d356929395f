"""The example household of the API's OpenAPI document (``/docs.json``): the README's own example, a two-person
escaped household in 甘肃 with a hospitalisation reported after the survey."""

from __future__ import annotations

from typing import Any

EXAMPLE_HOUSEHOLD: dict[str, Any] = {
    "record": {"household_id": "H1", "round_id": "2025", "survey_date": "2025-11-20", "province": "甘肃",
               "county": "会宁县", "township": "甲镇", "village": "吉坝村", "household_type": "脱贫户",
               "is_monitored": False, "relocated": False, "household_size": 2, "wage_income": 18000,
               "operating_income": 6000, "operating_expense": 2000, "property_income": 300,
               "transfer_income": 4200, "medical_expense": 1500, "education_expense": 0, "housing_safe": True,
               "water_safe": True},
    "members": [
        {"member_id": "M1", "relation": "head", "sex": "M", "age": 52, "education": "junior",
         "school_status": "not_in_school", "health": "chronic", "labor_skill": "ordinary",
         "work_location": "in_province", "work_months": 8, "basic_medical_insurance": True},
        {"member_id": "M2", "relation": "spouse", "sex": "F", "age": 50, "education": "primary",
         "school_status": "not_in_school", "health": "healthy", "labor_skill": "ordinary",
         "work_location": "none", "work_months": 0, "basic_medical_insurance": True}],
    "events": [{"event_date": "2026-02-10", "event_type": "住院", "amount": 30000, "source": "self_report"}],
    "as_of": "2026-02-20",
}
