"""Ingest under faults: killed at random points the warehouse reads as the old or the new state, never a mix;
two ingests into one warehouse never interleave (a lock: the second waits and says so)."""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import invoke

POVWATCH = str(Path(sys.executable).parent / "povwatch")
TRIALS = 20


def snapshot(root: Path) -> str:
    """A digest of every survey table as a reader sees it (opening the warehouse finishes a killed commit)."""
    from features.data.warehouse import Warehouse

    wh = Warehouse(root)
    digest = hashlib.sha256()
    for name, frame in (("households", wh.households()), ("members", wh.members()), ("events", wh.events())):
        frame = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)
        digest.update(name.encode() + frame.to_csv(index=False).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> dict[str, Path]:
    """``old``: a warehouse with one round; ``batch``: files that replace that round and add a second."""
    root = tmp_path_factory.mktemp("faults")
    invoke(["simulate", "--households", "300", "--rounds", "1", "--seed", "1", "--out", str(root / "first")])
    invoke(["simulate", "--households", "300", "--rounds", "2", "--seed", "2", "--out", str(root / "batch")])
    for f in (root / "batch").glob("truth*"):
        f.unlink()
    invoke(["ingest", str(root / "first"), "--warehouse", str(root / "old")])
    return {"old": root / "old", "batch": root / "batch", "root": root}


def _ingest(warehouse: Path, batch: Path) -> subprocess.Popen:
    return subprocess.Popen([POVWATCH, "ingest", str(batch), "--warehouse", str(warehouse)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_ingest_leaves_old_or_new_state(batches: dict[str, Path]) -> None:
    root = batches["root"]
    old = snapshot(batches["old"])
    reference = root / "new"
    shutil.copytree(batches["old"], reference)
    start = time.monotonic()
    done = _ingest(reference, batches["batch"])
    assert done.wait(timeout=600) == 0, done.communicate()
    duration = time.monotonic() - start
    new = snapshot(reference)
    assert new != old
    rng = random.Random(13)
    seen = {"old": 0, "new": 0}
    for trial in range(TRIALS):
        wh = root / f"trial-{trial}"
        shutil.copytree(batches["old"], wh)
        proc = _ingest(wh, batches["batch"])
        time.sleep(rng.uniform(0.3, 1.0) * duration)  # from start-up to the last renames
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = snapshot(wh)
        assert state in (old, new), f"trial {trial}: the warehouse is neither the old nor the new state"
        seen["old" if state == old else "new"] += 1
        shutil.rmtree(wh)
    print(f"killed ingests: {seen}")


def test_second_ingest_waits_for_the_first(batches: dict[str, Path], tmp_path: Path) -> None:
    from features.data.warehouse import Warehouse

    wh = tmp_path / "wh"
    shutil.copytree(batches["old"], wh)
    err_file = tmp_path / "stderr.txt"
    message = f"waiting for another ingest into {wh} to finish"
    with Warehouse(wh).lock(), err_file.open("w") as err:  # another writer holds the warehouse
        proc = subprocess.Popen([POVWATCH, "ingest", str(batches["batch"]), "--warehouse", str(wh)],
                                stdout=subprocess.PIPE, stderr=err, text=True)
        deadline = time.monotonic() + 300
        while message not in err_file.read_text():
            assert proc.poll() is None, err_file.read_text()  # it waits instead of interleaving
            assert time.monotonic() < deadline, "the second ingest never reached the lock"
            time.sleep(0.2)
        time.sleep(1)
        assert proc.poll() is None
        assert snapshot(wh) == snapshot(batches["old"])  # nothing written while the lock is held
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, err_file.read_text()
    assert "households: read" in out
