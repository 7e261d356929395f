"""Equity audit: the numbers against an independent recomputation from scores and labels, the verdict rules,
the CLI's JSON, mitigation, and the guarantee that ``ethnic_minority`` never reaches a model or a page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke
from training.audit import run_audit
from training.config import AuditConfig

ISSUE_KEYS = {"attribute", "group", "n", "falls", "flag_rate", "recall", "recall_ci", "fnr", "fpr", "precision",
              "ece", "reference", "recall_ratio", "recall_ratio_ci", "insufficient", "disparity"}


def _flags(risk: np.ndarray, budget: float) -> np.ndarray:
    """Top ceil(budget·n) by risk, ties by row order — written here again on purpose."""
    k = int(np.ceil(budget * len(risk)))
    order = np.lexsort((np.arange(len(risk)), -risk))
    flag = np.zeros(len(risk), bool)
    flag[order[:k]] = True
    return flag


def _ece(y: np.ndarray, p: np.ndarray) -> float:
    b = np.minimum((p * 10).astype(int), 9)
    return sum(abs(p[b == i].sum() - y[b == i].sum()) for i in range(10)) / len(y)


def recompute(frame: pd.DataFrame, attr: str, budget: float) -> pd.DataFrame:
    """Per-group figures from the scores and labels alone (pandas groupby, no audit code)."""
    df = frame.assign(flag=_flags(frame["risk"].to_numpy(float), budget))
    rows = []
    for g, d in df.groupby(attr):
        y, f, p = d["fell"].to_numpy(float), d["flag"].to_numpy(float), d["risk"].to_numpy(float)
        tp = (y * f).sum()
        rows.append({"group": str(g), "n": len(d), "falls": int(y.sum()), "flag_rate": f.mean(),
                     "recall": tp / y.sum() if y.sum() else np.nan, "fpr": ((1 - y) * f).sum() / (1 - y).sum(),
                     "precision": tp / f.sum() if f.sum() else np.nan, "mean_predicted": p.mean(),
                     "observed_rate": y.mean(), "ece": _ece(y, p)})
    out = pd.DataFrame(rows).set_index("group")
    ref = out["n"].idxmax()
    out["recall_ratio"] = out["recall"] / out.loc[ref, "recall"]
    out["reference"] = ref
    return out


def _synthetic(n: int = 6000, seed: int = 3) -> pd.DataFrame:
    """Three villages; the model under-ranks village B's fallers (a disparity), C is small."""
    rng = np.random.default_rng(seed)
    village = rng.choice(["A", "B", "C"], n, p=[0.6, 0.33, 0.07])
    sex = rng.choice(["M", "F"], n, p=[0.85, 0.15])
    p = rng.beta(1.2, 14, n)
    fell = (rng.random(n) < p).astype(float)
    risk = np.where(village == "B", p * 0.35, p)
    return pd.DataFrame({"fell": fell, "risk": risk, "high": risk >= np.quantile(risk, 0.95),
                         "village": village, "head_sex": sex})


def _assert_matches(audit: dict, attr: str, expected: pd.DataFrame) -> None:
    got = {g["group"]: g for g in audit["groups"] if g["attribute"] == attr}
    assert set(got) == set(expected.index)
    for group, e in expected.iterrows():
        g = got[group]
        assert g["n"] == e["n"] and g["falls"] == e["falls"] and g["reference"] == e["reference"]
        for m in ("flag_rate", "recall", "fpr", "precision", "mean_predicted", "observed_rate", "ece", "recall_ratio"):
            value = np.nan if g[m] is None else g[m]  # JSON has no NaN: an undefined figure is null
            assert value == pytest.approx(e[m], abs=1e-12, nan_ok=True), (attr, group, m)
        assert g["fnr"] == pytest.approx(1 - e["recall"], abs=1e-12)


def test_numbers_equal_an_independent_recomputation():
    frame = _synthetic()
    cfg = AuditConfig(budget=0.1, n_boot=100)
    audit = run_audit(frame, cfg, attributes=["village", "head_sex", "village×head_sex"])
    for attr in ("village", "head_sex"):
        _assert_matches(audit, attr, recompute(frame, attr, 0.1))
    both = frame.assign(vs=frame["village"] + "×" + frame["head_sex"])
    _assert_matches(audit, "village×head_sex", recompute(both.rename(columns={"vs": "village×head_sex"}),
                                                         "village×head_sex", 0.1))
    flags = _flags(frame["risk"].to_numpy(), 0.1)
    assert audit["overall"]["recall"] == pytest.approx(frame["fell"][flags].sum() / frame["fell"].sum())
    for g in audit["groups"]:
        assert set(ISSUE_KEYS) <= set(g)
        lo, hi = g["recall_ci"]
        assert lo <= g["recall"] <= hi


def test_verdicts_follow_the_rules():
    frame = _synthetic()
    cfg = AuditConfig(budget=0.1, n_boot=200)
    audit = run_audit(frame, cfg, attributes=["village", "head_sex"])
    rows = {(g["attribute"], g["group"]): g for g in audit["groups"]}
    a, b, c = rows["village", "A"], rows["village", "B"], rows["village", "C"]
    assert a["verdict"] == "reference" and not a["disparity"]
    # B's fallers are ranked at a third of their risk: a recall ratio interval wholly below 0.8
    assert b["disparity"] and b["recall_ratio_ci"][1] < 0.8 and b["verdict"] == "disparity"
    assert b["q_value"] is not None and b["q_value"] <= 0.05
    # C: fewer than 300 households or 30 falls -> insufficient evidence, never a verdict of fairness
    assert c["n"] < 300 or c["falls"] < 30
    assert c["insufficient"] and not c["disparity"] and c["verdict"] == "insufficient evidence"
    # the same rows, reference set to B: now A is the group with the disparity (ratio above 1.25)
    again = run_audit(frame, cfg, attributes=["village"], references={"village": "B"})
    a2 = next(g for g in again["groups"] if g["group"] == "A")
    assert a2["reference"] == "B" and a2["disparity"] and a2["recall_ratio_ci"][0] > 1.25
    assert again["groups"][0]["high_tier"]["flag_rate"] is not None


def test_intervals_are_reproducible_and_shrink_with_more_households():
    cfg = AuditConfig(budget=0.1, n_boot=100)
    small, big = _synthetic(3000, seed=4), _synthetic(24000, seed=4)
    a1 = run_audit(small, cfg, attributes=["village"])
    assert a1 == run_audit(small, cfg, attributes=["village"])
    a2 = run_audit(big, cfg, attributes=["village"])
    width = [a["overall"]["recall_ci"][1] - a["overall"]["recall_ci"][0] for a in (a1, a2)]
    assert width[1] < width[0] * 0.7


def test_unknown_reference_and_attribute_are_clear_errors():
    from training.audit import AuditError

    with pytest.raises(AuditError, match="allowed: A, B, C"):
        run_audit(_synthetic(), AuditConfig(n_boot=20), attributes=["village"], references={"village": "Z"})
    with pytest.raises(ValueError, match="unknown audit attribute 'village'"):
        AuditConfig(attributes=["village"])


def test_mitigation_shows_the_cost_in_overall_recall():
    from training.audit_mitigation import compare_allocations

    frame = _synthetic()
    m = compare_allocations(frame, "village", 0.1, n_boot=100)
    glob, per = m["strategies"]
    assert glob["flagged"] == pytest.approx(per["flagged"], abs=3)  # the same budget (rounding per group)
    b_glob = next(g for g in glob["groups"] if g["group"] == "B")
    b_per = next(g for g in per["groups"] if g["group"] == "B")
    assert b_per["recall"] > b_glob["recall"] and b_per["flag_rate"] == pytest.approx(0.1, abs=0.002)
    assert m["overall_recall_cost"] == pytest.approx(glob["overall_recall"] - per["overall_recall"])


# ---- on the session's simulated county, through the CLI ---------------------------------------------------

def test_audit_json_equals_recomputation_from_scores_and_labels(trained_warehouse: Path, champion_model):
    from features.data.warehouse import Warehouse
    from features.indicators.labels import build_examples, round_as_of

    out = invoke(["audit", "--warehouse", str(trained_warehouse), "--json", "--n-boot", "50", "--no-mlflow",
                  "--by", "county,is_monitored,ethnic_minority,county*head_sex"])
    audit = json.loads(out)
    assert {"budget", "round", "groups", "overall", "not_monitored_recall"} <= set(audit)
    wh = Warehouse(trained_warehouse)
    rid = list(round_as_of(wh).index)[-2]  # the newest round with a next one: labelled
    examples = build_examples(wh, [round_as_of(wh)[rid]])  # the whole round at once, not range by range
    rows = examples[(examples["round_id"] == rid) & examples["eligible"].eq(1)
                    & examples["falls_below_line"].notna()].reset_index(drop=True)
    assert audit["round"] == rid and audit["budget"] == 0.1
    frame = pd.DataFrame({"fell": rows["falls_below_line"].to_numpy(float),
                          "risk": champion_model.predict_proba(rows), "household_id": rows["household_id"]})
    hh = wh.households(rounds=[rid]).set_index("household_id")
    mem = wh.members(rounds=[rid])
    head_sex = mem[mem["relation"] == "head"].set_index("household_id")["sex"]
    frame["county"] = frame["household_id"].map(hh["county"])
    frame["is_monitored"] = frame["household_id"].map(hh["is_monitored"]).map({True: "yes", False: "no"})
    frame["ethnic_minority"] = frame["household_id"].map(hh["ethnic_minority"]).map({True: "yes", False: "no"})
    frame["county×head_sex"] = frame["county"] + "×" + frame["household_id"].map(head_sex)
    for attr in ("county", "is_monitored", "ethnic_minority", "county×head_sex"):
        _assert_matches(audit, attr, recompute(frame, attr, 0.1))
    not_mon = frame[frame["is_monitored"] == "no"]
    flags = _flags(frame["risk"].to_numpy(), 0.1)[frame["is_monitored"].to_numpy() == "no"]
    assert audit["not_monitored_recall"] == pytest.approx(not_mon["fell"][flags].sum() / not_mon["fell"].sum())


def test_audit_out_writes_json_and_pages(trained_warehouse: Path, tmp_path: Path):
    out = invoke(["audit", "--warehouse", str(trained_warehouse), "--out", str(tmp_path), "--n-boot", "30",
                  "--by", "is_monitored,ethnic_minority", "--mitigate", "is_monitored"])
    assert "not yet monitored" in out
    audit = json.loads((tmp_path / "audit.json").read_text())
    assert audit["mitigation"]["attribute"] == "is_monitored"
    from models import registry

    client = registry.connect(trained_warehouse)
    run = client.get_run(audit["mlflow_run_id"])  # logged to povwatch-monitoring, with the pages
    assert client.get_experiment(run.info.experiment_id).name == "povwatch-monitoring"
    assert "audit_recall_at_budget" in run.data.metrics and "not_monitored_recall_at_budget" in run.data.metrics
    assert {a.path for a in client.list_artifacts(run.info.run_id, "audit")} >= {"audit/audit.html", "audit/audit.json"}
    zh, en = (tmp_path / "audit.html").read_text(), (tmp_path / "audit.en.html").read_text()
    assert "公平性审计" in zh and "Equity audit" in en and zh.count("<svg") >= 2


def test_every_train_run_holds_the_audit(trained_warehouse: Path, tmp_path: Path):
    from models import registry

    client = registry.connect(trained_warehouse)
    run_id = registry.resolve(client, registry.CHAMPION).run_id
    metrics = client.get_run(run_id).data.metrics
    for name in ("audit_disparities", "audit_insufficient_groups", "audit_recall_at_budget",
                 "not_monitored_recall_at_10pct", "rule_not_monitored_recall_at_10pct"):
        assert name in metrics, name
    assert any(k.startswith("audit.is_monitored.no.recall") for k in metrics)
    paths = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert {"evaluation/audit.json", "evaluation/audit.html", "evaluation/audit.en.html"} <= paths
    card = Path(client.download_artifacts(run_id, "evaluation/model_card.md", str(tmp_path))).read_text()
    assert "## Equity audit" in card and "not yet monitored" in card and "not_monitored_recall_at_10pct" in card
    audit = json.loads(Path(client.download_artifacts(run_id, "evaluation/audit.json", str(tmp_path))).read_text())
    assert audit["overall"]["recall"] == pytest.approx(metrics["recall_at_10pct"])
    assert audit["not_monitored_recall"] == pytest.approx(metrics["not_monitored_recall_at_10pct"])


@pytest.mark.parametrize("args, message", [
    (["--round", "1999"], "round '1999' is not in the warehouse"),
    (["--by", "village"], "unknown audit attribute 'village'"),
    (["--reference", "head_sex"], "expected ATTRIBUTE=GROUP"),
])
def test_audit_command_errors(trained_warehouse: Path, args: list[str], message: str):
    from typer.testing import CliRunner

    from commands.app import app

    result = CliRunner().invoke(app, ["audit", "--warehouse", str(trained_warehouse), "--n-boot", "20", "--no-mlflow",
                                      *args])
    assert result.exit_code != 0 and message in result.output


# ---- ethnic_minority: audits only ---------------------------------------------------------------------------

def test_ethnic_minority_is_never_a_model_input_nor_shown_on_a_page(champion_model):
    import copy

    from features.indicators.catalogue import feature_names
    from features.data.contract import AUDIT_ONLY_COLUMNS
    from serving.reports import render_household_report, render_village_report
    from tests.explain_support import documents

    for col in AUDIT_ONLY_COLUMNS:
        assert not any(col in f for f in feature_names()) and not any(col in f for f in champion_model.feature_names)
    doc = documents(3, seed=2)[0]
    pages, scores = [], []
    for value in (True, False, None):
        d = copy.deepcopy(doc)
        d["record"]["ethnic_minority"] = value
        ind = champion_model.indicators([d])
        assert not [c for c in ind.columns if any(a in c for a in AUDIT_ONLY_COLUMNS)]
        scores.append(float(champion_model.score(ind)["risk"].iloc[0]))
        for lang in ("zh", "en"):
            pages.append(render_household_report(champion_model, d, lang=lang))
        pages.append(render_village_report(champion_model, [d], links={}))
    assert scores[0] == scores[1] == scores[2]
    for page in pages:
        assert not any(w in page for w in ("少数民族", "民族", "ethnic", "minority"))
    for kind in range(3):  # zh page, en page, village list: the same whatever the value
        assert len({_strip_dates(p) for p in pages[kind::3]}) == 1


def test_no_list_or_score_output_has_an_audit_only_column():
    from features.data.contract import AUDIT_ONLY_COLUMNS
    from serving.batch import OUTPUT_COLUMNS, REASON_DETAIL_COLUMNS
    from serving.worklist_output import CSV_COLUMNS

    for columns in (OUTPUT_COLUMNS, REASON_DETAIL_COLUMNS, CSV_COLUMNS):
        assert not [c for c in columns if any(a in c for a in AUDIT_ONLY_COLUMNS)]


def _strip_dates(html: str) -> str:
    import re

    return re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", "", html)


def test_simulated_minority_households_live_in_more_remote_villages(simulated_dir: Path):
    hh = pd.read_parquet(next(simulated_dir.glob("households*.parquet")))
    share = hh["ethnic_minority"].mean()
    assert 0.1 < share < 0.45
    remote = hh.groupby("ethnic_minority")["road_distance_km"].median()
    assert remote[True] > 1.5 * remote[False]


def test_groups_from_records_a_household_you_can_read():
    from training.audit_groups import household_groups, present_attributes

    hh = pd.DataFrame({"household_id": ["h1", "h2", "h3"], "round_id": "2024", "county": "甲县", "township": "乙镇",
                       "household_type": ["escaped", "general", "general"], "is_monitored": [True, False, False],
                       "relocated": [False, True, False], "household_size": [1, 4, 6]})
    mem = pd.DataFrame({
        "household_id": ["h1", "h2", "h2", "h2", "h2", "h3"], "round_id": "2024",
        "relation": ["head", "head", "spouse", "child", "child", "head"], "sex": ["F", "M", "F", "M", "F", "M"],
        "age": [71, 45, 44, 12, 9, 62], "health": ["chronic", "healthy", "disabled", "healthy", "healthy", "healthy"]})
    g = household_groups(hh, mem).set_index("household_id")
    assert g.loc["h1", ["head_sex", "head_60_plus", "elderly_only", "disabled_member", "size_band"]].tolist() == \
        ["F", "yes", "yes", "no", "1"]
    assert g.loc["h2", ["head_sex", "head_60_plus", "elderly_only", "disabled_member", "size_band", "relocated"]
                 ].tolist() == ["M", "no", "no", "yes", "3-4", "yes"]
    assert g.loc["h3", "size_band"] == "5+" and g.loc["h3", "is_monitored"] == "no"
    # an export without the optional ethnic_minority column: the attribute is reported as without data
    kept, dropped = present_attributes(g, ["county", "ethnic_minority", "county×head_sex"])
    assert kept == ["county", "county×head_sex"] and dropped == ["ethnic_minority"]
