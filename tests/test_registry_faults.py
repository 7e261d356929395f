"""``train`` and ``promote`` killed (SIGKILL) mid-run leave the registry's aliases as they were.

A real MLflow SQLite store in a fresh warehouse; the commands run as separate processes (the console script) and
are killed at several points: during start-up, part-way through by time, and — for ``train`` — the moment its
MLflow run starts writing artifacts and the moment the model itself is being logged and registered (the last
step before the aliases move). Afterwards the aliases are exactly as before, or exactly as a completed command
leaves them (the kill came after the alias moved), and the champion still loads.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import invoke

POVWATCH = str(Path(sys.executable).parent / "povwatch")


def aliases(warehouse: Path) -> dict[str, str]:
    """alias -> version, as a fresh reader sees the store."""
    from models.registry import MODEL_NAME, reader

    return {k: str(v) for k, v in reader(warehouse).get_registered_model(MODEL_NAME).aliases.items()}


def _files(warehouse: Path, pattern: str) -> int:
    return sum(1 for _ in (warehouse / "mlartifacts").rglob(pattern))


def _start(args: list[str], warehouse: Path, config: Path | None = None) -> subprocess.Popen:
    extra = ["--config", str(config)] if config else []
    return subprocess.Popen([POVWATCH, *args, "--warehouse", str(warehouse), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 600) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False when the process ended first (nothing to kill)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        assert time.monotonic() < deadline, "the command neither finished nor reached the kill point"
        time.sleep(0.02)
    return False


def _timed(args: list[str], warehouse: Path, config: Path | None = None) -> float:
    start = time.monotonic()
    proc = _start(args, warehouse, config)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    return time.monotonic() - start


def _champion_loads(warehouse: Path, version: str) -> None:
    from models.registry import load_risk_model

    assert load_risk_model(warehouse, "champion").model_version == version


# Training is run many times here: a small county and a lean config (the faults are about the registry writes at
# the end of a run, not about the model).
FAST = ('{"num_boost_round": 60, "early_stopping_rounds": 10, "quarterly": false, "bootstrap_replicates": 50, '
        '"min_test_rows": 20, "audit": {"n_boot": 20}, "selection": {"candidates": ["lightgbm", "rule"]}}')


@pytest.fixture(scope="module")
def train_config_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("registry-faults-config") / "train.json"
    path.write_text(FAST)
    return path


@pytest.fixture(scope="module")
def registry_warehouse(train_config_file: Path, tmp_path_factory) -> Path:
    """A small county's warehouse of its own (the session's registry stays untouched) with v1 trained:
    @champion @challenger."""
    root = tmp_path_factory.mktemp("registry-faults")
    invoke(["simulate", "--households", "800", "--rounds", "4", "--seed", "3", "--out", str(root / "raw")])
    wh = root / "warehouse"
    invoke(["ingest", str(root / "raw"), "--warehouse", str(wh)])
    shutil.copy(next((root / "raw").glob("truth*.parquet")), wh / "truth.parquet")
    invoke(["train", "--warehouse", str(wh), "--config", str(train_config_file)])
    assert aliases(wh) == {"champion": "1", "challenger": "1"}
    return wh


def test_killed_train_leaves_aliases_as_they_were(registry_warehouse: Path, train_config_file: Path) -> None:
    wh = registry_warehouse
    duration = _timed(["train"], wh, train_config_file)  # a complete run: v2 becomes @challenger
    assert aliases(wh) == {"champion": "1", "challenger": "2"}
    runs, models = _files(wh, "*"), _files(wh, "MLmodel")
    kill_points: dict[str, Callable[[float], Callable[[], bool]]] = {
        "start-up": lambda t0: lambda: time.monotonic() - t0 > 0.5,
        "half-way": lambda t0: lambda: time.monotonic() - t0 > 0.5 * duration,
        "run logging artifacts": lambda t0: lambda: _files(wh, "*") > runs,
        "model being logged and registered": lambda t0: lambda: _files(wh, "MLmodel") > models,
    }
    killed = []
    for name, point in kill_points.items():
        before = aliases(wh)
        runs, models = _files(wh, "*"), _files(wh, "MLmodel")
        proc = _start(["train"], wh, train_config_file)
        if _kill_when(proc, point(time.monotonic())):
            killed.append(name)
        after = aliases(wh)
        if after != before:  # only a command that got past its last step may have moved them
            from models.registry import MODEL_NAME, reader

            newest = max(int(v.version) for v in reader(wh).search_model_versions(f"name='{MODEL_NAME}'"))
            assert after == {**before, "challenger": str(newest)}, (name, before, after)
        _champion_loads(wh, after["champion"])
    assert len(killed) >= 3, f"killed only at {killed}"


def test_killed_promote_leaves_aliases_as_they_were(registry_warehouse: Path, train_config_file: Path) -> None:
    wh = registry_warehouse
    if aliases(wh)["challenger"] == aliases(wh)["champion"]:
        _timed(["train"], wh, train_config_file)
    start = aliases(wh)
    assert start["champion"] != start["challenger"]
    # how long a forced promotion takes (the gate is computed, then the alias moves), measured on a copy of the
    # warehouse (its store still reads the models' artifacts where they are)
    probe = wh.parent / "probe"
    shutil.copytree(wh, probe)
    duration = _timed(["promote", "--force"], probe)
    shutil.rmtree(probe)
    killed = []
    for share in (0.0, 0.4, 0.8):
        before = aliases(wh)
        t0 = time.monotonic()
        proc = _start(["promote", "--force"], wh)
        if _kill_when(proc, lambda: time.monotonic() - t0 > max(0.3, share * duration)):
            killed.append(share)
        after = aliases(wh)
        assert after in (before, {**before, "champion": before["challenger"]}), (share, before, after)
        _champion_loads(wh, after["champion"])
        if after != before:  # it completed: start the next trial from a champion that differs again
            _timed(["train"], wh, train_config_file)
    assert len(killed) >= 2, f"killed only at {killed}"
