"""``povwatch cases`` and ``povwatch loop-report`` on a small case store whose figures can be counted by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases.store import open_store
from commands.app import app
from tests.test_cases_store import outcome_rows, visit, worklist

AT = "2025-12-20"


def run(args: list[str]) -> str:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def wilson(k: int, n: int, z: float = 1.959963984540054) -> list[float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


@pytest.fixture()
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """20 alerts issued 2025-11-20 (check by 11-27, decide by 12-05): 4 trigger, 6 model, 10 audit.

    trigger: 3 visits (2 identified, decided 12-01; 1 not identified), 1 never visited (overdue);
    model:   5 visits (3 identified: one decided late 12-10, one undecided -> overdue; 2 not identified),
             1 not reached; one visit late (11-30 > check_by -> overdue);
    audit:   10 visits, 1 identified (decided 12-02).
    """
    monkeypatch.delenv("POVWATCH_DB_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    wh = tmp_path / "wh"
    entries = worklist(20)
    entries["channel"] = ["trigger"] * 4 + ["model"] * 6 + ["audit"] * 10
    entries["model_version"] = ["3"] * 4 + ["3", "3", "3", "4", "4", "4"] + ["3"] * 10
    entries["village"] = ["吉坝村"] * 10 + ["新庄村"] * 10
    with open_store(wh) as store:
        store.record_worklist(entries)
        h = lambda i: (f"A{i:06d}", f"H{i:06d}")  # noqa: E731
        rows = [visit(*h(0), decision_date="2025-12-01", visit_date="2025-11-22"),
                visit(*h(1), decision_date="2025-12-01", visit_date="2025-11-24"),
                visit(*h(2), "not_identified", override_reason="income_higher", visit_date="2025-11-26"),
                visit(*h(4), decision_date="2025-12-10", visit_date="2025-11-23"),
                visit(*h(5), visit_date="2025-11-24", verifier_id="V07"),
                visit(*h(6), decision_date="2025-12-03", visit_date="2025-11-30"),
                visit(*h(7), "not_identified", visit_date="2025-11-25"),
                visit(*h(8), "not_identified", visit_date="2025-11-25"),
                visit(*h(9), "not_reached", visit_date="2025-11-25"),
                visit(*h(10), decision_date="2025-12-02", visit_date="2025-11-25")]
        rows += [visit(*h(i), "not_identified", visit_date="2025-11-26") for i in range(11, 20)]
        store.record_outcomes(outcome_rows(rows), source="test")
    return wh


def test_loop_report_figures_shape_page_and_mlflow_run(warehouse: Path, tmp_path: Path) -> None:
    page = tmp_path / "loop.html"
    out = run(["loop-report", "--warehouse", str(warehouse), "--at", AT, "--json", "--html", str(page)])
    r = json.loads(out)
    assert {"channels", "audit_miss_rate", "audit_miss_rate_ci", "by_model_version"} <= set(r)
    channels = {c["channel"]: c for c in r["channels"]}
    for c in r["channels"]:
        assert {"channel", "alerts", "visits", "identified", "identified_share", "identified_ci",
                "median_days_to_visit", "overdue_share"} <= set(c)
    t, m, a = channels["trigger"], channels["model"], channels["audit"]
    assert (t["alerts"], t["visits"], t["identified"]) == (4, 3, 2)
    assert t["identified_share"] == round(2 / 3, 4) and t["identified_ci"] == wilson(2, 3)
    assert t["median_days_to_visit"] == 4.0 and t["overdue_share"] == 0.25        # days 2, 4, 6; A000003 unvisited
    assert (m["alerts"], m["visits"], m["identified"], m["not_reached"]) == (6, 5, 3, 1)
    assert m["identified_ci"] == wilson(3, 5)
    # overdue: A000004 decided 12-10 > 12-05, A000005 undecided at 12-20, A000006 visited 11-30 > 11-27,
    # A000009 not reached and past check_by
    assert m["overdue_share"] == round(4 / 6, 4)
    assert m["median_days_to_decision"] == 16.5                                     # 20 and 13 days after 11-20
    assert (a["visits"], a["identified"]) == (10, 1)
    assert r["audit_miss_rate"] == 0.1 and r["audit_miss_rate_ci"] == wilson(1, 10)
    assert r["alerts_per_identified"] == {"trigger": 2.0, "trigger+model": 2.0}
    versions = {v["model_version"]: v for v in r["by_model_version"]}
    assert (versions["3"]["alerts"], versions["3"]["identified"]) == (3, 3)
    assert (versions["4"]["alerts"], versions["4"]["visits"], versions["4"]["identified"]) == (3, 2, 0)
    html = page.read_text(encoding="utf-8")
    assert "入户核实结果与预警效果" in html and "Visit outcomes" in html and "10.0%" in html

    import mlflow
    client = mlflow.MlflowClient(f"sqlite:///{warehouse.resolve()}/mlflow.db")
    experiment = client.get_experiment_by_name("povwatch-monitoring")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1 and runs[0].data.metrics["audit_miss_rate"] == 0.1
    assert runs[0].data.metrics["model_identified_share"] == 0.6
    logged = json.loads(Path(client.download_artifacts(runs[0].info.run_id, "loop_report.json", str(tmp_path))).read_text())
    assert logged == r
    assert "H0000" not in json.dumps(logged)  # aggregates only


def test_since_keeps_later_alerts(warehouse: Path) -> None:
    r = json.loads(run(["loop-report", "--warehouse", str(warehouse), "--at", AT, "--since", "2025-11-21",
                        "--json", "--no-mlflow"]))
    assert r["channels"] == [] and r["audit_miss_rate"] is None


def test_cases_lists_open_and_overdue(warehouse: Path) -> None:
    listed = json.loads(run(["cases", "--warehouse", str(warehouse), "--at", AT, "--json"]))
    assert sorted(c["alert_id"] for c in listed) == ["A000003", "A000005", "A000009"]
    status = {c["alert_id"]: c["status"] for c in listed}
    assert status == {"A000003": "open", "A000005": "awaiting_decision", "A000009": "open"}
    overdue = json.loads(run(["cases", "--warehouse", str(warehouse), "--at", AT, "--overdue", "--json"]))
    assert sorted(c["alert_id"] for c in overdue) == ["A000003", "A000004", "A000005", "A000006", "A000009"]
    days = {c["alert_id"]: c["days_overdue"] for c in overdue}
    assert days["A000003"] == 23 and days["A000005"] == 15
    village = json.loads(run(["cases", "--warehouse", str(warehouse), "--at", AT, "--village", "新庄村", "--json"]))
    assert village == []
    text = run(["cases", "--warehouse", str(warehouse), "--at", AT, "--overdue"])
    assert "5 overdue alert(s) at 2025-12-20" in text and "V07" in text and "per verifier" in text


def test_training_reports_visited_precision_without_creating_a_store(warehouse: Path, tmp_path: Path) -> None:
    from cases.evaluation import visited_metrics, visited_outcomes
    from training.model_card import _visited_lines

    empty = tmp_path / "no-cases"
    empty.mkdir()
    assert visited_outcomes(empty) is None and not (empty / "povwatch.db").exists()
    visited = visited_outcomes(warehouse)
    metrics = visited_metrics(visited)
    assert metrics["visited_precision_model"] == 0.6 and metrics["visited_count_audit"] == 10.0
    assert metrics["audit_miss_rate"] == 0.1
    assert "`trigger`: 3 visits of 4 alerts, share identified 0.667" in _visited_lines(visited)


def test_field_page_of_a_village_has_its_figures_escaped(warehouse: Path, tmp_path: Path) -> None:
    """The loop page of the HTML village/county report: one village's figures (counted by hand in the
    fixture), the area named and escaped, a link back to the list; no page (and no store) without a store."""
    from cases.loop import write_field_page

    with open_store(warehouse) as store:
        odd = worklist(1, start=50)
        odd["village"], odd["channel"] = "<b>x</b>村", "trigger"
        store.record_worklist(odd)
    folder = tmp_path / "village"
    assert write_field_page(warehouse, folder, county="会宁县", village="吉坝村", at=AT) == "loop.html"
    html = (folder / "loop.html").read_text(encoding="utf-8")
    assert "会宁县 · 吉坝村" in html and 'href="index.html"' in html
    by_channel = html.split("<h2>")[1]                                   # the first section: by channel
    rows = by_channel.split("<tr>")[2:]
    assert len(rows) == 2                                                 # 吉坝村 has trigger and model alerts
    trigger = next(r for r in rows if "预警条件触发" in r)
    # 4 trigger alerts, 3 visits, 2 identified: 66.7 % with the Wilson interval; a quarter overdue
    lo, hi = wilson(2, 3)
    assert "<td>4</td><td>3</td><td>2</td>" in trigger and "66.7%" in trigger
    assert f"{100 * lo:.1f}%–{100 * hi:.1f}%" in trigger and "25.0%" in trigger
    assert "随机抽查 <span" not in by_channel                             # 新庄村's audit alerts apart
    assert "尚无随机抽查" in html                                                 # no audit visit in this village
    assert "<b>x</b>" not in html  # another village's name never appears, let alone unescaped

    folder = tmp_path / "odd"
    write_field_page(warehouse, folder, county="会宁县", village="<b>x</b>村", at=AT)
    odd_html = (folder / "loop.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;村" in odd_html and "<b>x</b>" not in odd_html

    empty = tmp_path / "no-store"
    empty.mkdir()
    assert write_field_page(empty, empty / "pages", village="吉坝村") is None
    assert not (empty / "povwatch.db").exists() and not (empty / "pages").exists()
