"""Ingest into a real warehouse folder: file formats, cross-table rules, upsert, idempotence, atomicity,
quarantine and the PII guard."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from features.data.contract import HOUSEHOLDS, MEMBERS
from features.data.derived import monitoring_line
from features.data.ingest import ingest
from commands.ingest import ingest_cmd
from features.data.pii import MissingIdKeyError
from features.data.validate import ContractError
from features.data.warehouse import Warehouse
from tests.test_contract import event, household, member


def write_csv(path: Path, rows: list[dict], *, bom: bool = False, zh: bool = False) -> Path:
    df = pd.DataFrame(rows)
    if zh:
        labels = {c.name: c.zh for t in (HOUSEHOLDS, MEMBERS) for c in t.columns}
        df = df.rename(columns=labels)
    df.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
    return path


def family(hid: str, round_id: str = "2023", date: str = "2023-03-15", size: int = 2, **over: str):
    """A households row and its ``size`` member rows."""
    h = household(household_id=hid, round_id=round_id, survey_date=date, household_size=str(size), **over)
    ms = [member(household_id=hid, round_id=round_id, member_id=f"{hid}-{i}",
                 relation="head" if i == 0 else "child") for i in range(size)]
    return h, ms


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "wh")


@pytest.fixture
def round_2023(tmp_path: Path) -> list[Path]:
    h1, m1 = family("H1")
    h2, m2 = family("H2", size=3)
    return [write_csv(tmp_path / "households_2023.csv", [h1, h2]),
            write_csv(tmp_path / "members_2023.csv", m1 + m2)]


def test_csv_with_bom_chinese_headers_and_parquet(tmp_path: Path, wh: Warehouse) -> None:
    h1, m1 = family("H1", household_type="脱贫户", is_monitored="是", monitoring_type="边缘易致贫户",
                    risk_types="因病；因学")
    hh = write_csv(tmp_path / "农户年度采集表.csv", [h1], bom=True, zh=True)
    mem = tmp_path / "members.parquet"
    pd.DataFrame(m1).astype({"age": "int64", "work_months": "int64"}).to_parquet(mem)
    s = ingest([hh, mem], wh)
    assert s.counts() == {"households": {"read": 1, "accepted": 1, "rejected": 0},
                          "members": {"read": 2, "accepted": 2, "rejected": 0}}
    got = wh.households(["2023"]).iloc[0]
    assert (got["household_type"], got["monitoring_type"], got["risk_types"]) == ("escaped", "marginal",
                                                                                 "illness;education")
    assert wh.members(["2023"])["age"].tolist() == [52, 52]
    assert (wh.root / "households" / "round_id=2023" / "data.parquet").is_file()


def test_same_files_twice_change_no_byte(round_2023: list[Path], tmp_path: Path, wh: Warehouse) -> None:
    bad = write_csv(tmp_path / "events.csv", [event(), event(event_type="lottery", event_date="2024-01-02")])
    ingest([*round_2023, bad], wh)
    before = snapshot(wh.root)
    assert any(k.startswith("quarantine/events/") for k in before) and "events/year=2023/data.parquet" in before
    ingest([*round_2023, bad], wh)
    assert snapshot(wh.root) == before


def test_corrected_round_replaces_rows_of_the_households_it_contains(round_2023: list[Path], tmp_path: Path,
                                                                      wh: Warehouse) -> None:
    ingest(round_2023, wh)
    fixed = tmp_path / "fix"
    fixed.mkdir()
    h2, m2 = family("H2", size=2, wage_income="25000")  # H2 had 3 members, now 2, and a corrected wage
    s = ingest([write_csv(fixed / "households.csv", [h2]), write_csv(fixed / "members.csv", m2)], wh)
    assert s.counts()["households"]["accepted"] == 1
    hh = wh.households(["2023"]).set_index("household_id")
    assert len(hh) == 2 and hh.loc["H2", "wage_income"] == 25000.0 and hh.loc["H1", "wage_income"] == 20000.0
    members = wh.members(["2023"])
    assert sorted(members["member_id"]) == ["H1-0", "H1-1", "H2-0", "H2-1"]


def test_quarantine_holds_rows_as_read_with_reasons(tmp_path: Path, wh: Warehouse) -> None:
    rows = [household(household_id="H1", household_size="1"), household(household_id="H2", wage_income="-7")]
    s = ingest([write_csv(tmp_path / "households.csv", rows)], wh)
    assert s.counts()["households"] == {"read": 2, "accepted": 1, "rejected": 1}
    assert s.tables["households"].top_reasons == [("range:wage_income", 1)]
    files = list((wh.root / "quarantine" / "households").glob("*.parquet"))
    assert len(files) == 1 and [str(files[0])] == s.tables["households"].quarantine_files
    q = pd.read_parquet(files[0])
    assert q.loc[0, "wage_income"] == "-7" and q.loc[0, "household_id"] == "H2"
    assert "range: wage_income='-7'" in q.loc[0, "reason"]
    assert q.loc[0, "source_file"].endswith("households.csv") and q.loc[0, "source_row"] == 2
    assert list(wh.households()["household_id"]) == ["H1"]


def test_member_without_household_row_is_rejected(round_2023: list[Path], tmp_path: Path, wh: Warehouse) -> None:
    ingest(round_2023, wh)  # households H1, H2 now stored: later member files are checked against them
    orphan = member(household_id="H9", member_id="X")
    late = member(household_id="H1", round_id="2023", member_id="H1-0")
    s = ingest([write_csv(tmp_path / "members_more.csv", [orphan, late, member(household_id="H1", member_id="H1-1")])], wh)
    q = pd.read_parquet(next((wh.root / "quarantine" / "members").glob("*.parquet")))
    assert q["member_id"].tolist() == ["X"]
    assert "household_exists: no households row for household_id=H9, round_id=2023" in q.loc[0, "reason"]
    assert s.counts()["members"] == {"read": 3, "accepted": 2, "rejected": 1}


def test_household_size_mismatch_quarantines_household_and_members(tmp_path: Path, wh: Warehouse) -> None:
    h1, m1 = family("H1", size=2)
    h2, m2 = family("H2", size=2)
    h2["household_size"] = "4"
    s = ingest([write_csv(tmp_path / "households.csv", [h1, h2]), write_csv(tmp_path / "members.csv", m1 + m2)], wh)
    assert s.counts() == {"households": {"read": 2, "accepted": 1, "rejected": 1},
                          "members": {"read": 4, "accepted": 2, "rejected": 2}}
    for table in ("households", "members"):
        q = pd.read_parquet(next((wh.root / "quarantine" / table).glob("*.parquet")))
        assert set(q["household_id"]) == {"H2"}
        assert all("household_size: household_size=4 but this ingest has 2 member rows for household_id=H2"
                   in r for r in q["reason"])
    assert list(wh.households()["household_id"]) == ["H1"]


def test_a_bad_member_row_keeps_the_whole_household_round_out(tmp_path: Path, wh: Warehouse) -> None:
    h1, m1 = family("H1", size=2)
    m1[1]["age"] = "200"
    s = ingest([write_csv(tmp_path / "households.csv", [h1]), write_csv(tmp_path / "members.csv", m1)], wh)
    assert s.counts()["households"]["accepted"] == 0 and s.counts()["members"]["accepted"] == 0
    q = pd.read_parquet(next((wh.root / "quarantine" / "households").glob("*.parquet")))
    assert "household_incomplete: 1 member row(s) of household_id=H1, round_id=2023" in q.loc[0, "reason"]


def test_household_size_checked_against_stored_members(round_2023: list[Path], tmp_path: Path,
                                                       wh: Warehouse) -> None:
    ingest(round_2023, wh)
    h1, _ = family("H1", size=5)
    s = ingest([write_csv(tmp_path / "households_fix.csv", [h1])], wh)
    assert s.counts()["households"]["rejected"] == 1
    q = pd.read_parquet(next((wh.root / "quarantine" / "households").glob("*.parquet")))
    assert "household_size=5 but the warehouse holds 2 member rows" in q.loc[0, "reason"]


def test_survey_date_must_follow_the_previous_round(round_2023: list[Path], tmp_path: Path, wh: Warehouse) -> None:
    ingest(round_2023, wh)
    ok, _ = family("H1", round_id="2024", date="2024-03-10")
    early, _ = family("H2", round_id="2024", date="2023-01-10")
    s = ingest([write_csv(tmp_path / "households_2024.csv", [ok, early])], wh)
    assert s.counts()["households"] == {"read": 2, "accepted": 1, "rejected": 1}
    q = pd.read_parquet(next((wh.root / "quarantine" / "households").glob("*.parquet")))
    assert q.loc[0, "household_id"] == "H2"
    assert ("survey_date_order: survey_date=2023-01-10 of round 2024 is not after 2023-03-15 of household H2's "
            "previous round 2023") in q.loc[0, "reason"]
    assert wh.round_ids() == ["2023", "2024"]


def test_survey_order_with_a_back_filled_round_and_a_replaced_row(round_2023: list[Path], tmp_path: Path,
                                                                  wh: Warehouse) -> None:
    """A back-filled earlier round dated after the stored later one is rejected; a re-sent row replaces the
    stored one, which then takes no part in the order."""
    ingest(round_2023, wh)
    ingest([write_csv(tmp_path / "households_2025.csv", [family("H1", "2025", "2025-03-10")[0],
                                                           family("H2", "2025", "2025-03-12", size=3)[0]])], wh)
    s = ingest([write_csv(tmp_path / "households_2024.csv", [family("H1", "2024", "2025-06-01")[0],
                                                             family("H2", "2024", "2024-03-10", size=3)[0]])], wh)
    assert s.counts()["households"] == {"read": 2, "accepted": 1, "rejected": 1}
    q = pd.read_parquet(next((wh.root / "quarantine" / "households").glob("*2024*.parquet")))
    assert list(q["household_id"]) == ["H1"]
    assert q.loc[0, "reason"] == ("survey_date_order: survey_date=2025-03-10 of round 2025 is not after 2025-06-01 "
                                  "of household H1's previous round 2024")
    assert wh.round_ids() == ["2023", "2024", "2025"]

    again = [family("H1", "2025", "2025-04-01")[0], family("H2", "2025", "2024-01-01", size=3)[0]]
    s = ingest([write_csv(tmp_path / "households_2025_fix.csv", again)], wh)
    assert s.counts()["households"] == {"read": 2, "accepted": 1, "rejected": 1}
    q = pd.read_parquet(next((wh.root / "quarantine" / "households").glob("*2025_fix*.parquet")))
    assert q.loc[0, "reason"] == ("survey_date_order: survey_date=2024-01-01 of round 2025 is not after 2024-03-10 "
                                  "of household H2's previous round 2024")
    stored = wh.households(["2025"], columns=["household_id", "survey_date"]).set_index("household_id")
    assert stored["survey_date"].dt.strftime("%Y-%m-%d").to_dict() == {"H1": "2025-04-01", "H2": "2025-03-12"}


def test_events_by_year_and_monitoring_lines_upsert(tmp_path: Path, wh: Warehouse) -> None:
    ev = [event(), event(event_date="2024-02-01", event_type="job_loss", amount="", source="干部走访排查")]
    lines = pd.DataFrame({"省": ["*", "甘肃省"], "年度": ["2023", "2023"], "监测标准(元/人/年)": ["7000", "7300"]})
    lines.to_csv(tmp_path / "监测标准.csv", index=False)
    ingest([write_csv(tmp_path / "events.csv", ev), tmp_path / "监测标准.csv"], wh)
    assert sorted(p.parent.name for p in (wh.root / "events").glob("*/data.parquet")) == ["year=2023", "year=2024"]
    got = wh.events("2024-01-01", "2024-12-31")
    assert got["event_type"].tolist() == ["job_loss"] and got["source"].tolist() == ["cadre_visit"]
    pd.DataFrame({"province": ["甘肃省"], "year": [2023], "line": [7400.0]}).to_parquet(
        tmp_path / "monitoring_lines_fix.parquet")
    ingest([tmp_path / "monitoring_lines_fix.parquet"], wh)
    stored = wh.lines()
    assert len(stored) == 2
    assert monitoring_line(pd.Series(["甘肃省", "云南省"]), pd.Series([2024, 2023]), stored).tolist() == [
        pytest.approx(7400 * 1.05), 7000.0]


def test_failed_write_leaves_previous_state(round_2023: list[Path], tmp_path: Path, wh: Warehouse,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(round_2023, wh)
    before = snapshot(wh.root)
    h3, m3 = family("H3")
    h1, m1 = family("H1", wage_income="1")
    files = [write_csv(tmp_path / "households_b.csv", [h1, h3]), write_csv(tmp_path / "members_b.csv", m1 + m3)]
    real = pd.DataFrame.to_parquet
    calls = []

    def crash_on_second(self, path, *a, **k):  # the first file is staged, the second write dies
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_on_second)
    with pytest.raises(OSError, match="disk full"):
        ingest(files, wh)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    assert snapshot(wh.root) == before  # nothing renamed, no temporary file left behind
    assert sorted(wh.households()["household_id"]) == ["H1", "H2"]

    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("crash before rename")))
    with pytest.raises(OSError, match="crash before rename"):
        ingest(files, wh)
    monkeypatch.undo()
    assert snapshot(wh.root) == before
    ingest(files, wh)  # and the same call succeeds afterwards
    assert sorted(wh.households()["household_id"]) == ["H1", "H2", "H3"]


def test_person_identifiers_never_reach_disk(tmp_path: Path, wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POVWATCH_ID_KEY", "secret")
    idn_h, idn_bad, idn_m = "620422199001011234", "62042219850505432X", "620422201001019876"
    h_ok, m_ok = family(idn_h, size=1)
    m_ok[0]["member_id"] = idn_m
    h_bad = household(household_id=idn_bad, wage_income="-1", household_size="1")
    pii = {"身份证号": [idn_h, idn_bad], "户主姓名": ["王秀英", "李建国"], "phone": ["13912345678", "13887654321"]}
    hh = pd.DataFrame([h_ok, h_bad]).assign(**pii)
    hh.to_csv(tmp_path / "households.csv", index=False)
    mem = pd.DataFrame(m_ok).assign(姓名="王秀英", 身份证号码=idn_m, **{"联系电话": "13912345678"})
    mem.to_csv(tmp_path / "members.csv", index=False)
    s = ingest([tmp_path / "households.csv", tmp_path / "members.csv"], wh)
    assert s.counts()["households"] == {"read": 2, "accepted": 1, "rejected": 1}
    assert set(s.tables["households"].dropped_pii_columns) == {"身份证号", "户主姓名", "phone"}
    secrets = [idn_h, idn_bad, idn_m, "王秀英", "李建国", "13912345678", "13887654321"]
    files = [p for p in wh.root.rglob("*") if p.is_file()]
    assert any("quarantine" in str(p) for p in files)
    for p in files:
        data = p.read_bytes()
        cells = pd.read_parquet(p).astype(str).to_csv()
        for secret in secrets:
            assert secret.encode() not in data and secret not in cells, (p, secret)
    assert wh.households()["household_id"].iloc[0].startswith("h_")
    assert wh.members()["household_id"].iloc[0] == wh.households()["household_id"].iloc[0]  # still linked


def test_identity_numbers_without_key_refuse_and_write_nothing(tmp_path: Path, wh: Warehouse,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POVWATCH_ID_KEY", raising=False)
    f = write_csv(tmp_path / "households.csv", [household(household_id="620422199001011234")])
    with pytest.raises(MissingIdKeyError, match="POVWATCH_ID_KEY"):
        ingest([f], wh)
    assert not wh.root.exists()


@pytest.mark.parametrize(("content", "message"), [
    (lambda p: p.write_bytes("户编号,采集轮次\nH1,2023\n".encode("gbk")), r"households\.csv: not UTF-8 text"),
    (lambda p: p.write_text(""), r"households\.csv: empty file"),
    (lambda p: p.write_text("household_id,round_id\n"), r"households\.csv: no data rows"),
    (lambda p: pd.DataFrame([household()]).drop(columns=["survey_date"]).to_csv(p, index=False),
     r"households\.csv: missing required column\(s\) survey_date \(采集日期\)"),
])
def test_unreadable_files_are_refused_naming_file_and_column(tmp_path: Path, wh: Warehouse, content,
                                                             message: str) -> None:
    path = tmp_path / "households.csv"
    content(path)
    good = write_csv(tmp_path / "events.csv", [event()])
    with pytest.raises(ContractError, match=message):
        ingest([good, path], wh)
    assert not wh.root.exists()  # the good file of the same call is not half-loaded either


def test_folder_ingest_skips_files_of_no_table(round_2023: list[Path], tmp_path: Path, wh: Warehouse) -> None:
    pd.DataFrame({"household_id": ["H1"], "true_risk": [0.3]}).to_csv(tmp_path / "true_risk.csv", index=False)
    s = ingest([tmp_path], wh)
    assert set(s.tables) == {"households", "members"} and s.skipped_files == [str(tmp_path / "true_risk.csv")]
    with pytest.raises(ContractError, match="true_risk.csv: cannot tell its table"):
        ingest([tmp_path / "true_risk.csv"], wh)


def test_table_option_forces_the_table(tmp_path: Path, wh: Warehouse) -> None:
    f = write_csv(tmp_path / "export_1.csv", [member(household_id="H0")])
    s = ingest([f], wh, table="家庭成员表")
    assert s.counts()["members"] == {"read": 1, "accepted": 0, "rejected": 1}


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(ingest_cmd)
    return app


def test_cli_json_summary_and_exit_codes(round_2023: list[Path], tmp_path: Path, wh: Warehouse) -> None:
    bad = write_csv(tmp_path / "events.csv", [event(amount="-3"), event(event_type="death")])
    runner = CliRunner()
    r = runner.invoke(_app(), [*map(str, round_2023), str(bad), "--warehouse", str(wh.root), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"households": {"read": 2, "accepted": 2, "rejected": 0},
                                    "members": {"read": 5, "accepted": 5, "rejected": 0},
                                    "events": {"read": 2, "accepted": 1, "rejected": 1}}
    (tmp_path / "more").mkdir()
    extra = write_csv(tmp_path / "more" / "events.csv", [event(event_type="death", 备注="x")])
    r = runner.invoke(_app(), [str(extra)], env={"POVWATCH_WAREHOUSE": str(wh.root)})
    assert r.exit_code == 0 and "events: read 1, accepted 1, rejected 0" in r.stdout
    assert "not stored: 备注" in r.stdout
    (tmp_path / "gbk").mkdir()
    (tmp_path / "gbk" / "events.csv").write_bytes("户编号\n一户\n".encode("gbk"))
    r = runner.invoke(_app(), [str(tmp_path / "gbk" / "events.csv"), "--warehouse", str(wh.root)])
    assert r.exit_code == 2 and "not UTF-8" in r.stderr and "events.csv" in r.stderr


def test_each_event_keeps_the_date_it_first_arrived(tmp_path: Path, wh: Warehouse) -> None:
    import datetime as dt

    first = write_csv(tmp_path / "events.csv", [event()])
    ingest([first], wh, ingest_date=dt.date(2024, 1, 10))
    before = snapshot(wh.root)
    ingest([first], wh, ingest_date=dt.date(2024, 3, 1))  # the same delivery again: nothing changes
    assert snapshot(wh.root) == before
    later = write_csv(tmp_path / "events_more.csv",
                      [event(amount="99"), event(event_date="2023-05-02", event_type="job_loss")])
    ingest([later], wh, ingest_date=dt.date(2024, 3, 1))
    got = wh.event_arrivals().set_index("event_date")["ingested_on"]
    assert got[pd.Timestamp("2023-07-01")] == pd.Timestamp("2024-01-10")  # corrected, first arrival kept
    assert got[pd.Timestamp("2023-05-02")] == pd.Timestamp("2024-03-01")
    assert "ingested_on" not in wh.events().columns  # readers of the contract tables see the contract's columns


def test_a_warehouse_without_ingest_dates_stays_readable(tmp_path: Path, wh: Warehouse) -> None:
    import datetime as dt

    ingest([write_csv(tmp_path / "events.csv", [event()])], wh)
    path = next((wh.root / "events").glob("*/data.parquet"))
    pd.read_parquet(path).drop(columns="ingested_on").to_parquet(path)  # as written before dates were kept
    assert len(wh.events()) == 1
    assert wh.event_arrivals()["ingested_on"].isna().all()
    ingest([write_csv(tmp_path / "events_more.csv", [event(), event(event_date="2023-08-09")])], wh,
           ingest_date=dt.date(2024, 2, 2))
    got = wh.event_arrivals().set_index("event_date")["ingested_on"]
    assert pd.isna(got[pd.Timestamp("2023-07-01")])  # arrived before dates were kept: unknown, not guessed
    assert got[pd.Timestamp("2023-08-09")] == pd.Timestamp("2024-02-02")
