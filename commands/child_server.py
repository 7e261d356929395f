"""A server run as a child process (``povwatch serve``, ``mlflow server``): pick a free port, wait until it
answers, stop it. One implementation for the demo, the benches and the tests that start real servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class NotReady(RuntimeError):
    """The child exited, or did not answer 200 within the time allowed."""


def free_port() -> int:
    """A loopback port free at the time of the call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float, log: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; fail at once if ``proc`` exits (with the tail of ``log``)."""
    import httpx

    def tail() -> str:
        return f":\n{log.read_text(errors='replace')[-3000:]}" if log is not None and log.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotReady(f"the server exited with code {proc.returncode} before it was ready{tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise NotReady(f"{url} did not answer within {timeout:.0f} s{tail()}")


def stop(proc: subprocess.Popen, grace: float = 30, group: bool = False) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL after ``grace`` seconds; ``group``: signal the child's whole
    process group (a child started with ``start_new_session=True`` and its own workers)."""
    if proc.poll() is not None:
        return

    def send(sig: int) -> None:
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()
