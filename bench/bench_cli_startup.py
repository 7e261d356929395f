"""Start-up time of the ``povwatch`` command: ``--help``, ``score --help`` and ``--version`` as a user types them.

Each is run as a fresh process (the real console script), ``--repeats`` times; the median and the fastest are
reported with the time Python alone takes to start (``python -c pass``), so the CLI's own share is visible.
Heavy libraries (pandas, MLflow, LightGBM, BentoML) are imported inside the commands, never by ``--help``.

    .venv/bin/python -m bench.bench_cli_startup --repeats 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS = {"python -c pass": [sys.executable, "-c", "pass"],
            "povwatch --help": [str(BIN / "povwatch"), "--help"],
            "povwatch score --help": [str(BIN / "povwatch"), "score", "--help"],
            "povwatch --version": [str(BIN / "povwatch"), "--version"]}


# As on a user's machine, Python may cache compiled modules (a PYTHONDONTWRITEBYTECODE=1 shell would make every
# start recompile ~300 modules: 2-3 s more); the Makefile also installs with compiled bytecode.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _once(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU time is less disturbed by other work on a shared machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(repeats: int = 5) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, cmd in COMMANDS.items():
        _once(cmd)  # warm the file cache and the bytecode cache
        runs = [_once(cmd) for _ in range(repeats)]
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        out[f"{name} median wall s"] = statistics.median(wall)
        out[f"{name} median cpu s"] = statistics.median(cpu)
        print(f"{name:<24} wall median {statistics.median(wall):.3f} s (fastest {min(wall):.3f})   "
              f"cpu median {statistics.median(cpu):.3f} s")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
