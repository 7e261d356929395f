"""``povwatch outcomes ingest``: Chinese and English files, quarantine with reasons, unknown alerts refused,
pseudonymised verifier ids, idempotent re-ingest, history kept, and a file that cannot be read stops all."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cases.store import open_store
from commands.app import app
from tests.test_cases_store import worklist

ID_NUMBER = "62042219800101123X"  # shaped like a resident identity number (made up)


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture()
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("POVWATCH_DB_URL", raising=False)
    monkeypatch.setenv("POVWATCH_ID_KEY", "test-key")
    wh = tmp_path / "wh"
    with open_store(wh) as store:
        store.record_worklist(worklist(10))
    return wh


def zh_file(path: Path) -> Path:
    pd.DataFrame({
        "预警编号": ["A000001", "A000002", "A000003", "A999999", "A000004"],
        "户编号": ["H000001", "H000002", "H000003", "H999999", "H000004"],
        "入户核实日期": ["2025-11-24", "2025年11月25日", "2025-11-25", "2025-11-25", "2025-11-26"],
        "核实人编号": [ID_NUMBER, "V02", "V02", "V02", "V03"],
        "核实人姓名": ["张三", "李四", "李四", "李四", "王五"],
        "核实结论": ["认定为监测对象", "经核实不纳入", "认定为监测对象", "未能入户", "已是监测对象"],
        "认定风险类型": ["因病；因学", "", "", "", ""],
        "不纳入原因": ["", "核实收入高于采集数据", "", "", ""],
        "认定日期": ["2025-12-01", "", "", "", ""],
    }).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_zh_file_validated_quarantined_and_idempotent(warehouse: Path, tmp_path: Path) -> None:
    f = zh_file(tmp_path / "入户核实结果表.csv")
    code, out = run(["outcomes", "ingest", str(f), "--warehouse", str(warehouse), "--json"])
    assert code == 0, out
    assert json.loads(out) == {"outcomes": {"read": 5, "accepted": 3, "rejected": 2, "new": 3, "unchanged": 0}}
    q = pd.concat(pd.read_parquet(p) for p in (warehouse / "quarantine" / "outcomes").glob("*.parquet"))
    reasons = dict(zip(q["alert_id"], q["reason"]))
    assert reasons["A000003"].startswith("risk_types: outcome='认定为监测对象' but risk_types is missing")
    assert reasons["A999999"].startswith("alert_exists: alert_id='A999999' was never issued")
    with open_store(warehouse) as store:
        stored = store.outcomes().set_index("alert_id")
    assert stored.loc["A000001", "risk_types"] == "illness;education"
    assert stored.loc["A000001", "verifier_id"].startswith("v_") and ID_NUMBER not in stored["verifier_id"].tolist()
    assert stored.loc["A000002", "override_reason"] == "income_higher"
    assert "张三" not in (warehouse / "povwatch.db").read_bytes().decode("utf-8", "replace")
    before = sorted(p.stat().st_mtime_ns for p in (warehouse / "quarantine" / "outcomes").glob("*"))

    code, out = run(["outcomes", "ingest", str(f), "--warehouse", str(warehouse), "--json"])
    assert json.loads(out)["outcomes"] == {"read": 5, "accepted": 3, "rejected": 2, "new": 0, "unchanged": 3}
    assert len(list((warehouse / "quarantine" / "outcomes").glob("*"))) == len(before)
    with open_store(warehouse) as store:
        assert len(store.outcomes(current=False)) == 3


def test_english_parquet_moves_a_case_on_and_keeps_history(warehouse: Path, tmp_path: Path) -> None:
    first = tmp_path / "outcomes_week1.parquet"
    pd.DataFrame({"alert_id": ["A000005"], "household_id": ["H000005"], "visit_date": [pd.Timestamp("2025-11-24")],
                  "verifier_id": ["V09"], "outcome": ["not_reached"]}).to_parquet(first)
    later = tmp_path / "outcomes_week2.csv"
    pd.DataFrame({"alert_id": ["A000005"], "household_id": ["H000005"], "visit_date": ["2025-11-28"],
                  "verifier_id": ["V09"], "outcome": ["identified"], "risk_types": ["illness"],
                  "measures": ["health;social_security"], "measures_date": ["2025-12-03"]}).to_csv(later, index=False)
    code, out = run(["outcomes", "ingest", str(first), str(later), "--warehouse", str(warehouse)])
    assert code == 0 and "accepted 2 (2 new" in out, out
    with open_store(warehouse) as store:
        history = store.outcomes(current=False)
        current = store.outcomes()
    assert history["outcome"].tolist() == ["not_reached", "identified"] and history["seq"].tolist() == [1, 2]
    assert current["outcome"].tolist() == ["identified"] and current["measures"].tolist() == ["health;social_security"]


def test_unreadable_file_stops_the_whole_call(warehouse: Path, tmp_path: Path) -> None:
    good = zh_file(tmp_path / "outcomes_a.csv")
    bad = tmp_path / "outcomes_b.csv"
    bad.write_text("alert_id,household_id\nA000001,H000001\n")  # lacks the required columns
    code, out = run(["outcomes", "ingest", str(good), str(bad), "--warehouse", str(warehouse)])
    assert code == 2 and "missing required column(s) visit_date" in out
    with open_store(warehouse) as store:
        assert store.outcomes(current=False).empty
