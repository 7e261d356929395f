"""Explanations: exact SHAP that adds up, reasons that only name risk-raising factors, measures that fit."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from features.indicators.catalogue import RISK_GROUPS, feature_names
from features.data.contract import ASSISTANCE
from models import measures as M
from models.explain import AdditivityError, _top_positive, check_additivity, explain, shap_contributions
from models.reasons import sentence
from tests.explain_support import documents, train_tiny_model


@pytest.fixture(scope="module")
def tiny():
    docs = documents(700, seed=3)
    model = train_tiny_model(docs)
    return docs, model, model.indicators(docs)


def test_shap_adds_up_to_the_margin(tiny):
    _, model, ind = tiny
    exps = explain(model, ind)
    margin = model.margin(ind)
    assert len(exps) == len(ind)
    for e, m in zip(exps, margin):
        assert e.base_value + sum(e.contributions.values()) == pytest.approx(m, abs=1e-6)
        assert e.margin == pytest.approx(m, abs=1e-12)
        assert sum(g.contribution for g in e.groups) == pytest.approx(sum(e.contributions.values()), abs=1e-9)
    risk = model.predict_proba(ind)
    np.testing.assert_allclose([e.risk for e in exps], risk)


def test_additivity_check_fails_loudly_when_values_do_not_add_up():
    contrib = np.array([[0.5, -0.2], [0.1, 0.1]])
    base = np.array([-1.0, -1.0])
    check_additivity(contrib, base, np.array([-0.7, -0.8]))
    with pytest.raises(AdditivityError, match="household 'H2'"):
        check_additivity(contrib, base, np.array([-0.7, -0.7]), ids=np.array(["H1", "H2"]))


def test_tree_explainer_and_pred_contrib_agree(tiny):
    _, model, ind = tiny
    X = model.matrix(ind.iloc[:150])
    fast, fast_base = shap_contributions(model, X, engine="lightgbm")
    ref, ref_base = shap_contributions(model, X, engine="shap")
    assert fast.shape == ref.shape == (150, len(model.feature_names))
    np.testing.assert_allclose(fast, ref, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fast_base, ref_base, atol=1e-6, rtol=0)


def test_reasons_name_only_risk_raising_factors_on_the_risk_side_once_per_concept(tiny):
    from features.indicators.catalogue import by_name
    from models.citing import MIN_CONTRIBUTION, NO_DOMINANT_FACTOR

    _, model, ind = tiny
    assert model.medians, "the model carries its training medians"
    cited = 0
    for e, (_, row) in zip(explain(model, ind, top=3), ind.iterrows()):
        assert 1 <= len(e.reasons) <= 3
        if e.reasons == [NO_DOMINANT_FACTOR]:
            continue
        contributions = [r.contribution for r in e.reasons]
        assert all(c >= MIN_CONTRIBUTION for c in contributions)
        assert contributions == sorted(contributions, reverse=True)
        concepts = [by_name(r.indicator).concept for r in e.reasons]
        assert len(set(concepts)) == len(concepts), f"a concept cited twice: {concepts}"
        for r in e.reasons:
            cited += 1
            f = by_name(r.indicator)
            assert e.contributions[r.indicator] == r.contribution
            assert r.text_zh and r.text_en and r.group == f.risk_group
            median = model.medians[r.indicator]
            assert f.direction != 0 and (row[r.indicator] - median) * f.direction > 0, (r.indicator, row[r.indicator], median)
        assert [g.contribution for g in e.groups] == sorted((g.contribution for g in e.groups), reverse=True)
    assert cited > len(ind) // 2, "most households of the tiny world have a citable reason"


def test_a_high_income_is_never_a_reason_even_when_it_pushes_the_score_up():
    import numpy as np

    from models.citing import CitationRules

    rules = CitationRules(("net_income_ratio", "medical_expense"), (-1, 1), ("income_structure", "illness"),
                          ("income_level", "medical_spending"), (1.6, 3000.0))
    row = {"net_income_ratio": 8.75, "net_income_pc": 65_590.0, "medical_expense": 20_000.0,
           "medical_share_of_income": 0.1}
    reasons = rules.pick(np.array([0, 1]), np.array([0.9, 0.3]), row, 3)
    assert [r.indicator for r in reasons] == ["medical_expense"]
    assert rules.pick(np.array([0, -1]), np.array([0.9, 0.0]), row, 3)[0].text_en == "no single dominant factor"


def test_old_shocks_are_not_cited_and_dibao_reads_as_dependence():
    import numpy as np

    from models.citing import CitationRules
    from models.reasons import sentence

    rules = CitationRules(("shock_disaster_days_since", "shock_disaster_count_365d"), (-1, 1),
                          ("disaster", "disaster"), ("shock_disaster", "shock_disaster"), (200.0, 0.0))
    old = {"shock_disaster_days_since": 1088.0, "shock_disaster_count_365d": 0.0}
    assert rules.pick(np.array([0, 1]), np.array([0.5, 0.4]), old, 3)[0].indicator is None
    recent = {"shock_disaster_days_since": 40.0, "shock_disaster_count_365d": 1.0}
    assert [r.indicator for r in rules.pick(np.array([0, 1]), np.array([0.5, 0.4]), recent, 3)] == [
        "shock_disaster_days_since"], "one reason per concept"
    text = sentence("dibao_income", {"dibao_income": 5058.0, "income_without_policy_ratio": 0.86}, "zh")
    assert "依赖" in text and "0.86" in text and not text.startswith("领取")


def _expected_table(explanations, top: int, lang: str) -> dict[str, list]:
    """``reason_table``'s columns written from ``explain``'s reasons, one household at a time."""
    cols: dict[str, list] = {}
    for k in range(top):
        got = [e.reasons[k] if k < len(e.reasons) else None for e in explanations]
        cols[f"reason_{k + 1}_indicator"] = [(r.indicator or "") if r else "" for r in got]
        cols[f"reason_{k + 1}_value"] = [r.value if r else None for r in got]
        cols[f"reason_{k + 1}_text"] = [(r.text_zh if lang == "zh" else r.text_en) if r else "" for r in got]
    return cols


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("shift", [0.0, -1.0])
def test_batch_reasons_are_explains_reasons(tiny, lang, shift):
    """``RiskModel.score``'s reasons (the batch path: rules on arrays, one template per indicator at a time)
    are exactly ``explain``'s (one household at a time): same indicators, values and sentences. ``shift`` moves
    every training median by a standard deviation against its direction, so that most factors pass the
    median rule and many more templates (and concept clashes) are exercised."""
    from features.indicators.catalogue import by_name

    _, model, ind = tiny
    if shift:
        model = copy.copy(model)
        spread = ind[list(model.medians)].std()
        model.medians = {n: m + shift * by_name(n).direction * float(spread[n]) for n, m in model.medians.items()}
    top = 5
    expected = _expected_table(explain(model, ind, top=top), top, lang)
    table = model.score(ind, explain_top=top, lang=lang)
    for col, want in expected.items():
        assert [None if pd.isna(v) else v for v in table[col]] == want, col
    cited = {v for k in range(1, top + 1) for v in table[f"reason_{k}_indicator"]} - {""}
    assert len(cited) >= 10, f"too few templates exercised: {sorted(cited)}"


def test_select_is_pick_for_every_row():
    """``CitationRules.select`` (arrays) against ``pick`` (one row) on random rows: missing values, shocks
    old and recent, concepts shared by several indicators, candidates cut short by -1."""
    from features.indicators.catalogue import FEATURES
    from models.citing import CitationRules
    from models.explain import _Row

    rng = np.random.default_rng(7)
    names = [f.name for f in FEATURES]
    rules = CitationRules(tuple(names), tuple(f.direction for f in FEATURES), tuple(f.risk_group for f in FEATURES),
                          tuple(f.concept for f in FEATURES),
                          tuple(None if i % 11 == 0 else float(rng.normal()) for i in range(len(names))))
    n = 400
    values = rng.normal(size=(n, len(names)))
    values[rng.random(values.shape) < 0.1] = np.nan
    days = [i for i, name in enumerate(names) if name.endswith("_days_since")]
    values[:, days] = rng.choice([10.0, 365.0, 366.0, 2000.0, np.nan], size=(n, len(days)))
    contrib = rng.normal(scale=0.05, size=(n, len(names)))
    index = {name: i for i, name in enumerate(names)}
    candidates = _top_positive(contrib, 40)
    candidates[::7, 5:] = -1
    for top in (1, 3, 5):
        chosen = rules.select(candidates, contrib, values, index, top)
        for i in range(n):
            want = [r.indicator for r in rules.pick(candidates[i], contrib[i], _Row(index, values[i]), top)]
            assert [names[j] for j in chosen[i] if j >= 0] == [w for w in want if w is not None], i


def test_hardship_reasons_route_measures_to_the_spending_behind_them():
    from models.explain import Reason, measure_groups

    r = Reason("hardship_ratio", 0.8, "income_structure", "", "", 0.5)
    row = {"net_income_ratio": 1.3, "hardship_ratio": 0.8, "medical_expense": 9000.0, "education_expense": 1000.0}
    assert measure_groups([r], row) == ("illness", "income_structure")
    assert measure_groups([r], {**row, "medical_expense": 500.0}) == ("education", "income_structure")
    assert measure_groups([r], {**row, "hardship_ratio": 1.25}) == ("income_structure",)


def test_top_positive_leaves_out_factors_that_lower_the_risk():
    contrib = np.array([[0.3, -0.5, 0.0, 0.1], [-0.1, -0.2, -0.3, -0.4]])
    np.testing.assert_array_equal(_top_positive(contrib, 3), [[0, 3, -1], [-1, -1, -1]])


def test_explanation_is_json_and_score_reasons_match(tiny):
    _, model, ind = tiny
    part = ind.iloc[:40]
    exps = explain(model, part)
    data = json.loads(json.dumps([e.to_dict() for e in exps], allow_nan=False))
    assert data[0]["household_id"] == part["household_id"].iloc[0]
    assert set(data[0]) >= {"risk", "tier", "eligible", "margin", "base_value", "contributions", "groups", "reasons",
                            "measures"}
    scored = model.score(part, explain_top=3, lang="zh")
    assert [c for c in scored.columns if c.startswith("reason_1_")] == [
        "reason_1_indicator", "reason_1_value", "reason_1_text"]
    for k, e in enumerate(exps):
        row = scored.iloc[k]
        assert (row["risk"], row["tier"], row["eligible"]) == (e.risk, e.tier, e.eligible)
        blank = 3 - len(e.reasons)
        assert [row[f"reason_{j}_text"] for j in (1, 2, 3)] == [r.text_zh for r in e.reasons] + [""] * blank
        assert [row[f"reason_{j}_indicator"] for j in (1, 2, 3)] == [r.indicator or "" for r in e.reasons] + [""] * blank
        for j, r in enumerate(e.reasons, start=1):
            value = row[f"reason_{j}_value"]
            assert (pd.isna(value) and r.value is None) or value == pytest.approx(r.value)
    en = model.score(part, explain_top=2, lang="en")
    assert [en.iloc[0][f"reason_{j}_text"] for j in range(1, len(exps[0].reasons[:2]) + 1)] == [
        r.text_en for r in exps[0].reasons[:2]]


def _fall_ill(doc: dict, *, medical: float = 18_400.0) -> dict:
    """The same household after its head fell seriously ill, with the spending that comes with it."""
    doc = copy.deepcopy(doc)
    doc["members"] = [{**m, "health": "serious", "labor_skill": "weak", "work_months": 0, "work_location": "none"}
                      if m["relation"] == "head" else m for m in doc["members"]]
    doc["record"] = {**doc["record"], "medical_expense": medical}
    head = next(m["member_id"] for m in doc["members"] if m["relation"] == "head")
    date = pd.Timestamp(doc["record"]["survey_date"]) - pd.Timedelta(days=60)
    doc["events"] = [*doc.get("events", []), {"member_id": head, "event_date": date.date().isoformat(),
                                               "event_type": "serious_illness", "amount": medical}]
    return doc


def _assert_illness_flagged(model, before: dict, after: dict) -> None:
    risk_before, risk_after = model.score_households([before])["risk"][0], model.score_households([after])["risk"][0]
    assert risk_after > risk_before, f"a new serious illness should raise the risk: {risk_before} -> {risk_after}"
    e = explain(model, model.indicators([after]))[0]
    groups = [r.group for r in e.reasons]
    assert "illness" in groups, f"expected an illness reason, got {[r.text_zh for r in e.reasons]}"
    assert any(m.category_zh == "健康帮扶" and m.code == "health" for m in e.measures), [m.zh for m in e.measures]
    illness = next(r for r in e.reasons if r.group == "illness")
    assert illness.contribution > 0


def test_new_serious_illness_gives_an_illness_reason_and_a_health_measure(tiny):
    docs, model, ind = tiny
    healthy = [d for d in docs if all(m["health"] == "healthy" for m in d["members"])]
    risk = model.score_households(healthy)["risk"].to_numpy()
    before = healthy[int(np.argsort(risk)[len(risk) // 4])]  # a fairly safe household
    after = _fall_ill(before)
    _assert_illness_flagged(model, before, after)
    e = explain(model, model.indicators([after]))[0]
    assert any("18,400 元" in r.text_zh for r in e.reasons if r.group == "illness") or any(
        "患大病" in r.text_zh for r in e.reasons)


def test_new_serious_illness_with_the_champion(champion_model, trained_warehouse):
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    as_of = wh.rounds()["first_date"].max() + pd.Timedelta(days=30)
    hh = wh.households(columns=["household_id", "survey_date", "household_size", "medical_expense"])
    candidates = hh[(hh["survey_date"] == hh["survey_date"].max()) & (hh["household_size"] >= 2)]
    docs = household_documents(wh, candidates["household_id"].head(300), as_of)
    docs = [d for d in docs if all(m["health"] == "healthy" for m in d["members"])]
    assert docs, "the simulated county should have healthy households"
    risk = champion_model.score_households(docs)["risk"].to_numpy()
    before = docs[int(np.argsort(risk)[len(risk) // 4])]
    net = sum(before["record"][c] for c in ("wage_income", "operating_income", "property_income", "transfer_income"))
    after = _fall_ill(before, medical=max(18_400.0, 0.6 * net))
    risk_before, risk_after = (champion_model.score_households([d])["risk"][0] for d in (before, after))
    assert risk_after > risk_before, f"a new serious illness should raise the risk: {risk_before} -> {risk_after}"
    e = explain(champion_model, champion_model.indicators([after]))[0]
    # The champion may name the illness through income after medical spending (a hardship indicator): the
    # sentence must then say so, and the health measures must follow the cause.
    assert any(r.group == "illness" or "医疗" in r.text_zh for r in e.reasons), [r.text_zh for r in e.reasons]
    assert any(m.category_zh == "健康帮扶" and m.code == "health" for m in e.measures), [m.zh for m in e.measures]


def test_measures_table_covers_every_risk_group():
    table = M.load()
    for group in RISK_GROUPS:
        assert table.get(group), f"no measure for risk group {group}"
    for ms in table.values():
        for m in ms:
            assert m.code == "" or m.code in ASSISTANCE
            assert m.zh and m.en and m.category_zh
    assert {m.category_zh for m in table["illness"]} >= {"健康帮扶"}
    assert any(m.category_zh == "住房安全保障" for m in table["housing"])
    assert any(m.category_zh == "饮水安全保障" for m in table["water"])


def test_measures_table_errors_name_the_line():
    head = ",".join(M.COLUMNS)
    with pytest.raises(M.MeasureTableError, match="line 2: risk_group 'luck'"):
        M.parse(f"{head}\nluck,1,健康帮扶,health,health,a,b,\n")
    with pytest.raises(M.MeasureTableError, match="line 3: code 'cash'"):
        M.parse(f"{head}\nillness,1,健康帮扶,health,health,a,b,\nillness,2,健康帮扶,health,cash,a,b,\n")


def test_recommend_deduplicates_and_adds_a_development_measure():
    ms = M.recommend(["illness", "illness", "lack_labor"], labour_capable=True)
    assert len({(m.category_zh, m.zh) for m in ms}) == len(ms)
    assert any(m.category_zh in M.DEVELOPMENT for m in ms)
    assert not any(m.category_zh in M.DEVELOPMENT for m in M.recommend(["lack_labor"], labour_capable=False))


def test_sentences_quote_the_households_values():
    row = {n: 0.0 for n in feature_names()}
    row.update(medical_expense=18_400.0, medical_share_of_income=0.46, hardship_gap_pc=-1234.0)
    assert sentence("medical_expense", row, "zh") == "家庭合规自付医疗支出 18,400 元，占纯收入的 46%"
    assert sentence("medical_expense", row, "en") == "Out-of-pocket medical spending of 18,400 yuan, 46% of net income"
    assert "低于监测标准 1,234 元" in sentence("hardship_gap_pc", row, "zh")
    row["road_distance_km"] = float("nan")
    assert sentence("road_distance_km", row, "zh").endswith("未知")


def test_every_feature_has_a_sentence():
    names = set(feature_names())
    row = {n: 1.0 for n in names}
    for n in names:
        zh, en = sentence(n, row, "zh"), sentence(n, row, "en")
        assert zh and en and "{" not in zh + en, n
