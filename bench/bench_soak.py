"""Soak of ``povwatch serve --workers 2``: mixed traffic (bench/soak.py) from two clients for ``--minutes``.

Reports requests and statuses, one-household ``/score`` p99 in the first and the last minute, and the server's
RSS (all processes) at the start and the end. Figures in docs/performance.md.

    .venv/bin/python -m bench.bench_soak --minutes 10 --households 2500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


from bench.common import simulated_warehouse
from commands import child_server
from bench.soak import soak


def _documents(warehouse: Path, n: int) -> list[dict]:
    import pandas as pd

    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(warehouse)
    as_of = (wh.rounds()["last_date"].max() + pd.Timedelta(days=60)).normalize()
    ids = sorted(wh.households()["household_id"].unique())[:n]
    return household_documents(wh, ids, as_of)


def main(minutes: float = 10.0, households: int = 2500) -> dict[str, float]:
    warehouse = simulated_warehouse(households, 4, trained=True)
    docs = _documents(warehouse, 60)
    port = child_server.free_port()
    povwatch = str(Path(sys.executable).parent / "povwatch")
    proc = subprocess.Popen([povwatch, "serve", "--port", str(port), "--workers", "2", "--warehouse", str(warehouse)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        child_server.wait_ready(f"{url}/readyz", proc, 180)
        seconds = minutes * 60
        result = soak(url, docs, seconds=seconds, clients=2, server_pid=proc.pid)
    finally:
        child_server.stop(proc, grace=60)
    window = min(60.0, seconds / 4)
    rss = [mb for t, mb in result.rss_mb if t >= window]  # after the first window: warmed up
    out = {"requests": float(sum(result.statuses.values())), "5xx": float(result.server_errors()),
           "failed connections": float(len(result.failures)),
           "p99 one-household /score first window ms": 1000 * result.p99(0, window),
           "p99 one-household /score last window ms": 1000 * result.p99(seconds - window, seconds),
           "RSS after first window MB": rss[0] if rss else float("nan"), "RSS end MB": rss[-1] if rss else float("nan")}
    out["p99 last/first"] = out["p99 one-household /score last window ms"] / out["p99 one-household /score first window ms"]
    out["RSS growth %"] = 100 * (out["RSS end MB"] / out["RSS after first window MB"] - 1)
    for name, value in out.items():
        print(f"{name:<45} {value:,.2f}")
    print("statuses:", dict(result.statuses))
    for failure in result.failures[:20]:  # what a failed request was: a timeout, a reset, a wrong status
        print("failed:", failure)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--households", type=int, default=2500)
    args = parser.parse_args()
    main(args.minutes, args.households)
