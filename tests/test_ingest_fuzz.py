"""File-level fuzzing of ingest with hypothesis: random corruptions of a valid CSV export never crash with a
traceback — a file is refused as a whole with a ``ContractError`` naming it, or every row read is accepted or
quarantined with a reason (read = accepted + rejected, for every table)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import invoke

TABLES = ("households", "members", "events")
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NASTY = ["", " ", "NaN", "null", "-1", "1e309", "2024-02-30", "是", "否", "Y", "住院", "脱贫户", "因病；因学", "x" * 300,
         "\ufeff", "1.5", "１２", "\"", ",", "\n", "110101199001011234", "9" * 30, "🙂"]


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> dict[str, str]:
    """A small valid export (CSV, Chinese headers and labels) as text, one entry per table."""
    out = tmp_path_factory.mktemp("export")
    invoke(["simulate", "--households", "40", "--rounds", "2", "--seed", "9", "--format", "csv", "--zh",
            "--out", str(out)])
    texts = {}
    for name in TABLES:
        path = next(p for p in out.iterdir() if p.suffix == ".csv" and _table_of(p.stem) == name)
        texts[name] = path.read_text(encoding="utf-8")
    return texts


def _table_of(stem: str) -> str | None:
    from features.data.contract import table_for_file

    t = table_for_file(stem)
    return t.name if t else None


@st.composite
def corruption(draw, texts: dict[str, str]) -> dict[str, bytes]:
    """The export with a few random edits: cells replaced, cells or lines removed or duplicated, a column
    dropped, bytes cut or replaced by non-UTF-8."""
    files = {}
    for name, text in texts.items():
        lines = text.splitlines()
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["cell", "cell", "drop_line", "dup_line", "drop_column", "garbage_line"]))
            row = draw(st.integers(0, len(lines) - 1))
            cells = lines[row].split(",")
            if kind == "cell":
                col = draw(st.integers(0, len(cells) - 1))
                cells[col] = draw(st.sampled_from(NASTY) | st.text(max_size=8))
                lines[row] = ",".join(cells)
            elif kind == "drop_line" and len(lines) > 1:
                del lines[row]
            elif kind == "dup_line":
                lines.insert(row, lines[row])
            elif kind == "drop_column":
                col = draw(st.integers(0, len(lines[0].split(",")) - 1))
                lines = [",".join(c for j, c in enumerate(line.split(",")) if j != col) for line in lines]
            elif kind == "garbage_line":
                lines.insert(row, draw(st.text(max_size=40)))
        data = ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")
        cut = draw(st.sampled_from([None, None, None, "truncate", "gbk"]))
        if cut == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif cut == "gbk":
            data = data.decode("utf-8", errors="ignore").encode("gb18030", errors="ignore")
        files[name] = data
    return files


def test_corrupted_exports_are_refused_cleanly_or_fully_accounted(export: dict[str, str], tmp_path: Path) -> None:
    from features.data.ingest import ingest
    from features.data.pii import MissingIdKeyError
    from features.data.validate import ContractError
    from features.data.warehouse import Warehouse

    @SETTINGS
    @given(corruption(export))
    def check(files: dict[str, bytes]) -> None:
        folder, wh = tmp_path / "in", tmp_path / "wh"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(wh, ignore_errors=True)
        folder.mkdir()
        for name, data in files.items():
            (folder / f"{name}.csv").write_bytes(data)
        try:
            summary = ingest([folder], Warehouse(wh))
        except (ContractError, MissingIdKeyError) as e:
            message = str(e)
            assert message and "Traceback" not in message
            assert any(f"{name}.csv" in message for name in files) or "no table files" in message, message
            return
        for name, s in summary.tables.items():
            assert s.read == s.accepted + s.rejected, (name, s)
            quarantined = sum(len(pd.read_parquet(q)) for q in s.quarantine_files)
            assert quarantined == s.rejected, (name, s)  # every rejected row is kept, with its reason
            if s.rejected:
                reasons = pd.concat([pd.read_parquet(q) for q in s.quarantine_files])["reason"]
                assert reasons.notna().all() and (reasons.str.len() > 0).all()

    check()
