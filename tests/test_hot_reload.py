"""Zero-downtime promotion: a running ``povwatch serve`` picks up a new @champion without a restart and without
failing a request, on SIGHUP and on its interval (serving/hot_reload.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.test_service import docs  # noqa: F401  (docs is a fixture)
from commands import child_server

POVWATCH = str(Path(sys.executable).parent / "povwatch")


@pytest.fixture()
def two_versions(trained_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the session's warehouse whose registry holds version 1 (@champion) and a second version of the
    same model (@challenger), so that the promotion gate passes. The session's own registry is not touched."""
    from models.registry import CHALLENGER, CHAMPION, MODEL_NAME, connect, resolve, set_alias

    wh = tmp_path / "wh"
    shutil.copytree(trained_warehouse, wh, ignore=shutil.ignore_patterns("bentoml", "quarantine"))
    client = connect(wh, create=False)
    first = client.get_model_version(MODEL_NAME, resolve(client, CHAMPION).version)
    second = client.create_model_version(MODEL_NAME, source=first.source, run_id=first.run_id)
    set_alias(client, CHALLENGER, second.version)
    return wh


def _serve(wh: Path, port: int, log: Path, interval: float, workers: int = 1) -> subprocess.Popen:
    """``povwatch serve`` on ``port``, once it answers /readyz."""
    with log.open("wb") as out:
        proc = subprocess.Popen([POVWATCH, "serve", "--port", str(port), "--warehouse", str(wh), "--workers",
                                 str(workers), "--reload-interval", str(interval)], stdout=out,
                                stderr=subprocess.STDOUT)
    child_server.wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 180, log)
    return proc


class Caller(threading.Thread):
    """Sends /score requests back to back and records (status, model_version) of each answer."""

    def __init__(self, url: str, doc: dict) -> None:
        super().__init__(daemon=True)
        self.url, self.doc = url, doc
        self.answers: list[tuple[int, str | None]] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.done.is_set():
                try:
                    r = client.post(f"{self.url}/score", json={"households": [self.doc]})
                    version = r.json().get("model_version") if r.status_code == 200 else None
                    self.answers.append((r.status_code, version))
                except httpx.HTTPError as e:
                    self.failures.append(f"{type(e).__name__}: {e}")

    def versions(self) -> list[str | None]:
        return [v for _, v in self.answers]


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.server
def test_promotion_under_load_switches_on_sighup_without_errors(two_versions: Path, docs, tmp_path: Path) -> None:  # noqa: F811
    port = child_server.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(two_versions, port, tmp_path / "serve.log", interval=0)  # interval off: only SIGHUP reloads
    caller = Caller(url, docs[0])
    try:
        assert httpx.get(f"{url}/model").json()["version"] == "1"
        caller.start()
        _wait_for(lambda: len(caller.answers) >= 5, 60, "first answers")
        # --force: this test is about the swap, not the gate (two near-identical models may tie with the rule)
        promoted = subprocess.run([POVWATCH, "promote", "--force", "--warehouse", str(two_versions)],
                                  capture_output=True, text=True, timeout=600)
        assert promoted.returncode == 0, promoted.stdout + promoted.stderr
        seen = len(caller.answers)
        time.sleep(3)  # without a SIGHUP (and with the interval off) the old champion keeps answering
        assert set(caller.versions()[seen:]) == {"1"}
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: "2" in caller.versions(), 120, "answers from version 2")
        switched = len(caller.answers)
        _wait_for(lambda: len(caller.answers) >= switched + 5, 60, "answers after the switch")
    finally:
        caller.done.set()
        caller.join(timeout=60)
        child_server.stop(proc)
    assert caller.failures == []
    assert {status for status, _ in caller.answers} == {200}
    versions = caller.versions()
    first_new = versions.index("2")
    assert set(versions[:first_new]) == {"1"} and set(versions[first_new:]) == {"2"}  # one switch, no flapping
    assert proc.returncode == 0


def test_watcher_follows_the_alias_on_its_interval(two_versions: Path) -> None:
    """The interval path, in process on the real registry: moving @champion is picked up within a few ticks."""
    from serving.hot_reload import ChampionWatcher
    from models.registry import CHAMPION, connect, set_alias

    swapped: list[str] = []
    watcher = ChampionWatcher(two_versions, CHAMPION, "1", lambda m: swapped.append(str(m.model_version)),
                              interval=0.5).start()
    try:
        time.sleep(1.5)
        assert swapped == []  # nothing moved, nothing loaded
        set_alias(connect(two_versions, create=False), CHAMPION, "2")
        _wait_for(lambda: swapped == ["2"], 120, "the watcher to load version 2")
        assert watcher.version == "2"
    finally:
        watcher.stop()


def test_a_failed_lookup_keeps_the_model(two_versions: Path, tmp_path: Path) -> None:
    from serving.hot_reload import ChampionWatcher

    swapped: list[object] = []
    watcher = ChampionWatcher(tmp_path / "no-registry", "champion", "1", swapped.append, interval=0)
    assert watcher.check() is False and swapped == [] and watcher.version == "1"
    assert not (tmp_path / "no-registry").exists()
    assert os.environ.get("POVWATCH_RELOAD_TRIGGER") is None
