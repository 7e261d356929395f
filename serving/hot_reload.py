"""Zero-downtime promotion: a running service follows its registry alias (``@champion``) without a restart.

Each service worker runs one ``ChampionWatcher`` thread. It looks up the version behind the alias every
``interval`` seconds (``POVWATCH_RELOAD_SECONDS``, default 30; 0 turns the interval off) and at once when the
trigger file changes (``povwatch serve`` touches it on ``SIGHUP``: a signal cannot be sent to the workers
themselves, whose server treats ``SIGHUP`` as "stop"). A new version is loaded beside the old model — which keeps
answering meanwhile — and then swapped in with one attribute assignment; a request holds the model it started
with, so no request ever sees half of each. A failed look-up or load is logged and the old model stays.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RELOAD_SECONDS_ENV = "POVWATCH_RELOAD_SECONDS"
RELOAD_TRIGGER_ENV = "POVWATCH_RELOAD_TRIGGER"
DEFAULT_RELOAD_SECONDS = 30.0
TICK_SECONDS = 0.5  # how often the trigger file is looked at (one stat call)

log = logging.getLogger("bentoml.povwatch.reload")


def reload_seconds() -> float:
    return float(os.environ.get(RELOAD_SECONDS_ENV, DEFAULT_RELOAD_SECONDS))


def trigger_path() -> Path | None:
    value = os.environ.get(RELOAD_TRIGGER_ENV)
    return Path(value) if value else None


def request_reload(trigger: Path) -> None:
    """Ask every watcher on ``trigger`` to look at the registry now (what ``SIGHUP`` does)."""
    trigger.parent.mkdir(parents=True, exist_ok=True)
    trigger.write_text(str(time.time_ns()))


class ChampionWatcher:
    """Follows ``alias`` in the registry of ``warehouse`` and hands each newly loaded model to ``swap``."""

    def __init__(self, warehouse: Path, alias: str, current_version: str, swap: Callable[[Any], None], *,
                 interval: float, trigger: Path | None = None) -> None:
        self.warehouse, self.alias, self.version = Path(warehouse), alias, str(current_version)
        self.swap, self.interval, self.trigger = swap, interval, trigger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="povwatch-champion-watcher", daemon=True)
        self._seen = self._stamp()

    def start(self) -> "ChampionWatcher":
        if self.interval > 0 or self.trigger is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _stamp(self) -> int | None:
        try:
            return self.trigger.stat().st_mtime_ns if self.trigger is not None else None
        except OSError:
            return None

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(TICK_SECONDS):
            stamp = self._stamp()
            due = self.interval > 0 and time.monotonic() - last >= self.interval
            if stamp != self._seen or due:
                self._seen, last = stamp, time.monotonic()
                self.check()

    def check(self) -> bool:
        """Look the alias up now; load and swap in a new version. True when the model changed."""
        from models.registry import load_risk_model, reader, resolve

        try:
            version = resolve(reader(self.warehouse), self.alias).version
            if version == self.version:
                return False
            log.info("%s moved to version %s (serving %s); loading it", self.alias, version, self.version)
            model = load_risk_model(self.warehouse, self.alias)
        except Exception as e:  # noqa: BLE001 — keep serving the model in hand, say why
            log.warning("could not check or load @%s: %s: %s; still serving version %s", self.alias,
                        type(e).__name__, e, self.version)
            return False
        self.swap(model)
        self.version = str(model.model_version)
        log.info("now serving @%s version %s", self.alias, self.version)
        return True
