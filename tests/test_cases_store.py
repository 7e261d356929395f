"""The case store against SQLite and a real PostgreSQL server: migrations up and down, idempotent worklists,
outcome history, refusals, all-or-nothing writes, and a writer killed mid-transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cases import migrate
from cases.db import make_engine
from cases.models import Base
from cases.store import open_store
from features.data.validate import validate_frame

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'povwatch.db'}"
    return request.getfixturevalue("postgresql_url")


def worklist(n: int, start: int = 0, as_of: str = "2025-11-20") -> pd.DataFrame:
    ids = range(start, start + n)
    return pd.DataFrame({
        "alert_id": [f"A{i:06d}" for i in ids], "household_id": [f"H{i:06d}" for i in ids],
        "county": "会宁县", "village": ["吉坝村" if i % 2 else "新庄村" for i in ids],
        "channel": ["audit" if i % 10 == 0 else "model" for i in ids], "rank": [i + 1 for i in ids],
        "risk": [0.5 if i % 10 else None for i in ids], "tier": ["high" if i % 10 else None for i in ids],
        "reasons": [json.dumps([{"indicator": "medical_share", "zh": "医疗支出占比高"}], ensure_ascii=False)] * n,
        "model_version": "3", "as_of": as_of, "check_by": "2025-11-27", "decide_by": "2025-12-05",
        "audit_seed": [7 if i % 10 == 0 else None for i in ids]})


def outcome_rows(rows: list[dict]) -> pd.DataFrame:
    """Validated, canonical outcome rows (the store only ever receives these)."""
    result = validate_frame("outcomes", pd.DataFrame(rows).astype(str))
    assert result.rejected.empty, result.rejected["reason"].tolist()
    return result.accepted


def visit(alert: str, household: str, outcome: str = "identified", **extra: str) -> dict:
    row = {"alert_id": alert, "household_id": household, "visit_date": "2025-11-24", "verifier_id": "V01",
           "outcome": outcome, "risk_types": "illness" if outcome == "identified" else ""}
    row.update(extra)
    return row


def test_migrations_up_down_and_match_the_models(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"alerts", "outcomes"} <= set(sa.inspect(engine).get_table_names())
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"the models and the migrations disagree: {diff}"
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert not {"alerts", "outcomes"} & set(sa.inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert {"alerts", "outcomes"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_worklist_recorded_once(store_url: str) -> None:
    with open_store("unused", store_url) as store:
        assert store.record_worklist(worklist(30)) == 30
        assert store.record_worklist(worklist(30)) == 0          # the same list twice: nothing new
        assert store.record_worklist(worklist(30, start=20)) == 20  # overlapping list: only the new alerts
        alerts = store.alerts()
    assert len(alerts) == 50 and alerts["alert_id"].is_unique
    first = alerts.set_index("alert_id").loc["A000001"]
    assert first["village"] == "吉坝村" and first["risk"] == 0.5 and json.loads(first["reasons"])[0]["zh"] == "医疗支出占比高"
    assert alerts.set_index("alert_id").loc["A000010", "audit_seed"] == 7
    assert str(first["check_by"].date()) == "2025-11-27"


def test_outcome_history_kept_and_later_row_is_current(store_url: str) -> None:
    with open_store("unused", store_url) as store:
        store.record_worklist(worklist(3))
        first = store.record_outcomes(outcome_rows([visit("A000001", "H000001", "not_reached")]), source="f1")
        later = store.record_outcomes(outcome_rows([
            visit("A000001", "H000001", "identified", visit_date="2025-11-26", decision_date="2025-12-01"),
            visit("A000002", "H000002", "not_identified", override_reason="income_higher")]), source="f2")
        again = store.record_outcomes(outcome_rows([visit("A000001", "H000001", "not_reached")]), source="f1")
        current, history = store.outcomes(), store.outcomes(current=False)
    assert (first.new, later.new, again.new, again.unchanged) == (1, 2, 0, 1)
    assert current.set_index("alert_id").loc["A000001", "outcome"] == "identified"
    assert history[history["alert_id"] == "A000001"]["outcome"].tolist() == ["not_reached", "identified"]
    assert len(current) == 2 and len(history) == 3


def test_unknown_alert_and_wrong_household_refused(store_url: str) -> None:
    with open_store("unused", store_url) as store:
        store.record_worklist(worklist(2))
        rows = outcome_rows([visit("A000000", "H000000"), visit("NOPE", "H000001"), visit("A000001", "H999")])
        result = store.record_outcomes(rows, source="f")
        stored = store.outcomes()
    assert result.new == 1 and stored["alert_id"].tolist() == ["A000000"]
    reasons = dict(zip(result.rejected["row"], result.rejected["reason"]))
    assert reasons[1].startswith("alert_exists: alert_id='NOPE' was never issued")
    assert reasons[2].startswith("alert_household: household_id='H999'")


def test_all_or_nothing_writes_nothing_on_a_refusal(store_url: str) -> None:
    with open_store("unused", store_url) as store:
        store.record_worklist(worklist(2))
        rows = outcome_rows([visit("A000000", "H000000"), visit("NOPE", "H000001")])
        result = store.record_outcomes(rows, source="api", all_or_nothing=True)
        assert result.new == 0 and len(result.rejected) == 1
        assert store.outcomes(current=False).empty


KILLED_WRITER = textwrap.dedent("""
    import json, sys, time
    import pandas as pd
    from sqlalchemy import event
    sys.path.insert(0, {root!r})
    from cases.store import open_store
    from tests.test_cases_store import worklist, outcome_rows, visit

    store = open_store("unused", {url!r})
    what = sys.argv[1]
    rows = outcome_rows([visit(f"A{{i:06d}}", f"H{{i:06d}}") for i in range(6_000)]) if what == "outcomes" else None

    @event.listens_for(store.engine, "after_cursor_execute")
    def pause(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO " + what):
            print("inside the transaction", flush=True)
            time.sleep(120)

    if what == "alerts":
        store.record_worklist(worklist(6_000))
    else:
        store.record_outcomes(rows, source="killed")
""")


@pytest.mark.parametrize("table", ["alerts", "outcomes"])
def test_writer_killed_mid_transaction_leaves_no_half_written_case(store_url: str, table: str,
                                                                     tmp_path: Path) -> None:
    with open_store("unused", store_url) as store:
        if table == "outcomes":
            store.record_worklist(worklist(6_000))
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER.format(root=str(ROOT), url=store_url))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), table], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "inside the transaction", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with open_store("unused", store_url) as store:
        alerts, outcomes = store.alerts(), store.outcomes(current=False)
        assert len(alerts) == (6_000 if table == "outcomes" else 0)
        assert outcomes.empty
        # the store still takes the same write whole
        if table == "alerts":
            assert store.record_worklist(worklist(6_000)) == 6_000
        else:
            rows = outcome_rows([visit(f"A{i:06d}", f"H{i:06d}") for i in range(6_000)])
            assert store.record_outcomes(rows, source="again").new == 6_000


def test_values_longer_than_their_column_are_refused_not_crashing(store_url: str) -> None:
    with open_store("unused", store_url) as store:
        store.record_worklist(worklist(2))
        rows = outcome_rows([visit("A000000", "H000000", verifier_id="V" * 65),
                             visit("A000001", "H000001", "already_monitored", measures=";".join(["health"] * 60))])
        result = store.record_outcomes(rows, source="f")
        assert result.new == 0 and sorted(result.rejected["rule"]) == ["too_long:measures", "too_long:verifier_id"]
        assert "verifier_id has 65 characters; at most 64" in " ".join(result.rejected["reason"])
        from cases.store import StoreError
        with pytest.raises(StoreError, match="village longer than 128"):
            store.record_worklist(worklist(1, start=5).assign(village="村" * 129))
        assert len(store.alerts()) == 2


def test_stores_opened_together_migrate_once(store_url: str) -> None:
    """Service workers start at the same time: each opens (and migrates) the store; none may fail."""
    from concurrent.futures import ThreadPoolExecutor

    def open_and_count(_: int) -> int:
        with open_store("unused", store_url) as store:
            return len(store.alerts())

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_and_count, range(4))) == [0, 0, 0, 0]


def test_processes_opening_a_new_store_together_all_succeed(store_url: str) -> None:
    """Several service workers (processes) start on an empty database at once: one migrates, none fails."""
    code = f"from cases.store import open_store; open_store('unused', {store_url!r}).close()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        errors = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    engine = make_engine(store_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
