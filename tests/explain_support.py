"""A tiny, seeded world for the explanation and report tests: Household documents written out by hand-sized
rules, their real indicators, and a small LightGBM RiskModel trained on them.

Independent of the simulator on purpose: these tests check the explanation machinery (additivity, reasons,
measures, rendering), so the data only needs to be readable and the label to depend on a few known factors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ROUNDS = (("2023", "2023-06-30"), ("2024", "2024-06-30"))


def _member(rng: np.random.Generator, k: int, relation: str, age: int, health: str) -> dict[str, Any]:
    working = 16 <= age < 65 and health == "healthy"
    months = int(rng.integers(4, 13)) if working and rng.random() < 0.7 else 0
    return {"member_id": f"m{k}", "relation": relation, "sex": "M" if k % 2 else "F", "age": age,
            "education": "junior" if age >= 12 else "primary" if age >= 7 else "none",
            "school_status": "compulsory" if 6 <= age < 15 else "high_school" if 15 <= age < 18 else "not_in_school",
            "health": health, "disability_grade": 2 if health == "disabled" else None,
            "labor_skill": "ordinary" if working else "none" if age >= 65 or age < 16 else "weak",
            "work_location": "out_of_province" if months else "none", "work_months": months,
            "basic_medical_insurance": True, "critical_illness_insurance": True, "public_job": False}


def household_doc(rng: np.random.Generator, i: int, *, village: str = "Village A") -> dict[str, Any]:
    """One household over two rounds, as a "Household" document (the latest round is ``record``)."""
    size = int(rng.integers(1, 6))
    ages = [int(rng.integers(25, 70))] + [int(rng.integers(1, 80)) for _ in range(size - 1)]
    rounds = []
    base_wage = float(rng.gamma(2.0, 9000.0))
    for r, (round_id, date) in enumerate(ROUNDS):
        health = [str(rng.choice(["healthy", "chronic", "serious", "disabled"], p=[0.8, 0.1, 0.06, 0.04]))
                  for _ in ages]
        members = [_member(rng, k, "head" if k == 0 else "child", a + r, h) for k, (a, h) in enumerate(zip(ages, health))]
        ill = sum(h in ("chronic", "serious") for h in health)
        medical = float(rng.gamma(2.0, 1500.0) * (1 + 4 * ill))
        wage = base_wage * float(rng.uniform(0.7, 1.2))
        record = {
            "household_id": f"H{i:05d}", "round_id": round_id, "survey_date": date, "province": "P1",
            "county": "C1", "township": "T1", "village": village, "household_type": "escaped",
            "is_monitored": False, "monitoring_type": None, "risk_types": "", "risk_eliminated": None,
            "relocated": False, "household_size": size, "wage_income": round(wage), "public_job_income": 0.0,
            "operating_income": float(round(rng.gamma(2.0, 3000.0))), "operating_expense": 1500.0,
            "property_income": 300.0, "asset_dividend": 0.0, "transfer_income": 2000.0, "dibao_income": 0.0,
            "tekun_income": 0.0, "pension_income": 1200.0, "eco_compensation": 0.0, "family_planning_income": 0.0,
            "insurance_claim_income": 0.0, "medical_expense": round(medical), "education_expense": 500.0 * size,
            "housing_safe": bool(rng.random() > 0.03), "water_safe": bool(rng.random() > 0.03),
            "cultivated_land_mu": float(rng.uniform(0.5, 6)), "road_distance_km": float(rng.uniform(0, 10)),
            "in_cooperative": bool(rng.random() < 0.3), "microcredit_balance": 0.0, "assistance": "",
        }
        rounds.append({"record": record, "members": members})
    return {"record": rounds[-1]["record"], "members": rounds[-1]["members"], "history": rounds[:-1],
            "events": [], "as_of": ROUNDS[-1][1]}


def documents(n: int, seed: int = 3, village: str = "Village A") -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [household_doc(rng, i, village=village) for i in range(n)]


def labels(indicators: pd.DataFrame, seed: int = 3) -> np.ndarray:
    """Falls below the line next round: more likely with serious illness, heavy medical spending and low
    income (a rule written for the test, so the tests know which factors the model must learn)."""
    rng = np.random.default_rng(seed)
    logit = (-3.0 + 1.2 * indicators["serious_members"].fillna(0) + 2.5 * indicators["medical_share_of_income"].clip(0, 2)
             - 1.2 * indicators["net_income_ratio"].clip(-1, 4) + 1.5 * indicators["housing_unsafe"])
    return (rng.random(len(indicators)) < 1 / (1 + np.exp(-logit.to_numpy(float)))).astype(float)


def train_tiny_model(docs: list[dict[str, Any]], *, seed: int = 3, num_leaves: int = 15, max_depth: int = 5):
    """A small RiskModel on the documents' real indicators (LightGBM, Platt calibration, frozen tiers)."""
    import lightgbm as lgb

    from features.indicators.catalogue import FEATURES, feature_names
    from features.data.derived import default_lines
    from features.indicators import indicators_for
    from models.calibration import Calibrator
    from models.risk_model import RiskModel, training_medians
    from models.scorers import LightGBMScorer
    from models.tiers import fit_thresholds

    ind = indicators_for(docs, lines=default_lines())
    y = labels(ind, seed)
    names = feature_names()
    X = ind[names].astype("float64")
    params = {"objective": "binary", "verbose": -1, "deterministic": True, "force_row_wise": True, "seed": seed,
              "num_leaves": num_leaves, "max_depth": max_depth, "min_data_in_leaf": 20, "learning_rate": 0.1,
              "num_threads": 2}
    categorical = [f.name for f in FEATURES if f.categorical]
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=categorical), num_boost_round=60)
    margin = booster.predict(X, raw_score=True)
    calibrator = Calibrator(method="platt").fit(margin, y)
    tiers = fit_thresholds(calibrator.predict(margin), high_share=0.05, medium_share=0.10)
    return RiskModel(scorer=LightGBMScorer(booster), calibrator=calibrator, tier_thresholds=tiers, feature_names=names,
                     lines=default_lines(), metadata={"source": "tests.explain_support"}, model_version="test-1",
                     medians=training_medians(X))
