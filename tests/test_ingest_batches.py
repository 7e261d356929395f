"""Ingest reads files a record batch at a time: the warehouse, the quarantine and the counts are those of
reading each file whole, whatever the batch size (repeated keys across batches and across files included)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.data.ingest import ingest
from features.data.warehouse import Warehouse
from tests.test_contract import event, member
from tests.test_ingest import family, snapshot, write_csv


def delivery(folder: Path) -> list[Path]:
    """Two rounds of households and members (CSV and Parquet) with faults spread over many small batches:
    unreadable values, a key repeated far apart in one file and across two files, a size mismatch, an orphan
    member, a member of a rejected household, a too-early survey date; and events with a bad type."""
    folder.mkdir()
    hh, mem = [], []
    for i in range(30):
        h, ms = family(f"H{i:02d}", size=1 + i % 3)
        hh.append(h)
        mem += ms
    hh[4]["wage_income"] = "-5"                    # rejected: its members follow it to quarantine
    hh[9]["household_size"] = "7"                  # size mismatch
    hh.append(dict(hh[2]))                         # H02 twice in one file, batches apart
    mem.append(member(household_id="H99", round_id="2023", member_id="H99-0"))  # no households row
    mem[5]["age"] = "abc"                          # unreadable: its household's round is incomplete
    mem.insert(0, dict(mem[-2]))                   # a member key twice, first and near the last row
    later = [family(f"H{i:02d}", round_id="2024", date="2024-03-15", size=2) for i in range(12)]
    h24 = [h for h, _ in later]
    h24[3]["survey_date"] = "2022-01-01"          # before its 2023 round
    m24 = [m for _, ms in later for m in ms]
    extra_h, extra_m = family("H05", round_id="2024", date="2024-03-15", size=2)  # H05 2024 in two files too
    pd.DataFrame(h24).to_parquet(folder / "households_2024.parquet", index=False)
    files = [write_csv(folder / "households_2023.csv", hh), write_csv(folder / "members_2023.csv", mem),
             folder / "households_2024.parquet", write_csv(folder / "members_2024.csv", m24),
             write_csv(folder / "households_2024_late.csv", [extra_h]),
             write_csv(folder / "events.csv", [event(household_id=f"H{i:02d}", event_date=f"2024-01-{i + 1:02d}")
                                               for i in range(20)] + [event(event_type="lottery")])]
    return files


def quarantine(root: Path) -> dict[str, pd.DataFrame]:
    return {str(p.relative_to(root)): pd.read_parquet(p) for p in sorted((root / "quarantine").rglob("*.parquet"))}


@pytest.mark.parametrize("batch_rows", [1, 4, 7])
def test_tiny_batches_give_the_whole_file_result(tmp_path: Path, batch_rows: int) -> None:
    files = delivery(tmp_path / "in")
    whole, small = Warehouse(tmp_path / "whole"), Warehouse(tmp_path / "small")
    s_whole = ingest(files, whole, ingest_date=pd.Timestamp("2024-06-01").date())
    s_small = ingest(files, small, ingest_date=pd.Timestamp("2024-06-01").date(), batch_rows=batch_rows)
    assert s_small.counts() == s_whole.counts()
    assert {n: t.top_reasons for n, t in s_small.tables.items()} == {n: t.top_reasons for n, t in s_whole.tables.items()}
    assert s_whole.counts()["households"]["rejected"] >= 5 and s_whole.counts()["members"]["rejected"] >= 5
    rules = set(pd.concat(quarantine(whole.root).values())["rule"].str.split("; ").explode())
    assert {"duplicate_key", "household_size", "household_exists", "household_rejected", "household_incomplete",
            "survey_date_order", "enum:event_type"} <= rules, rules
    assert snapshot(small.root).keys() == snapshot(whole.root).keys()
    for name, frame in quarantine(whole.root).items():
        pd.testing.assert_frame_equal(quarantine(small.root)[name], frame)
    for read in ("households", "members", "events"):
        pd.testing.assert_frame_equal(getattr(small, read)(), getattr(whole, read)())
    assert {k: v for k, v in snapshot(small.root).items() if "quarantine" not in k} == \
        {k: v for k, v in snapshot(whole.root).items() if "quarantine" not in k}
