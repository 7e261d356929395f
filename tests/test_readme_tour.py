"""The README's tour, run as a reader would type it: every command of its ``bash`` blocks, in order, in a fresh
folder. Only the county is smaller (the simulate line's household count); the service is started in the
background and the ``curl`` example is sent to it. A command that fails, or a tour that names a village or a
household the simulator does not produce, fails the test."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_conventions import NOISE
from commands import child_server

ROOT = Path(__file__).parents[1]
TOUR_HOUSEHOLDS = "1200"   # the README's 20,000 households, scaled down for the suite


def tour_blocks() -> list[str]:
    """The ``bash`` blocks of the README's tour section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def commands(block: str) -> list[str]:
    """Commands of a block: comments dropped, backslash-free continuation lines joined (the curl example)."""
    out: list[str] = []
    for line in block.splitlines():
        code = line.split("  #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not code:
            continue
        if out and (line.startswith(" ") or out[-1].count("'") % 2 == 1):
            out[-1] += "\n" + code
        else:
            out.append(code)
    return out


@pytest.mark.server
@pytest.mark.timeout(1800)  # the whole chain, fifteen commands: past the suite's 900 s on a shared 2-core machine
def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    blocks = tour_blocks()
    assert len(blocks) >= 2, "the tour has a block of commands and a block with the service example"
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "POVWATCH_WAREHOUSE": str(tmp_path / "povwatch-data")}
    env.pop("MLFLOW_TRACKING_URI", None)
    port = child_server.free_port()
    server: subprocess.Popen | None = None
    serve_log = tmp_path.parent / f"{tmp_path.name}-serve.log"
    try:
        for cmd in commands(blocks[0]) + commands(blocks[1]):
            if cmd.startswith("export "):
                name, value = cmd.removeprefix("export ").split("=", 1)
                env[name] = str(tmp_path / value) if value.startswith("./") else value
                continue
            if cmd.startswith("mlflow ui"):
                continue  # a UI for people; the store it reads is checked by the train/promote steps
            if cmd.startswith("povwatch simulate"):
                cmd = re.sub(r"--households \d+", f"--households {TOUR_HOUSEHOLDS}", cmd)
            if cmd.startswith("povwatch serve"):
                args = shlex.split(re.sub(r"--port \d+", f"--port {port}", cmd))
                with serve_log.open("wb") as out:
                    server = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True)
                child_server.wait_ready(f"http://127.0.0.1:{port}/readyz", server, 180, serve_log)
                continue
            if cmd.startswith("curl"):
                cmd = cmd.replace("localhost:3000", f"127.0.0.1:{port}")
            proc = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=900, executable="/bin/bash")
            assert proc.returncode == 0, f"$ {cmd}\nexit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            assert "Traceback" not in proc.stdout + proc.stderr, f"$ {cmd}\n{proc.stderr[-2000:]}"
            for noise in NOISE:  # what the newcomer sees: povwatch's own lines only
                assert noise not in proc.stdout + proc.stderr, f"$ {cmd}\n{noise!r} in:\n{proc.stderr[-2000:]}"
            if cmd.startswith("curl"):
                result = json.loads(proc.stdout)["results"][0]
                assert 0 <= result["risk"] <= 1 and result["household_id"] == "H1"
        assert server is not None, "the tour starts the service"
        assert (tmp_path / "scores.csv").stat().st_size > 0
        assert any((tmp_path / "reports").glob("*.html"))
        assert "<html" in (tmp_path / "h.html").read_text(encoding="utf-8")
    finally:
        if server is not None:
            child_server.stop(server, group=True)
