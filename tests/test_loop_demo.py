"""The whole loop on the session's simulated county: a worklist recorded, simulated visits from the latent
truth, outcomes ingested (Chinese export), loop report — the demo's step, and the simulator's noise."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cases.demo import run_loop
from cases.simulate import simulate_outcomes
from cases.store import open_store
from features.data.warehouse import Warehouse


@pytest.fixture()
def county(ingested_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the session's warehouse (survey data and truth only) with a recorded worklist: the 150
    households of the newest round with the highest true risk as ``model`` alerts, 100 others at random as
    ``audit``."""
    monkeypatch.delenv("POVWATCH_DB_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    wh = tmp_path / "wh"
    shutil.copytree(ingested_warehouse, wh, ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts", "povwatch.db*"))
    rounds = Warehouse(wh).rounds()
    newest = rounds.iloc[-1]
    hh = Warehouse(wh).households(rounds=[newest["round_id"]], columns=["household_id", "county", "village"])
    truth = pd.read_parquet(wh / "truth.parquet")
    hh = hh.merge(truth[truth["round_id"] == newest["round_id"]], on="household_id")
    top = hh.nlargest(150, "true_risk")
    rest = hh.drop(top.index).sample(100, random_state=1)
    entries = pd.concat([top.assign(channel="model"), rest.assign(channel="audit")], ignore_index=True)
    as_of = newest["last_date"]
    entries = entries.assign(alert_id=[f"AL{i:05d}" for i in range(len(entries))], rank=range(1, len(entries) + 1),
                             as_of=as_of, check_by=as_of + pd.Timedelta(days=7),
                             decide_by=as_of + pd.Timedelta(days=15), model_version="1", reasons="[]")
    with open_store(wh) as store:
        assert store.record_worklist(entries) == 250
    return wh


def test_run_loop_simulates_ingests_and_reports(county: Path, tmp_path: Path) -> None:
    text = run_loop(county, county / "truth.parquet", tmp_path / "outcomes.csv", seed=5)
    assert "rejected 0" in text and "audit miss rate" in text
    raw = pd.read_csv(tmp_path / "outcomes.csv", dtype=str, encoding="utf-8-sig")
    assert "预警编号" in raw.columns and set(raw["核实结论"]) <= {"认定为监测对象", "经核实不纳入", "已是监测对象",
                                                              "未能入户", "已迁出或户已注销"}
    with open_store(county) as store:
        current, history = store.outcomes(), store.outcomes(current=False)
    assert len(current) == 250 and len(history) > 250           # revisits after "not reached" kept as history
    again = run_loop(county, county / "truth.parquet", tmp_path / "again.csv", seed=5)
    assert again.startswith("no unvisited alerts")
    assert (tmp_path / "outcomes.html").read_text(encoding="utf-8").count("<tr>") >= 3


def test_simulated_noise_and_direction(county: Path) -> None:
    with open_store(county) as store:
        alerts = store.alerts()
    truth = pd.read_parquet(county / "truth.parquet")
    big = pd.concat([alerts.assign(alert_id=alerts["alert_id"] + f"-{k}") for k in range(8)], ignore_index=True)
    rows = simulate_outcomes(big, truth, seed=3)
    first = rows.drop_duplicates("alert_id", keep="first")
    share = (first["outcome"] == "not_reached").mean()
    assert 0.03 < share < 0.08, share                             # ~5 % not reached at the first visit
    last = rows.drop_duplicates("alert_id", keep="last").merge(big[["alert_id", "channel"]], on="alert_id")
    found = last[last["outcome"] != "not_reached"].groupby("channel")["outcome"].apply(lambda s: (s == "identified").mean())
    assert found["model"] > found["audit"] + 0.1                  # visits at high true risk find more
    ident = last[last["outcome"] == "identified"]
    assert (ident["risk_types"] != "").all() and (ident["decision_date"] >= ident["visit_date"]).all()
    assert np.all(rows.loc[rows["outcome"] == "not_identified", "override_reason"] != "")


def test_outcomes_simulate_command_writes_for_a_worklist_file(county: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from commands.app import app

    with open_store(county) as store:
        store.alerts().head(40).to_parquet(tmp_path / "worklist.parquet")
    out = tmp_path / "outcomes.parquet"
    result = CliRunner().invoke(app, ["outcomes", "simulate", "--worklist", str(tmp_path / "worklist.parquet"),
                                      "--truth", str(county / "truth.parquet"), "--out", str(out),
                                      "--warehouse", str(county)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(out)["alert_id"]) == set(pd.read_parquet(tmp_path / "worklist.parquet")["alert_id"])
    result = CliRunner().invoke(app, ["outcomes", "ingest", str(out), "--warehouse", str(county), "--json"],
                                catch_exceptions=False)
    counts = json.loads(result.stdout)["outcomes"]
    assert counts["rejected"] == 0 and counts["accepted"] == counts["read"]


def test_worklist_to_loop_report_through_the_commands(trained_warehouse: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``povwatch worklist`` records its alerts (once), simulated visits come back as a Chinese export through
    ``outcomes ingest``, and ``loop-report`` counts them. The case store is a database of this test."""
    from tests.conftest import invoke

    monkeypatch.setenv("POVWATCH_DB_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    newest = Warehouse(trained_warehouse).round_ids()[-1]
    args = ["worklist", "--round", newest, "--warehouse", str(trained_warehouse), "--out", str(tmp_path / "w.csv")]
    first = invoke(args)
    with open_store(trained_warehouse) as store:
        issued = len(store.alerts())
    new_alerts = re.compile(r"(\d+) new alerts")
    assert issued > 0 and new_alerts.search(first).group(1) == str(issued)
    assert new_alerts.search(invoke(args)).group(1) == "0"           # the same list twice records nothing
    with open_store(trained_warehouse) as store:
        assert len(store.alerts()) == issued
    out = tmp_path / "入户核实结果表.csv"
    invoke(["outcomes", "simulate", "--truth", str(trained_warehouse / "truth.parquet"), "--out", str(out), "--zh",
            "--warehouse", str(trained_warehouse)])
    again = invoke(["outcomes", "simulate", "--truth", str(trained_warehouse / "truth.parquet"), "--out",
                    str(tmp_path / "again.csv"), "--warehouse", str(trained_warehouse)])
    assert "nothing to simulate" not in again                       # nothing ingested yet: all still unvisited
    counts = json.loads(invoke(["outcomes", "ingest", str(out), "--warehouse", str(trained_warehouse), "--json"]))
    assert counts["outcomes"]["rejected"] == 0 and counts["outcomes"]["new"] >= issued
    assert "nothing to simulate" in invoke(["outcomes", "simulate", "--truth", str(trained_warehouse / "truth.parquet"),
                                            "--out", str(tmp_path / "none.csv"), "--warehouse", str(trained_warehouse)])
    assert not (tmp_path / "none.csv").exists()
    report = json.loads(invoke(["loop-report", "--warehouse", str(trained_warehouse), "--json", "--no-mlflow"]))
    channels = {c["channel"]: c for c in report["channels"]}
    assert sum(c["alerts"] for c in channels.values()) == issued
    assert set(channels) <= {"below_line", "trigger", "model", "follow_up", "audit", "stale"}
    if "audit" in channels and channels["audit"]["visits"]:
        assert report["audit_miss_rate_ci"][0] <= report["audit_miss_rate"] <= report["audit_miss_rate_ci"][1]

    # the same figures as a page of the HTML village report and of the worklist's pages, linked from the index
    from models.worklist import CHANNEL_LABELS

    with open_store(trained_warehouse) as store:
        alerts = store.alerts()
    village = alerts["village"].value_counts().idxmax()
    expected = {CHANNEL_LABELS[c][0]: int(n) for c, n in alerts.loc[alerts["village"] == village, "channel"].value_counts().items()}
    invoke(["report", "--village", village, "--warehouse", str(trained_warehouse), "--out", str(tmp_path / "village")])
    assert 'href="loop.html"' in (tmp_path / "village" / "index.html").read_text(encoding="utf-8")
    page = (tmp_path / "village" / "loop.html").read_text(encoding="utf-8")
    assert village in page and 'href="index.html"' in page and _channel_alerts(page) == expected
    invoke(args[:-1] + [str(tmp_path / "pages")] + ["--village", village])
    index = (tmp_path / "pages" / "index.html").read_text(encoding="utf-8")
    assert 'href="loop.html"' in index                                   # a link to the page beside it
    assert _channel_alerts((tmp_path / "pages" / "loop.html").read_text(encoding="utf-8")) == expected


def test_simulate_visits_writes_an_ingestible_outcomes_file_per_worklist(county: Path, tmp_path: Path) -> None:
    """``povwatch simulate --visits``: one outcomes file per worklist, the same rows as ``outcomes simulate``
    (one implementation), loaded whole by ``outcomes ingest`` of the folder; survey ingest leaves it alone."""
    from tests.conftest import invoke

    with open_store(county) as store:
        alerts = store.alerts()
    alerts.head(120).to_csv(tmp_path / "round-a.csv", index=False, encoding="utf-8-sig")
    alerts.tail(130).to_parquet(tmp_path / "round-b.parquet")
    visits = tmp_path / "visits"
    printed = invoke(["simulate", "--visits", str(tmp_path / "round-a.csv"), "--visits", str(tmp_path / "round-b.parquet"),
                      "--truth", str(county / "truth.parquet"), "--out", str(visits), "--seed", "5", "--zh",
                      "--format", "csv", "--warehouse", str(county)])
    assert "for 120 alerts" in printed and "for 130 alerts" in printed
    assert sorted(p.name for p in visits.iterdir()) == ["outcomes-round-a.csv", "outcomes-round-b.csv"]
    first = pd.read_csv(visits / "outcomes-round-a.csv", dtype=str, encoding="utf-8-sig")
    assert "核实结论" in first.columns and set(first["预警编号"]) == set(alerts.head(120)["alert_id"])
    invoke(["outcomes", "simulate", "--worklist", str(tmp_path / "round-a.csv"), "--truth",
            str(county / "truth.parquet"), "--out", str(tmp_path / "same.csv"), "--seed", "5", "--zh",
            "--warehouse", str(county)])
    assert (tmp_path / "same.csv").read_bytes() == (visits / "outcomes-round-a.csv").read_bytes()

    both = tmp_path / "both"                                  # rounds and visits in one call, one folder
    invoke(["simulate", "--households", "40", "--rounds", "1", "--seed", "3", "--out", str(both),
            "--visits", str(tmp_path / "round-a.csv"), "--truth", str(county / "truth.parquet")])
    assert (both / "outcomes-round-a.parquet").is_file() and (both / "truth.parquet").is_file()
    survey = invoke(["ingest", str(both), "--warehouse", str(tmp_path / "survey")])   # leaves the visits alone
    assert "load it with `povwatch outcomes ingest`" in survey and "outcomes-round-a.parquet" in survey
    counts = json.loads(invoke(["outcomes", "ingest", str(visits), "--warehouse", str(county), "--json"]))["outcomes"]
    assert counts["rejected"] == 0 and counts["accepted"] == counts["read"] and counts["new"] >= 250
    report = json.loads(invoke(["loop-report", "--warehouse", str(county), "--json", "--no-mlflow",
                                "--at", (alerts["as_of"].max() + pd.Timedelta(days=40)).date().isoformat()]))
    channels = {c["channel"]: c for c in report["channels"]}
    assert channels["model"]["visits"] > 0 and channels["audit"]["visits"] > 0
    assert channels["model"]["identified_share"] > channels["audit"]["identified_share"]


def test_simulate_needs_rounds_or_visits(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from commands.app import app

    result = CliRunner().invoke(app, ["simulate", "--seed", "1", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--visits" in result.output
    result = CliRunner().invoke(app, ["simulate", "--seed", "1", "--households", "10", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--rounds" in result.output
    (tmp_path / "w.csv").write_text("alert_id,household_id\nA1,H1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", "--seed", "1", "--visits", str(tmp_path / "w.csv"),
                                      "--truth", str(tmp_path / "w.csv"), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "lacks column(s) village, channel, as_of" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.browser
def test_loop_page_renders_in_chromium(county: Path, tmp_path: Path) -> None:
    """The county's loop page after a simulated round of visits, in headless Chromium (docs/loop-report.png)."""
    from cases.loop import write_field_page
    from tests.test_worklist import DOCS, _shoot

    run_loop(county, county / "truth.parquet", tmp_path / "outcomes.csv", seed=5)
    with open_store(county) as store:
        alerts = store.alerts()
    at = (alerts["as_of"].max() + pd.Timedelta(days=30)).date().isoformat()
    name = write_field_page(county, tmp_path / "pages", county=str(alerts["county"].iloc[0]), at=at)
    html = (tmp_path / "pages" / name).read_text(encoding="utf-8")
    assert "模型预警" in html and "随机抽查" in html and "户存在风险" in html   # channels and the implied misses
    img = _shoot(html, DOCS / "loop-report.png", tmp_path, "1240,1080")
    assert img.std() > 20 and (img < 100).mean() > 0.005, "the loop page screenshot is blank"


def _channel_alerts(page: str) -> dict[str, int]:
    """Alerts per channel as the loop page's first table shows them (zh channel name -> count)."""
    table = page.split("<h2>")[1]
    out = {}
    for row in table.split("<tr>")[2:]:
        if 'colspan="9"' in row:
            continue
        name = row.split('<td class="name">')[1].split(" <span")[0]
        out[name] = int(row.split("</td>\n<td>")[1].split("</td>")[0])
    return out
