"""How fast ``povwatch simulate`` runs and how much memory it holds: 50k households x 5 rounds, in memory
(the Python API) and to Parquet files (the CLI path), with the Monte Carlo truth (32 replicates) included.

Run: ``.venv/bin/python -m bench.bench_simulator``. Peak memory is the process's peak RSS growth during each
measurement (a new process per case, so one case's peak does not hide the next's).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

HOUSEHOLDS = 50_000
ROUNDS = 5
SEED = 1


def _case(kind: str, queue: mp.Queue) -> None:
    from features.simulator.run import simulate
    from features.simulator.truth import DEFAULT_REPLICATES
    from features.simulator.writer import RoundWriter

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    rows = 0
    if kind == "api":
        for r in simulate(HOUSEHOLDS, ROUNDS, SEED):
            rows += len(r.households)
    elif kind == "no_truth":
        for r in simulate(HOUSEHOLDS, ROUNDS, SEED, replicates=1):
            rows += len(r.households)
    else:
        with tempfile.TemporaryDirectory() as d, RoundWriter(Path(d), "parquet") as w:
            for r in simulate(HOUSEHOLDS, ROUNDS, SEED):
                for table in ("households", "members", "events"):
                    w.write(table, getattr(r, table))
                w.write_truth(r.truth)
                rows += len(r.households)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": seconds, "household_rounds": rows, "peak_rss_mb": peak / 1024,
               "rss_growth_mb": (peak - base) / 1024, "replicates": 1 if kind == "no_truth" else DEFAULT_REPLICATES})


def _run(kind: str) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=_case, args=(kind, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> dict[str, float]:
    """Measure, print a table and return the figures (keys: ``<case>_<measure>``)."""
    figures: dict[str, float] = {}
    print(f"simulate {HOUSEHOLDS:,} households x {ROUNDS} rounds (seed {SEED}), 1 process each case")
    print(f"{'case':<28}{'seconds':>9}{'household-rounds/s':>20}{'peak RSS MB':>13}{'RSS growth MB':>15}")
    for kind, label in (("api", "API, truth 32 replicates"), ("no_truth", "API, truth 1 replicate"),
                        ("parquet", "to Parquet, truth 32 repl.")):
        r = _run(kind)
        rate = r["household_rounds"] / r["seconds"]
        print(f"{label:<28}{r['seconds']:>9.1f}{rate:>20,.0f}{r['peak_rss_mb']:>13,.0f}{r['rss_growth_mb']:>15,.0f}")
        figures.update({f"{kind}_seconds": r["seconds"], f"{kind}_household_rounds_per_s": rate,
                        f"{kind}_peak_rss_mb": r["peak_rss_mb"]})
    return figures


if __name__ == "__main__":
    main()
