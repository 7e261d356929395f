"""Where ``povwatch score`` spends its CPU: ``score_warehouse`` on a warehouse with a champion, timed (wall and
CPU of the process, all threads) and profiled with cProfile on CPU time — on a shared machine wall time is
mostly waiting, CPU time is what the work costs.

    python -m bench.profile_score WAREHOUSE [--round R] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path


def main() -> None:
    from features.data.as_of import resolve_as_of
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from serving.batch import score_warehouse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--round", default=None, help="round to score (default: the newest)")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print")
    args = parser.parse_args()
    wh = Warehouse(args.warehouse)
    model = load_risk_model(args.warehouse, "champion")
    when = resolve_as_of(wh, args.round or wh.round_ids()[-1], None)
    score_warehouse(model, wh, when=when)  # warm: imports, caches
    cpu, wall = time.process_time(), time.perf_counter()
    scores, _ = score_warehouse(model, wh, when=when)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{len(scores):,} households: {wall:.2f} s wall ({len(scores) / wall:,.0f}/s), {cpu:.2f} s CPU "
          f"({len(scores) / cpu:,.0f} per CPU-second), reasons for the top 20%")
    profile = cProfile.Profile(time.process_time)
    profile.runcall(score_warehouse, model, wh, when=when)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
