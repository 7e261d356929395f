"""A 60-second soak of ``povwatch serve --workers 2``: mixed traffic from two clients (single and 1,000-household
``/score``, ``/explain``, ``/report``, 5 % bad requests) — no 5xx, no failed connection, no crash. The 10-minute
version with figures is ``bench/bench_soak.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import soak
from tests.test_hot_reload import _serve
from tests.test_service import docs  # noqa: F401  (docs is a fixture)
from commands import child_server

SECONDS = 60


@pytest.mark.server
def test_sixty_second_soak_has_no_server_errors(trained_warehouse: Path, docs, tmp_path: Path) -> None:  # noqa: F811
    port = child_server.free_port()
    log = tmp_path / "serve.log"
    proc = _serve(trained_warehouse, port, log, interval=30, workers=2)
    try:
        result = soak(f"http://127.0.0.1:{port}", docs, seconds=SECONDS, clients=2, server_pid=proc.pid)
        assert proc.poll() is None, log.read_text()
    finally:
        child_server.stop(proc)
    assert result.failures == [], result.failures[:5]
    assert result.server_errors() == 0, result.statuses
    assert set(result.statuses) <= {200, 400}, result.statuses
    assert result.statuses[200] > 0 and result.statuses[400] > 0  # both kinds of traffic were sent
    assert "Traceback" not in log.read_text()
