"""The ``povwatch`` command behaves as command-line users expect: ``--version``, flags without placeholders, one
exit-code table, one-line errors that create nothing, no third-party noise, simulator output that ingests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.app import app
from commands.exit_codes import ExitCode
from tests.conftest import TEST_TRAIN_CONFIG, invoke

POVWATCH = str(Path(sys.executable).parent / "povwatch")


def run(args: list[str]):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_version() -> None:
    result = run(["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"povwatch {version('povwatch')}"


def test_help_shows_flags_without_placeholders() -> None:
    commands = [c.name for c in app.registered_commands]
    assert {"simulate", "ingest", "train", "promote", "score", "report", "serve"} <= set(commands)
    for args in ([], *([c] for c in commands)):
        result = run([*args, "--help"])
        assert result.exit_code == 0, args
        assert "<bool>" not in result.output, args
    assert "--force " in run(["promote", "--help"]).output


HEAVY = ("pandas", "numpy", "scipy", "sklearn", "lightgbm", "mlflow", "bentoml", "shap", "pandera", "pyarrow",
         "matplotlib", "sqlalchemy")


@pytest.mark.parametrize("args", [["--help"], ["score", "--help"], ["report", "--help"], ["serve", "--help"]])
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    """Help screens stay fast (bench/bench_cli_startup.py) because no command module imports a heavy library at
    its top: they are imported when a command runs."""
    probe = ("import sys\nfrom commands.app import app\ntry:\n    app()\nexcept SystemExit:\n    pass\n"
             f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []", (args, done.stdout.splitlines()[-1])


def test_exit_code_table_is_documented() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2]
    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| {int(code)} |" in doc


@pytest.mark.parametrize("args", [["score", "--round", "2024", "--out", "s.csv"], ["report", "--village", "X"],
                                  ["report", "--household", "H1"], ["train"], ["features", "--as-of", "2024-01-01",
                                                                               "--out", "f.csv"]])
def test_empty_warehouse_says_run_ingest_first_and_creates_nothing(args, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run([*args, "--warehouse", str(tmp_path / "wh")])
    assert result.exit_code == ExitCode.INPUT_ERROR, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "run `povwatch ingest" in lines[0], lines
    assert _files(tmp_path) == [], _files(tmp_path)


@pytest.fixture(scope="module")
def data_without_model(ingested_warehouse: Path, tmp_path_factory) -> Path:
    """The session's survey data, without any model registry."""
    wh = tmp_path_factory.mktemp("nomodel") / "wh"
    for table in ("households", "members", "events"):
        shutil.copytree(ingested_warehouse / table, wh / table)
    return wh


@pytest.mark.parametrize("args", [["score", "--round", "2024", "--out", "s.csv"], ["report", "--household", "H1"],
                                  ["promote"], ["serve", "--port", "1"]])
def test_missing_model_is_one_line_and_creates_no_store(args, data_without_model: Path, tmp_path: Path,
                                                        monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = _files(data_without_model)
    if args[0] == "serve":  # the port is checked first: give a free one
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            args = ["serve", "--port", str(s.getsockname()[1])]
    result = run([*args, "--warehouse", str(data_without_model)])
    assert result.exit_code == ExitCode.INPUT_ERROR, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no model registry" in lines[0] and "povwatch train" in lines[0], lines
    assert _files(data_without_model) == before and _files(tmp_path) == []


def test_busy_port_is_one_line(trained_warehouse: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["serve", "--port", str(port), "--warehouse", str(trained_warehouse)])
    assert result.exit_code == ExitCode.INPUT_ERROR
    assert result.output.strip() == (f"error: port {port} on 127.0.0.1 is in use; stop what uses it or choose "
                                     "another with --port")


def test_village_report_without_out_writes_a_folder(trained_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    newest = wh.round_ids()[-1]
    village = str(wh.households([newest], columns=["village"])["village"].iloc[0])
    monkeypatch.chdir(tmp_path)
    out = invoke(["report", "--village", village, "--warehouse", str(trained_warehouse)])
    assert (tmp_path / "reports" / "index.html").is_file(), out
    assert not (tmp_path / "report.html").exists()


def test_one_simulated_round_ingests(tmp_path: Path) -> None:
    invoke(["simulate", "--households", "120", "--rounds", "1", "--seed", "3", "--out", str(tmp_path / "raw")])
    out = invoke(["ingest", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "wh")])
    assert "households: read" in out and "rejected 0" in out


NOISE = ("[LightGBM]", "Failed to infer model signature", "Successfully registered", "Downloading artifacts",
         "Created version", "INFO mlflow", "alembic", "Traceback", "Warning")


def test_commands_print_no_third_party_noise(tmp_path: Path) -> None:
    """The real console script, as a user runs it: only povwatch's own lines on stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "POVWATCH_"))}
    (tmp_path / "train.json").write_text(TEST_TRAIN_CONFIG)
    wh = str(tmp_path / "wh")
    steps = [["simulate", "--households", "500", "--rounds", "3", "--seed", "4", "--out", str(tmp_path / "raw")],
             ["ingest", str(tmp_path / "raw"), "--warehouse", wh],
             ["train", "--warehouse", wh, "--config", str(tmp_path / "train.json")],
             ["promote", "--warehouse", wh]]
    for args in steps:
        done = subprocess.run([POVWATCH, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        for noise in NOISE:
            assert noise not in done.stdout + done.stderr, (args, noise, done.stdout, done.stderr)
