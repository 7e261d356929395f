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
