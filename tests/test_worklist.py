"""The village worklist: channel rules on a table you can read, then a reason audit over a simulated county's
whole worklist (built through the real CLI with the session's trained model)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.worklist import (CHANNELS, STALE, Listed, TriggerConfig, WorklistError, WorklistOptions, alert_id,
                             build, deadlines)
from tests.conftest import invoke


def test_catalogue_command_prints_every_indicator_with_its_direction():
    from features.indicators.catalogue import FEATURES

    rows = json.loads(invoke(["catalogue", "--json"]))
    assert [r["name"] for r in rows] == [f.name for f in FEATURES]
    assert all(set(r) >= {"name", "zh", "en", "unit", "family", "group", "direction"} for r in rows)
    assert {r["direction"] for r in rows} <= {-1, 0, 1}
    by = {r["name"]: r for r in rows}
    assert by["net_income_ratio"]["direction"] == -1 and by["medical_expense"]["direction"] == 1
    assert by["income_without_policy_pc"]["concept"] == by["income_without_policy_ratio"]["concept"] == \
        by["dibao_income"]["concept"], "the subsidy cliff in yuan, as a ratio and through 低保 is one concept"
    assert "net_income_ratio" in invoke(["catalogue"])


def _status(n_a: int = 30, n_b: int = 8) -> pd.DataFrame:
    """Village A (30 households) and B (8); risk falls with the number; a few special households."""
    rows = []
    for v, n in (("A", n_a), ("B", n_b)):
        for i in range(n):
            rows.append({"household_id": f"{v}{i:02d}", "village": v, "county": "C", "round_id": "2025",
                         "survey_date": pd.Timestamp("2025-11-01"), "below_line": False, "stale": False,
                         "risk": 0.5 - i / 100, "tier": "low", "monitored": False, "previous_risk": np.nan,
                         "new_shock": False, "department_alert_days": np.nan, "medical_spending": 1000.0,
                         "rigid_spending": 2000.0, "net_income": 30000.0, "hardship_ratio": 2.0})
    s = pd.DataFrame(rows).set_index("household_id")
    s.loc["A00", "below_line"], s.loc["A00", "hardship_ratio"] = True, 0.8          # highest risk, but below
    s.loc["A29", "medical_spending"] = 12_000.0                                    # lowest risk, triggered
    s.loc["A28", "department_alert_days"] = 30.0
    s.loc["A27", "department_alert_days"] = 200.0                                  # too old to trigger
    s.loc["A26", ["monitored", "previous_risk"]] = [True, 0.01]                     # risk rose
    s.loc["A01", "stale"] = True
    s.loc["B07", "hardship_ratio"] = 1.05
    return s.reset_index()


def _listed(ids: list[str]) -> dict[str, Listed]:
    return {h: Listed([], []) for h in ids}


def test_channels_in_order_each_household_once_and_triggers_whatever_the_risk():
    wl = build(_status(), as_of="2025-11-20", model_version="7", listed=_listed, issued=date(2025, 11, 21))
    e = wl.entries.set_index("household_id")
    assert e.index.is_unique
    assert e.loc["A00", "channel"] == "below_line" and np.isnan(e.loc["A00", "risk"])
    assert e.loc["A29", "channel"] == "trigger" and e.loc["A28", "channel"] == "trigger"
    assert e.loc["B07", "channel"] == "trigger"
    assert "A27" not in e.index or e.loc["A27", "channel"] != "trigger"
    assert e.loc["A01", "channel"] == STALE
    # model capacity: 10% of eligible (A: 30 - below - stale = 28 -> 3; B: 8 -> 1), highest risk first
    model = wl.entries[wl.entries["channel"] == "model"]
    assert list(model["household_id"]) == ["A02", "A03", "A04", "B00"]
    assert list(model["rank"]) == [1, 2, 3, 1]
    assert e.loc["A26", "channel"] == "follow_up"
    # audit: village A has >= 20 households -> at least one; B has fewer -> only by the county quota
    audit = wl.entries[wl.entries["channel"] == "audit"]
    assert (audit["village"] == "A").any() and (audit["audit_seed"] == 0).all()
    order = [c for c in wl.entries["channel"] if c != STALE]
    village_a = [c for c, v in zip(wl.entries["channel"], wl.entries["village"]) if v == "A" and c != STALE]
    assert village_a == sorted(village_a, key=CHANNELS.index), "channels in order on the page"
    assert wl.entries["channel"].iloc[-1] == STALE or set(order) <= set(CHANNELS)


def test_households_already_monitored_are_followed_up_never_found_again():
    s = _status().set_index("household_id")
    s.loc["A02", "monitored"] = True                      # the highest eligible risk, already in the system
    s.loc["A29", "monitored"] = True                      # a trigger fires on a monitored household
    s.loc[[f"A{i:02d}" for i in range(10, 26)], "monitored"] = True   # quiet monitored households
    wl = build(s.reset_index(), as_of="2025-11-20", model_version="7", listed=_listed, issued=date(2025, 11, 21))
    e = wl.entries.set_index("household_id")
    assert "A02" not in e.index, "a monitored household whose risk did not rise is not listed"
    assert e.loc["A29", "channel"] == "follow_up" and e.loc["A29", "triggers"]
    assert list(e.index[e["channel"] == "model"]) == ["A03", "A04", "A05", "B00"]
    quiet = {f"A{i:02d}" for i in range(10, 26)}
    assert not quiet & set(e.index[e["channel"].isin(["trigger", "model", "audit"])])


def test_capacity_option_and_audit_seed():
    s = _status()
    wl = build(s, as_of="2025-11-20", model_version="7", listed=_listed, options=WorklistOptions(capacity=5, seed=3))
    assert (wl.entries["channel"] == "model").groupby(wl.entries["village"]).sum().to_dict() == {"A": 5, "B": 5}
    again = build(s, as_of="2025-11-20", model_version="7", listed=_listed, options=WorklistOptions(capacity=5, seed=3))
    pd.testing.assert_frame_equal(wl.entries.drop(columns=["reasons", "measures"]),
                                  again.entries.drop(columns=["reasons", "measures"]))
    audits = {tuple(build(s, as_of="2025-11-20", model_version="7", listed=_listed,
                          options=WorklistOptions(seed=k, audit_share=0.1)).entries.query("channel == 'audit'")
                    ["household_id"]) for k in range(6)}
    assert len(audits) > 1, "the seed changes the sample"


def test_alert_ids_are_stable_and_deadlines_count_working_days():
    assert alert_id("H1", "2025-11-20", "model", "7") == alert_id("H1", "2025-11-20", "model", "7")
    assert len({alert_id("H1", "2025-11-20", "model", "7"), alert_id("H1", "2025-11-20", "trigger", "7"),
                alert_id("H1", "2025-11-20", "model", "8"), alert_id("H1", "2025-12-20", "model", "7")}) == 4
    # issued Friday 2025-11-21: 5 working days -> Friday 2025-11-28; 15 days -> 2025-12-06
    assert deadlines(date(2025, 11, 21), WorklistOptions()) == ("2025-11-28", "2025-12-06")


def test_trigger_file_errors_name_the_key(tmp_path: Path):
    bad = tmp_path / "t.yaml"
    bad.write_text("medical_spending_yuan: -5\nhospital: 1\n")
    with pytest.raises(WorklistError, match="medical_spending_yuan.*hospital|hospital.*medical_spending_yuan"):
        TriggerConfig.load(bad)
    off = tmp_path / "off.yaml"
    off.write_text("medical_spending_yuan: null\n")
    assert TriggerConfig.load(off).medical_spending_yuan is None
    assert TriggerConfig.load() == TriggerConfig()


# ---------------------------------------------------------------- the county's whole worklist

@pytest.fixture(scope="module", autouse=True)
def case_store(tmp_path_factory) -> str:
    """This module's own case store, so recording worklists leaves the session's warehouse unchanged."""
    import os

    url = f"sqlite:///{tmp_path_factory.mktemp('cases') / 'povwatch.db'}"
    before = os.environ.get("POVWATCH_DB_URL")
    os.environ["POVWATCH_DB_URL"] = url
    yield url
    if before is None:
        os.environ.pop("POVWATCH_DB_URL", None)
    else:
        os.environ["POVWATCH_DB_URL"] = before


@pytest.fixture(scope="module")
def county_worklist(trained_warehouse: Path, tmp_path_factory, case_store: str) -> tuple[dict, str]:
    from features.indicators.labels import round_as_of
    from features.data.warehouse import Warehouse

    newest = str(round_as_of(Warehouse(trained_warehouse)).index[-1])
    out = tmp_path_factory.mktemp("worklist") / "county.json"
    printed = invoke(["worklist", "--round", newest, "--warehouse", str(trained_warehouse), "--out", str(out),
                      "--seed", "5", "--issued", "2026-12-01"])
    wl = json.loads(out.read_text(encoding="utf-8"))
    assert f"{len(wl['entries']) + len(wl['stale'])} new alerts recorded" in printed, printed
    return wl, newest


def test_issuing_the_same_list_again_records_no_new_alert(county_worklist, trained_warehouse: Path,
                                                          tmp_path: Path, case_store: str):
    from cases.store import open_store

    wl, newest = county_worklist
    printed = invoke(["worklist", "--round", newest, "--warehouse", str(trained_warehouse),
                      "--out", str(tmp_path / "again.csv"), "--seed", "5", "--issued", "2026-12-01"])
    assert "0 new alerts recorded" in printed
    with open_store("unused", case_store) as store:
        stored = store.alerts()
    assert {e["alert_id"] for e in wl["entries"] + wl["stale"]} <= set(stored["alert_id"])


def _raw_latest(warehouse: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each household's latest record at as-of, from the warehouse tables (not through the worklist code)."""
    from features.data.warehouse import Warehouse

    hh = Warehouse(warehouse).households()
    hh = hh[hh["survey_date"] <= as_of].sort_values(["household_id", "survey_date"])
    return hh.groupby("household_id").tail(1).set_index("household_id")


def test_reason_audit_over_a_county_worklist(county_worklist, champion_model):
    from features.indicators.catalogue import by_name
    from models.citing import RECENT_SHOCK_DAYS

    wl, _ = county_worklist
    entries = wl["entries"]
    assert entries and {e["channel"] for e in entries} >= {"below_line", "trigger", "model", "audit"}
    against, repeated, old, cited = [], [], [], 0
    for e in entries:
        concepts = []
        for r in e["reasons"]:
            assert set(r) == {"indicator", "value", "group", "text_zh", "text_en"}
            if r["indicator"] is None:
                assert r["text_zh"] == "无单一主导因素" and len(e["reasons"]) == 1
                continue
            cited += 1
            f = by_name(r["indicator"])
            median = champion_model.medians[r["indicator"]]
            if r["value"] is None or f.direction == 0 or (r["value"] - median) * f.direction <= 0:
                against.append((e["household_id"], r["indicator"], r["value"], median))
            concepts.append(f.concept)
            if f.family == "shocks" and ("天前" in r["text_zh"]):
                days = int(r["text_zh"].split(" 天前")[0])
                if days > RECENT_SHOCK_DAYS:
                    old.append((e["household_id"], r["text_zh"]))
            assert "领取低保" not in r["text_zh"], "低保 is dependence, never a cause"
        if len(concepts) != len(set(concepts)):
            repeated.append((e["household_id"], concepts))
    assert cited > len(entries), "most entries cite reasons"
    assert against == [], f"{len(against)} reasons against their direction, e.g. {against[:3]}"
    assert repeated == [], f"{len(repeated)} entries repeat a concept, e.g. {repeated[:3]}"
    assert old == [], f"{len(old)} shocks older than 12 months cited as recent, e.g. {old[:3]}"
    assert len({e["household_id"] for e in entries + wl["stale"]}) == len(entries) + len(wl["stale"])


def test_every_below_line_and_trigger_household_is_listed(county_worklist, trained_warehouse: Path, champion_model):
    """Independent of the worklist code: below-line and trigger households recomputed from the raw tables."""
    from features.data.derived import hardship_income_pc, monitoring_line
    from features.data.warehouse import Warehouse

    wl, newest = county_worklist
    as_of = pd.Timestamp(wl["as_of"])
    latest = _raw_latest(trained_warehouse, as_of)
    current = latest[latest["round_id"].astype(str) == newest]
    stale = set(latest.index) - set(current.index)
    assert {e["household_id"] for e in wl["stale"]} == stale
    channel = {e["household_id"]: e["channel"] for e in wl["entries"]}

    line = monitoring_line(current["province"], current["survey_date"].dt.year, champion_model.lines).to_numpy()
    hardship = hardship_income_pc(current.reset_index()).to_numpy(dtype=float)
    below = set(current.index[hardship < line])
    assert below and {h for h in below if channel.get(h) != "below_line"} == set()

    events = Warehouse(trained_warehouse).events(end=as_of)
    events = events.merge(current[["survey_date"]], left_on="household_id", right_index=True)
    health = events[events["event_type"].isin(["serious_illness", "hospitalization"])
                    & (events["event_date"] > events["survey_date"])]
    medical = current["medical_expense"].fillna(0) + health.groupby("household_id")["amount"].sum().reindex(
        current.index).fillna(0)
    net = (current["wage_income"] + current["operating_income"] - current["operating_expense"]
           + current["property_income"] + current["transfer_income"])
    alerts = events[(events["source"] == "department_alert") & (events["event_date"] > as_of - pd.Timedelta(days=91))]
    triggered = (set(current.index[medical >= 10_000]) | set(current.index[medical + current["education_expense"].fillna(0) > net])
                 | set(current.index[hardship < 1.1 * line]) | set(alerts["household_id"]))
    assert len(triggered - below) > 10
    monitored = set(current.index[current["is_monitored"].fillna(False).astype(bool)])
    missing = {h for h in triggered - below - monitored if channel.get(h) != "trigger"}
    assert missing == set(), f"{len(missing)} trigger households not in the trigger channel: {sorted(missing)[:5]}"
    not_followed = {h for h in (triggered - below) & monitored if channel.get(h) != "follow_up"}
    assert not_followed == set(), f"monitored trigger households not followed up: {sorted(not_followed)[:5]}"


def test_worklist_csv_and_pages(trained_warehouse: Path, county_worklist, tmp_path: Path):
    wl, newest = county_worklist
    village = next(e["village"] for e in wl["entries"] if e["channel"] == "below_line")
    csv = tmp_path / "v.csv"
    invoke(["worklist", "--round", newest, "--village", village, "--warehouse", str(trained_warehouse),
            "--out", str(csv), "--seed", "5", "--issued", "2026-12-01"])
    raw = csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert {"alert_id", "household_id", "village", "channel", "rank", "risk", "tier", "reason_1_indicator",
            "reason_1_value", "reason_1_text", "measures", "check_by", "decide_by"} <= set(table.columns)
    assert set(table["village"]) == {village}
    same = {e["alert_id"] for e in wl["entries"] + wl["stale"] if e["village"] == village}
    # the village's model and trigger alerts equal the county list's (capacity is per village)
    by_channel = table[table["channel"].isin(["below_line", "trigger", "model", "follow_up"])]
    assert set(by_channel["alert_id"]) <= same
    pages = tmp_path / "pages"
    invoke(["worklist", "--round", newest, "--village", village, "--warehouse", str(trained_warehouse),
            "--out", str(pages), "--issued", "2026-12-01"])
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert village in index
    page = next(p for p in pages.glob("*.html") if p.name not in ("index.html", "loop.html")).read_text(encoding="utf-8")
    for heading in ("已低于监测标准", "预警条件触发", "模型预警", "随机抽查", "核实结论", "入户核实期限"):
        assert heading in page, heading
    assert len(list((pages / "households").glob("*.html"))) == int((by_channel.shape[0])) + int(
        (table["channel"] == "audit").sum())


# ---------------------------------------------------------------- pages in a real browser

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _shoot(html: str, png: Path, tmp_path: Path, size: str) -> np.ndarray:
    """Headless Chromium screenshot of ``html`` into ``png`` (the docs' pictures are taken here)."""
    import subprocess

    from PIL import Image

    from tests.test_reports import CHROMIUM_FLAGS, _chromium

    page = tmp_path / (png.stem + ".html")
    page.write_text(html, encoding="utf-8")
    png.unlink(missing_ok=True)
    done = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--screenshot={png}", f"--window-size={size}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    return np.asarray(Image.open(png).convert("L"), dtype=float)


@pytest.mark.browser
def test_worklist_and_household_pages_in_chromium(trained_warehouse: Path, county_worklist, champion_model,
                                                  tmp_path: Path):
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse
    from serving.reports import render_household_report

    wl, newest = county_worklist
    per_village = pd.DataFrame(wl["entries"]).groupby("village")["channel"].nunique()
    village = per_village.idxmax()
    pages = tmp_path / "pages"
    invoke(["worklist", "--round", newest, "--village", village, "--warehouse", str(trained_warehouse),
            "--out", str(pages), "--issued", "2026-12-01", "--seed", "5"])
    html = next(p for p in pages.glob("*.html") if p.name not in ("index.html", "loop.html")).read_text(encoding="utf-8")
    img = _shoot(html, DOCS / "worklist-village.png", tmp_path, "1754,1240")
    assert img.std() > 20 and (img < 100).mean() > 0.005, "the worklist screenshot is blank"

    top = next(e for e in wl["entries"] if e["village"] == village and e["channel"] == "model")
    doc = household_documents(Warehouse(trained_warehouse), [top["household_id"]], pd.Timestamp(wl["as_of"]))[0]
    for lang in ("zh", "en"):
        from serving.reports import texts

        page = render_household_report(champion_model, doc, lang=lang)
        waterfall = page.split(f'aria-label="{texts(lang)["axis"]}"')[1].split("</svg>")[0]
        assert "…" not in waterfall, "waterfall labels wrap instead of being cut"
        assert all(legend in waterfall for legend in (texts(lang)["legend_raise"], texts(lang)["legend_lower"]))
        assert "log-odds" not in page and "对数几率" not in page, "no log-odds beside a percentage"
        img = _shoot(page, DOCS / f"household-report-{lang}.png", tmp_path, "1240,1754")
        assert img.std() > 20 and (img < 100).mean() > 0.005, f"the {lang} household screenshot is blank"


def test_worklist_risks_equal_povwatch_score(county_worklist, trained_warehouse: Path, tmp_path: Path):
    """Same round, same as-of, same model: the list and ``povwatch score`` agree on every household."""
    wl, newest = county_worklist
    out = tmp_path / "scores.csv"
    invoke(["score", "--round", newest, "--warehouse", str(trained_warehouse), "--out", str(out), "--explain-top", "0"])
    scores = pd.read_csv(out, dtype={"household_id": str}).set_index("household_id")["risk"]
    listed = {e["household_id"]: e["risk"] for e in wl["entries"] if e["risk"] is not None}
    assert len(listed) > 50
    common = [h for h in listed if h in scores.index]
    assert len(common) == len(listed), "every scored entry is a household povwatch score scores"
    np.testing.assert_allclose([listed[h] for h in common], scores.loc[common].to_numpy(), rtol=0, atol=1e-12)
