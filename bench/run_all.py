"""``make bench``: run every bench script in one process and write the figures into docs/performance.md.

Each ``bench/bench_<topic>.py`` exposes ``main() -> dict[str, float]`` and prints its own table. This script
collects the returned figures, prints one summary, saves ``bench/results.json`` and rewrites the block between
``<!-- perf:start -->`` and ``<!-- perf:end -->`` in README.md, so the README always shows the latest run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["simulator", "ingest", "indicators", "training", "explain", "scoring", "service", "cases"]
START, END = "<!-- perf:start -->", "<!-- perf:end -->"


def machine() -> str:
    import psutil

    mem = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def render(results: dict[str, dict[str, float]]) -> str:
    lines = [START, "", f"Latest `make bench` ({date.today().isoformat()}; {machine()}):", "",
             "| bench | figure | value |", "|---|---|---|"]
    for topic, figures in results.items():
        for name, value in figures.items():
            shown = f"{value:,.3f}" if isinstance(value, float) and abs(value) < 100 else f"{value:,.0f}" \
                if isinstance(value, (int, float)) else str(value)
            lines.append(f"| {topic} | {name} | {shown} |")
    lines += ["", END]
    return "\n".join(lines)


def update_readme(block: str, start: str = START, end: str = END, page: str = "README.md") -> None:
    """Replace the block between ``start`` and ``end`` (``block`` includes both markers) of the README or of
    another page (``page`` relative to the repository root)."""
    readme = ROOT / page
    text = readme.read_text(encoding="utf-8")
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(head + block + tail, encoding="utf-8")


def main(topics: list[str]) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for topic in topics:
        module = importlib.import_module(f"bench.bench_{topic}")
        print(f"\n=== bench {topic} ===", flush=True)
        t0 = time.perf_counter()
        results[topic] = {k: v for k, v in module.main().items()}
        print(f"(bench {topic} took {time.perf_counter() - t0:.0f} s)", flush=True)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1))
    block = render(results)
    print("\n" + block)
    update_readme(block, page="docs/performance.md")
    return results


if __name__ == "__main__":
    main(sys.argv[1:] or TOPICS)
