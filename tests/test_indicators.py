"""Indicators: point-in-time correctness, parity with the service path, hand-written households, invariance.

The builders at the top write tiny canonical frames (households you can read); tests/test_labels.py reuses them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from features.data.canonical import cast

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


# ---------------------------------------------------------------- tests
import importlib  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import pkgutil  # noqa: E402
import string  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import features.indicators  # noqa: E402
from features.indicators import build_indicators, indicators_for  # noqa: E402
from features.indicators.catalogue import (FAMILIES, FEATURES, FUNCTIONS, MODULES, RISK_GROUPS, UNITS,  # noqa: E402
                                           by_name, feature_names)
from features.indicators.spec import Indicators  # noqa: E402

# Functions of the family modules that read the slice but are shared building blocks, not indicators.
HELPERS = {"gross_income"}

AS_OF = pd.Timestamp("2025-03-01")


def build(h: pd.DataFrame, m: pd.DataFrame, e: pd.DataFrame, as_of: Any = AS_OF) -> pd.DataFrame:
    return build_indicators(h, m, e, LINES, as_of)


def row(out: pd.DataFrame, hid: str) -> pd.Series:
    return out.set_index("household_id").loc[hid]


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def test_catalogue_entries_are_valid_and_match_the_built_columns() -> None:
    names = feature_names()
    assert len(names) == len(set(names))
    for f in FEATURES:
        assert f.risk_group in RISK_GROUPS, f
        assert f.family in FAMILIES, f
        assert f.unit in UNITS, f
        assert f.direction in (-1, 0, 1), f
        assert f.zh and f.en, f
        assert f.categorical == bool(f.vocabulary), f
    assert by_name("medical_share_of_income").risk_group == "illness"
    with pytest.raises(KeyError, match="no feature"):
        by_name("not_a_feature")
    out = build(*panel())
    assert list(out.columns) == ["household_id", "round_id", "survey_date", "as_of", *names]
    assert (out[names].dtypes == "float64").all()
    assert not np.isinf(out[names].to_numpy()).any()


def _package_modules() -> list:
    return [importlib.import_module(f"features.indicators.{m.name}")
            for m in pkgutil.iter_modules(features.indicators.__path__)]


def test_catalogue_and_indicator_functions_match_both_ways() -> None:
    """Functions -> catalogue: every module that declares indicators is listed, and every public function of
    the slice in it is declared (or a named helper). Catalogue -> functions: every entry computes with the
    function its module defines, and its reason sentence quotes only catalogue indicators."""
    declared: set[str] = set()
    for module in _package_modules():
        if not isinstance(getattr(module, "indicator", None), Indicators):
            continue
        assert module in MODULES, f"{module.__name__} declares indicators but is not in catalogue.MODULES"
        declared |= {f.name for f in module.indicator.features}
        for name, fn in vars(module).items():
            if (inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_")
                    and list(inspect.signature(fn).parameters)[:1] == ["ctx"] and name not in HELPERS):
                assert FUNCTIONS.get(name) is fn, f"{module.__name__}.{name} reads the slice but is not declared"
    names = feature_names()
    assert declared == set(names)
    for f in FEATURES:
        assert callable(f.compute) and FUNCTIONS[f.name] is f.compute, f.name
        owner = next(m for m in MODULES if f in m.indicator.features)
        if hasattr(owner, f.name):  # hand-written (generated ones are made in a loop)
            assert getattr(owner, f.name) is f.compute, f.name
        templates = [] if f.reason is None else [f.reason] if isinstance(f.reason, tuple) else f.reason.values()
        for pair in templates:
            for fmt in pair:
                quoted = {field for _, field, _, _ in string.Formatter().parse(fmt) if field}
                assert quoted <= set(names), (f.name, quoted - set(names))


def test_a_declaration_with_a_wrong_unit_or_group_fails_naming_the_indicator() -> None:
    def pond_area(ctx):
        return ctx.num("pond_area")

    family = Indicators("living")
    with pytest.raises(ValueError, match=r"'pond_area'.*unit 'hectare'.*risk group 'fish'"):
        family("鱼塘面积", "fish-pond area", unit="hectare", group="fish", direction=1)(pond_area)
    family.add("pond_area", lambda ctx: ctx, "鱼塘面积", "fish-pond area", unit="mu", group="business", direction=0)
    with pytest.raises(ValueError, match="declared twice"):
        family.add("pond_area", lambda ctx: ctx, "鱼塘面积", "fish-pond area", unit="mu", group="business",
                   direction=0)


def test_rows_are_the_latest_known_record_sorted_by_household() -> None:
    out = build(*panel())
    assert list(out["household_id"]) == ["h1", "h2", "h3"]
    assert list(out["round_id"]) == ["2024", "2024", "2024"]
    assert (out["as_of"] == AS_OF).all()
    before_any = build(*panel(), as_of=pd.Timestamp("2023-01-01"))
    assert before_any.empty and list(before_any.columns) == list(out.columns)


def test_later_facts_do_not_change_indicators() -> None:
    h, m, e = panel()
    base = build(h, m, e)
    later_round = h["survey_date"] > AS_OF
    assert later_round.any() and (e["event_date"] > AS_OF).any()
    # delete everything dated after as-of
    deleted = build(h[~later_round], m[m["round_id"] != "2025"], e[e["event_date"] <= AS_OF])
    # change everything dated after as-of
    h2 = h.copy()
    h2.loc[later_round, ["wage_income", "medical_expense"]] = [1.0, 99999.0]
    m2 = m.copy()
    m2.loc[m2["round_id"] == "2025", "health"] = "serious"
    e2 = pd.concat([e, cast("events", pd.DataFrame([event("h1", "2025-03-02", "death", 1.0),
                                                    event("h3", "2026-01-01", "accident", 5.0)]))],
                   ignore_index=True)
    e2.loc[e2["event_date"] > AS_OF, "amount"] = 123456.0
    changed = build(h2, m2, e2)
    for other in (deleted, changed):
        pd.testing.assert_frame_equal(other, base)
        assert parquet_bytes(other) == parquet_bytes(base)


def test_event_on_the_as_of_date_is_seen_one_day_later_is_not() -> None:
    h, m, e = panel()
    on_day = cast("events", pd.DataFrame([event("h3", "2025-03-01", "accident", 700.0)]))
    next_day = cast("events", pd.DataFrame([event("h3", "2025-03-02", "accident", 700.0)]))
    seen = row(build(h, m, pd.concat([e, on_day], ignore_index=True)), "h3")
    unseen = row(build(h, m, pd.concat([e, next_day], ignore_index=True)), "h3")
    assert seen["shock_accident_count_since_survey"] == 1.0 and seen["shock_accident_amount_365d"] == 700.0
    assert seen["shock_accident_days_since"] == 0.0
    assert unseen["shock_accident_count_365d"] == 0.0 and np.isnan(unseen["shock_accident_days_since"])


def _household_json(h: pd.DataFrame, m: pd.DataFrame, e: pd.DataFrame, hid: str, as_of: str) -> dict[str, Any]:
    """The "Household" shape for one household, from canonical frames (latest record = newest round)."""
    def plain(df: pd.DataFrame, drop: list[str]) -> list[dict[str, Any]]:
        return [{k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
                 for k, v in r.items() if k not in drop}
                for r in df.astype(object).to_dict("records")]
    recs = h[h["household_id"] == hid].sort_values("survey_date")
    rounds = [{"record": r, "members": plain(m[(m["household_id"] == hid) & (m["round_id"] == r["round_id"])],
                                             ["household_id", "round_id"])}
              for r in plain(recs, [])]
    return {**rounds[-1], "history": rounds[:-1], "events": plain(e[e["household_id"] == hid], ["household_id"]),
            "as_of": as_of}


def test_indicators_for_equals_the_batch_rows_exactly() -> None:
    h, m, e = panel()
    as_of = "2025-03-01"
    batch = build(h, m, e)
    known = h[h["survey_date"] <= pd.Timestamp(as_of)]
    items = [_household_json(known, m, e, hid, as_of) for hid in ("h2", "h1")]
    single = indicators_for(items, lines=LINES)
    assert list(single["household_id"]) == ["h2", "h1"]  # request order
    expected = batch.iloc[[1, 0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(single, expected, check_exact=True)


def test_indicators_for_rejects_an_as_of_before_the_record() -> None:
    h, m, e = panel()
    item = _household_json(h, m, e, "h1", "2025-03-01")  # record is the 2025-11-18 round
    with pytest.raises(ValueError, match=r"households\[0\]\.as_of: as_of=2025-03-01 is before record\.survey_date"):
        indicators_for([item], lines=LINES)
    with pytest.raises(ValueError, match=r"households\[0\].record"):
        indicators_for([{"members": []}], lines=LINES)


def test_per_household_as_of_equals_separate_builds() -> None:
    h, m, e = panel()
    dates = pd.Series({"h1": pd.Timestamp("2024-01-01"), "h3": pd.Timestamp("2025-08-01")})
    out = build(h, m, e, dates)
    assert list(out["household_id"]) == ["h1", "h3"]  # h2 has no as-of date
    for hid, d in dates.items():
        pd.testing.assert_frame_equal(out[out["household_id"] == hid].reset_index(drop=True),
                                      build(h, m, e, d).query("household_id == @hid").reset_index(drop=True))


def test_serious_illness_with_high_spending_raises_medical_share_and_catastrophic_flag() -> None:
    mems = family()
    healthy = build(*frames([record()], mems, []))
    mems[1] = {**mems[1], "health": "serious", "work_months": 0, "work_location": "none"}
    ill = build(*frames([record(medical_expense=30000.0, wage_income=24000.0)], mems, []))
    before, after = healthy.iloc[0], ill.iloc[0]
    assert after["serious_members"] == 1.0 and before["serious_members"] == 0.0
    assert after["medical_share_of_income"] > 5 * before["medical_share_of_income"]
    assert before["catastrophic_health_spending"] == 0.0 and after["catastrophic_health_spending"] == 1.0
    # 32000 net income, allowance 4 x 7000 / 1.5: capacity 13333, 30000 spent
    assert after["capacity_to_pay"] == pytest.approx(36000 - 4 * 7000 / 1.5)
    assert after["medical_to_capacity"] == pytest.approx(30000 / (36000 - 4 * 7000 / 1.5))
    assert after["hardship_ratio"] < before["hardship_ratio"]


def test_withdrawing_dibao_lands_where_income_without_transfers_said() -> None:
    only_dibao = {"pension_income": 0.0, "eco_compensation": 0.0, "wage_income": 12000.0}
    with_dibao = record(rid="2023", dibao_income=3600.0, transfer_income=3600.0, **only_dibao)
    withdrawn = record(rid="2024", date="2024-11-15", dibao_income=0.0, transfer_income=0.0, **only_dibao)
    h, m, e = frames([with_dibao, withdrawn], family("h1", "2023") + family("h1", "2024"), [])
    a = build(h, m, e, pd.Timestamp("2024-01-01")).iloc[0]
    b = build(h, m, e, pd.Timestamp("2025-01-01")).iloc[0]
    assert a["income_without_policy_pc"] == a["hardship_income_pc"] - 900.0
    assert a["programmes_count"] == 1.0 and b["programmes_count"] == 0.0
    assert b["hardship_income_pc"] == a["income_without_policy_pc"]  # the cliff said where it would land
    assert b["net_income_pc_change"] == -900.0 and b["dibao_income"] == 0.0


def test_job_loss_event_moves_the_shock_features() -> None:
    h, m, e = panel()
    base = row(build(h, m, e), "h2")
    lost = cast("events", pd.DataFrame([event("h2", "2025-02-01", "job_loss", 6000.0)]))
    after = row(build(h, m, pd.concat([e, lost], ignore_index=True)), "h2")
    assert base["shock_job_loss_count_since_survey"] == 0.0 and after["shock_job_loss_count_since_survey"] == 1.0
    assert after["shock_job_loss_amount_365d"] == 6000.0 and after["shock_job_loss_days_since"] == 28.0
    unchanged = [c for c in feature_names() if not c.startswith("shock_job_loss")]
    pd.testing.assert_series_equal(after[unchanged], base[unchanged])


def test_dynamics_from_earlier_rounds() -> None:
    out = build(*panel(), as_of=pd.Timestamp("2025-12-31"))
    h1, h2, h3 = (row(out, k) for k in ("h1", "h2", "h3"))
    assert h1["rounds_observed"] == 3.0 and h3["rounds_observed"] == 2.0
    assert h1["net_income_pc_change"] == 2000.0  # wages 26000 -> 34000 over 4 persons
    assert h2["times_monitored"] == 3.0 and h2["monitored_now"] == 1.0
    assert h2["monitoring_type"] == by_name("monitoring_type").vocabulary.index("marginal")
    assert h1["monitoring_type"] == -1.0
    assert h2["risk_type_illness"] == 1.0 and h2["risk_type_lack_labor"] == 1.0 and h2["risk_types_count"] == 2.0
    assert h2["assist_social_security"] == 1.0 and h2["assistance_count"] == 2.0
    assert h3["rounds_below_line"] == 2.0 and h1["rounds_below_line"] == 0.0
    assert np.isnan(h1["years_since_below_line"])
    assert h3["years_since_below_line"] == pytest.approx((pd.Timestamp("2025-12-31") - pd.Timestamp("2024-11-20")).days
                                                         / 365.25)
    assert h2["shock_health_amount_since_survey"] == 50000.0  # 2025-12-01, after the 2025-11-18 survey
    first = build(*panel(), as_of=pd.Timestamp("2023-12-01"))
    assert first[["net_income_pc_change", "income_ratio_volatility"]].isna().all().all()


def test_row_order_and_household_relabelling_do_not_change_values() -> None:
    h, m, e = panel()
    base = build(h, m, e)
    rng = np.random.default_rng(7)
    relabel = {"h1": "z-9", "h2": "a-1", "h3": "m-5"}
    shuffled = [df.iloc[rng.permutation(len(df))].reset_index(drop=True) for df in (h, m, e)]
    for df in shuffled:
        df["household_id"] = df["household_id"].map(relabel)
    m_ids = shuffled[1]["member_id"].str.replace("h", "x")
    shuffled[1]["member_id"] = m_ids
    out = build(*shuffled)
    assert list(out["household_id"]) == sorted(relabel.values())
    back = out.assign(household_id=out["household_id"].map({v: k for k, v in relabel.items()}).astype("object"))
    back = back.sort_values("household_id", ignore_index=True)
    pd.testing.assert_frame_equal(back, base, check_exact=True)


def test_zero_and_negative_incomes_give_finite_capped_ratios() -> None:
    broke = record(wage_income=0.0, operating_income=0.0, operating_expense=5000.0, property_income=0.0,
                   transfer_income=0.0, pension_income=0.0, eco_compensation=0.0, medical_expense=2000.0)
    out = build(*frames([broke], family(), [])).iloc[0]
    assert out["net_income"] == -5000.0
    assert out["medical_share_of_income"] == 10.0 and out["catastrophic_health_spending"] == 1.0
    assert np.isnan(out["wage_share"]) and np.isnan(out["income_concentration"])
    assert out["operating_margin"] != out["operating_margin"]  # no operating income: undefined
