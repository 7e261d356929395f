"""Behavioural tests of the trained champion (Made-With-ML style): direction, invariance, minimum function.

They score Household documents built from the session's warehouse through the one scoring path
(``RiskModel.score_households``), as the service does.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def docs(trained_warehouse):
    from features.indicators.labels import round_as_of
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    rounds = round_as_of(wh)
    when = rounds.iloc[-1] + pd.Timedelta(days=60)
    ids = wh.households([rounds.index[-1]], columns=["household_id"])["household_id"].iloc[:150]
    return household_documents(wh, ids, when)


def _risk(model, docs) -> np.ndarray:
    return model.score_households(docs)["risk"].to_numpy()


def _with_event(doc: dict, event_type: str, amount: float) -> dict:
    d = copy.deepcopy(doc)
    when = pd.Timestamp(d["as_of"]) - pd.Timedelta(days=7)
    d["events"].append({"member_id": None, "event_date": when.date().isoformat(), "event_type": event_type,
                        "amount": amount, "source": "cadre_visit"})
    return d


def test_a_fresh_hospitalisation_never_lowers_risk_and_raises_it_on_average(champion_model, docs):
    before = _risk(champion_model, docs)
    after = _risk(champion_model, [_with_event(d, "hospitalization", 30000.0) for d in docs])
    assert (after >= before - 1e-12).all()
    assert (after > before + 1e-9).mean() > 0.5
    assert after.mean() > before.mean()


@pytest.fixture(scope="module")
def dibao_docs(trained_warehouse):
    """Documents of households that receive 低保 in the newest round (chosen for it, so the case is there)."""
    from features.indicators.labels import round_as_of
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    rounds = round_as_of(wh)
    hh = wh.households([rounds.index[-1]], columns=["household_id", "dibao_income"])
    ids = hh.loc[hh["dibao_income"].fillna(0) > 0, "household_id"].iloc[:60]
    assert len(ids) >= 20, f"the test county has only {len(ids)} households on 低保; simulate more"
    return household_documents(wh, ids, rounds.iloc[-1] + pd.Timedelta(days=60))


def test_cutting_dibao_raises_risk_on_average(champion_model, dibao_docs):
    receiving = dibao_docs
    cut = copy.deepcopy(receiving)
    for d in cut:
        rec = d["record"]
        rec["transfer_income"] -= rec["dibao_income"]
        rec["dibao_income"] = 0.0
    assert _risk(champion_model, cut).mean() > _risk(champion_model, receiving).mean()


def test_scores_do_not_depend_on_row_order_or_household_ids(champion_model, docs):
    base = champion_model.score_households(docs).set_index("household_id")["risk"]
    reversed_ = champion_model.score_households(docs[::-1]).set_index("household_id")["risk"]
    pd.testing.assert_series_equal(base, reversed_.loc[base.index])
    relabelled = copy.deepcopy(docs)
    for i, d in enumerate(relabelled):
        for part in [d, *d.get("history", [])]:  # history belongs to the same household
            part["record"]["household_id"] = f"X{i:05d}"
    np.testing.assert_array_equal(_risk(champion_model, relabelled), base.to_numpy())


def test_an_obviously_safe_household_scores_low(champion_model, docs):
    d = copy.deepcopy(docs[0])
    rec = d["record"]
    rec.update(wage_income=300000.0, operating_income=0.0, operating_expense=0.0, property_income=20000.0,
               medical_expense=0.0, education_expense=0.0, is_monitored=False, monitoring_type=None,
               risk_types="", housing_safe=True, water_safe=True)
    for part in ("dibao_income", "tekun_income", "pension_income", "eco_compensation", "family_planning_income"):
        rec[part] = None
    rec["transfer_income"] = 0.0
    for m in d["members"]:
        m["health"] = "healthy"
        m["disability_grade"] = None
    d["events"] = []
    safe = champion_model.score_households([d]).iloc[0]
    base_rate = _risk(champion_model, docs).mean()
    assert safe["tier"] == "low" and safe["risk"] < base_rate
