"""Behaviour of ``povwatch drift`` on the session's simulated county and on copies with injected shocks.

Each shocked copy is the same simulation (seed, size) with one known problem in round 2024 of one county;
the session's champion (trained on the unshocked data) scores them. Everything runs for real: simulator,
ingest, indicators, the registered model, MLflow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SIM_HOUSEHOLDS, SIM_ROUNDS, SIM_SEED, invoke

ROUND = "2024"


@pytest.fixture(scope="module")
def shocked_county(ingested_warehouse: Path) -> str:
    """The smaller county of the session's data (the shocks go there, so it is the place to find)."""
    from features.data.warehouse import Warehouse

    hh = Warehouse(ingested_warehouse).households([ROUND], columns=["county"])
    counts = hh["county"].value_counts()
    assert len(counts) >= 2, "the session's county must have two counties for segment tests"
    return str(counts.index[-1])


def _shocked_warehouse(tmp: Path, spec: str) -> Path:
    raw, wh = tmp / "raw", tmp / "warehouse"
    invoke(["simulate", "--households", str(SIM_HOUSEHOLDS), "--rounds", str(SIM_ROUNDS), "--seed", str(SIM_SEED),
            "--truth-replicates", "1", "--out", str(raw), "--shock", spec])
    invoke(["ingest", str(raw), "--warehouse", str(wh)])
    return wh


def _check(warehouse: Path, model) -> dict:
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round

    return check_round(Warehouse(warehouse), model, ROUND, seed=3)


def _drifted(report: dict) -> list[dict]:
    return [s for s in report["segments"] if s["drifted"]]


def test_unshocked_round_raises_no_data_alarm_and_has_the_issue_shape(trained_warehouse: Path, champion_model):
    report = _check(trained_warehouse, champion_model)
    # The simulated county's risk falls year by year; a steady fall is no alarm (at most a note on the score).
    assert report["verdict"] == "stable", report["reasons"]
    assert report["reasons"] == [] and {n["kind"] for n in report["notes"]} <= {"score"}
    assert _drifted(report) == []
    for key in ("round", "reference", "verdict", "reasons", "notes", "indicators", "segments", "score", "expected",
                "reference_realised"):
        assert key in report
    assert report["reference"] == champion_model.metadata["split"]["training_rounds"]
    assert set(report["indicators"][0]) >= {"name", "psi", "statistic", "threshold", "drifted"}
    assert {s["by"] for s in report["segments"]} >= {"county", "household_type"}
    assert set(report["segments"][0]) >= {"by", "value", "psi_max", "drifted"}
    assert set(report["score"]) >= {"psi", "step_psi", "step_threshold", "previous_round", "drifted", "tier_shares"}
    assert report["score"]["previous_round"] == "2023"
    assert set(report["expected"]) >= {"positive_rate", "recall_at_10pct", "precision_at_10pct"}
    assert abs(sum(report["score"]["tier_shares"].values()) - 1) < 1e-9
    json.dumps(report)  # plain JSON, nothing numpy-only left


def test_the_report_read_in_several_ranges_equals_the_one_range_report(trained_warehouse: Path, champion_model):
    """The compared columns go to disk range by range and are read back a column at a time: the report of a
    county read in ranges of 700 households is the one read as a single range, to the last digit."""
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round

    wh = Warehouse(trained_warehouse)
    assert len(wh.households([ROUND], columns=["county"])) > 3 * 700

    def report(chunk: int) -> str:
        return json.dumps(check_round(wh, champion_model, ROUND, seed=3, chunk=chunk), ensure_ascii=False)

    assert report(700) == report(10**9)


@pytest.mark.parametrize("kind, indicators", [
    ("wage", {"wage_share", "wage_income_per_worker", "net_income_pc_change", "hardship_ratio_change"}),
    ("survey", {"transfer_share", "policy_transfer_share"}),
    ("disaster", {"operating_net_income", "operating_margin", "shock_disaster_count_365d"}),
])
def test_a_county_shock_is_flagged_in_that_county_with_its_indicators(kind, indicators, champion_model,
                                                                       shocked_county, tmp_path):
    report = _check(_shocked_warehouse(tmp_path, f"{kind}:{ROUND}:{shocked_county}"), champion_model)
    assert report["verdict"] == "data problem suspected"
    flagged = _drifted(report)
    assert [(s["by"], s["value"]) for s in flagged] == [("county", shocked_county)], flagged
    assert indicators & set(flagged[0]["indicators"]), flagged[0]["indicators"]
    assert any(shocked_county in r["zh"] and shocked_county in r["en"] for r in report["reasons"])


@pytest.fixture(scope="module")
def silent_warehouse(shocked_county: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shocked_warehouse(tmp_path_factory.mktemp("silent"), f"silent:{ROUND}:{shocked_county}")


def test_a_silent_department_feed_is_named_by_source_and_county(champion_model, shocked_county, silent_warehouse):
    report = _check(silent_warehouse, champion_model)
    assert report["verdict"] == "data problem suspected"
    flagged = _drifted(report)
    assert [s["value"] for s in flagged] == [f"department_alert/{shocked_county}"], flagged
    assert flagged[0]["events"] < 0.2 * flagged[0]["expected_events"]


def test_weekly_feed_check_finds_the_silent_feed_and_nothing_else(shocked_county, silent_warehouse,
                                                                   ingested_warehouse):
    out = json.loads(invoke(["drift", "--events", "--weeks", "12", "--json", "--warehouse", str(silent_warehouse)]))
    bad = [(f["source"], f["county"]) for f in out["feeds"] if f["drifted"]]
    assert bad == [("department_alert", shocked_county)], out["feeds"]
    assert next(f for f in out["feeds"] if f["drifted"])["recent"] == [0] * 12
    calm = json.loads(invoke(["drift", "--events", "--json", "--warehouse", str(ingested_warehouse)]))
    assert [f for f in calm["feeds"] if f["drifted"]] == []


def _replay_deliveries(raw: Path, wh: Path) -> pd.Timestamp:
    """Ingest ``raw`` as two deliveries, each a day after a round's last survey: the rounds up to 2023 with
    their events, then round 2024's window of events. Returns the second delivery's date."""
    import shutil

    hh = pd.read_parquet(raw / "households.parquet", columns=["round_id", "survey_date"])
    as_of = pd.to_datetime(hh.groupby("round_id")["survey_date"].max())
    ev = pd.read_parquet(raw / "events.parquet")
    cut = as_of[str(int(ROUND) - 1)]
    first, second = raw.parent / "delivery-1", raw.parent / "delivery-2"
    for folder, rows in ((first, ev[pd.to_datetime(ev["event_date"]) <= cut]),
                         (second, ev[pd.to_datetime(ev["event_date"]) > cut])):
        folder.mkdir()
        rows.to_parquet(folder / "events.parquet")
    for table in ("households", "members"):
        shutil.copy(raw / f"{table}.parquet", first / f"{table}.parquet")
    day = cut + pd.Timedelta(days=1)
    invoke(["ingest", str(first), "--warehouse", str(wh), "--ingest-date", str(day.date())])
    day = as_of[ROUND] + pd.Timedelta(days=1)
    invoke(["ingest", str(second), "--warehouse", str(wh), "--ingest-date", str(day.date())])
    return day


def _late_feeds(wh: Path) -> dict:
    return json.loads(invoke(["drift", "--events", "--json", "--warehouse", str(wh)]))["late_arrivals"]


def test_late_department_feed_is_named_and_timely_deliveries_are_not(shocked_county, simulated_dir, tmp_path):
    calm = _late_feeds(_replay(simulated_dir, tmp_path / "calm"))
    assert sum(f["arrived"] for f in calm["feeds"]) > 100  # the second delivery was judged
    assert [f for f in calm["feeds"] if f["drifted"]] == [] and sum(f["late"] for f in calm["feeds"]) == 0

    raw = tmp_path / "late" / "raw"
    invoke(["simulate", "--households", str(SIM_HOUSEHOLDS), "--rounds", str(SIM_ROUNDS), "--seed", str(SIM_SEED),
            "--truth-replicates", "1", "--out", str(raw), "--shock", f"late:{ROUND}:{shocked_county}"])
    wh = tmp_path / "late" / "warehouse"
    day = _replay_deliveries(raw, wh)
    assert [f for f in _late_feeds(wh)["feeds"] if f["drifted"]] == []  # not yet arrived: silent, not late
    invoke(["ingest", str(raw / "late_events.parquet"), "--table", "events", "--warehouse", str(wh),
            "--ingest-date", str((day + pd.Timedelta(days=21)).date())])
    late = _late_feeds(wh)
    flagged = [(f["source"], f["county"]) for f in late["feeds"] if f["drifted"]]
    assert flagged == [("department_alert", shocked_county)], late["feeds"]
    assert next(f for f in late["feeds"] if f["drifted"])["median_delay_days"] > 30


def _replay(raw: Path, tmp: Path) -> Path:
    """``raw`` copied under ``tmp`` (the session's folder stays read-only) and replayed as two deliveries."""
    import shutil

    shutil.copytree(raw, tmp / "raw")
    wh = tmp / "warehouse"
    _replay_deliveries(tmp / "raw", wh)
    return wh


def test_expected_recall_of_the_labelled_round_lies_in_the_realised_interval(trained_warehouse: Path,
                                                                             champion_model):
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round

    test_round = champion_model.metadata["test_round"]
    report = check_round(Warehouse(trained_warehouse), champion_model, test_round, seed=3)
    realised = report["realised"]
    assert realised is not None and realised["rows"] > 1000
    lo, hi = realised["interval"]["recall_at_10pct"]
    assert lo <= report["expected"]["recall_at_10pct"] <= hi
    assert report["reference_realised"]["test"]["recall_at_10pct"] == pytest.approx(realised["recall_at_10pct"])
    decay = {d["round"]: d for d in report["decay"]}
    assert decay[test_round]["rounds_since_training"] == 1
    assert decay[test_round]["realised"]["recall_at_10pct"] == pytest.approx(realised["recall_at_10pct"])


def test_cli_writes_json_pages_and_an_mlflow_run(trained_warehouse: Path, tmp_path: Path):
    from models import registry

    out = tmp_path / "drift"
    text = invoke(["drift", "--round", ROUND, "--warehouse", str(trained_warehouse), "--out", str(out)])
    report = json.loads((out / f"drift-{ROUND}.json").read_text(encoding="utf-8"))
    assert report["verdict"] in text and report["verdict_zh"] in text
    zh = (out / f"drift-{ROUND}.zh.html").read_text(encoding="utf-8")
    en = (out / f"drift-{ROUND}.en.html").read_text(encoding="utf-8")
    assert "<svg" in zh and report["verdict_zh"] in zh and report["verdict"] in en
    assert "户类型" in zh and "预期召回率@10%" in zh and "household type" in en  # labels, not column names
    client = registry.connect(trained_warehouse)
    run = client.get_run(report["mlflow_run_id"])
    exp = client.get_experiment(run.info.experiment_id)
    assert exp.name == "povwatch-monitoring"
    assert run.data.metrics["verdict_code"] == {"stable": 0, "retrain recommended": 1}[report["verdict"]]
    assert run.data.metrics["score_psi"] == pytest.approx(report["score"]["psi"])


def test_cli_refuses_a_round_inside_the_reference(trained_warehouse: Path, champion_model):
    from typer.testing import CliRunner

    from commands.app import app

    first = champion_model.metadata["split"]["training_rounds"][0]
    result = CliRunner().invoke(app, ["drift", "--round", first, "--warehouse", str(trained_warehouse),
                                      "--no-mlflow"])
    assert result.exit_code == 2 and "part of the reference" in result.output


def test_ingest_of_a_new_round_ends_with_its_drift_line(trained_warehouse: Path, simulated_dir: Path, tmp_path: Path):
    import shutil

    wh = tmp_path / "warehouse"
    shutil.copytree(trained_warehouse, wh)
    for table in ("households", "members"):  # the newest round arrives again, as a new round
        shutil.rmtree(wh / table / f"round_id={ROUND}")
    last = invoke(["ingest", str(simulated_dir), "--warehouse", str(wh)]).strip().splitlines()[-1]
    assert last.startswith(f"drift {ROUND}: ") and f"details: povwatch drift --round {ROUND}" in last, last
    assert any(v in last for v in ("stable", "retrain recommended", "data problem suspected"))
    again = invoke(["ingest", str(simulated_dir), "--warehouse", str(wh)])
    assert "drift " not in again  # no new round, no line
