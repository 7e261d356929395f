"""``make bench-scale``: how ingest and scoring grow with the county — the scale table of docs/performance.md.

For each size: simulate (not timed), then time ``povwatch ingest`` and ``povwatch score --round <newest>`` as
separate processes, sampling the peak RSS of each process tree (the command and its children: Spark's JVM and
Python workers too); bare LightGBM ``predict`` on the same indicator matrix is the baseline of the scoring
ratio; ``povwatch score --engine spark --spark-master local[2]`` gives Spark's rate and its ratio to local.

Sizes above ``--max-run`` (default 20,000 households) are listed as "not run": the shared 2-core machine this
was written on cannot run a province, and a figure is only written when it was measured.

    python -m bench.bench_scale --households 2000,10000,100000,1000000 --rounds 5 --write
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
TRAIN = '{"num_boost_round": 100, "early_stopping_rounds": 20, "quarterly": false}'
COLUMNS = ["households", "rounds", "ingest s", "ingest peak GB", "score s", "score peak GB", "households/s",
           "ratio to bare predict", "Spark local[2] households/s", "Spark / local"]


@dataclass
class Run:
    seconds: float
    peak_gb: float
    output: str


def _tree_rss(proc) -> int:
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measured(args: list[str], env: dict[str, str]) -> Run:
    """Run ``povwatch ARGS`` in its own process; wall time and the peak RSS of its process tree (sampled)."""
    import psutil

    cmd = [str(Path(sys.executable).parent / "povwatch"), *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched, peak, done = psutil.Process(proc.pid), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(watched))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"povwatch {' '.join(args)} exited {proc.returncode}:\n{output[-3000:]}")
    return Run(seconds, peak[0] / 1e9, output)


def bare_predict_rows_per_s(warehouse: Path, round_id: str) -> tuple[float, int]:
    """LightGBM ``predict`` alone on the scored round's indicator matrix (the same rows as ``score``)."""
    from features.data.warehouse import Warehouse
    from serving.batch import partition_indicators, resolve_as_of
    from training.registry import load_risk_model

    wh = Warehouse(warehouse)
    model = load_risk_model(warehouse, "champion")
    as_of, rid = resolve_as_of(wh, round_id, None)
    ind = partition_indicators(wh.households(), wh.members(), wh.events(end=as_of), model.lines, as_of, rid)
    X = model.matrix(ind[ind["eligible"].eq(1)]).to_numpy(dtype="float64")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        model.booster.predict(X, raw_score=True)
        best = min(best, time.perf_counter() - t0)
    return len(X) / best, len(X)


def one_size(households: int, rounds: int, seed: int, spark: bool, work: Path) -> dict[str, str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    raw, wh = work / "raw", work / "wh"
    measured(["simulate", "--households", str(households), "--rounds", str(rounds), "--seed", str(seed),
              "--out", str(raw)], env)
    ingest = measured(["ingest", str(raw), "--warehouse", str(wh)], env)
    (work / "train.json").write_text(TRAIN)
    measured(["train", "--warehouse", str(wh), "--config", str(work / "train.json")], env)
    from features.data.warehouse import Warehouse

    newest = Warehouse(wh).round_ids()[-1]
    score = measured(["score", "--round", newest, "--warehouse", str(wh), "--out", str(work / "scores.parquet")], env)
    import pandas as pd

    scored = len(pd.read_parquet(work / "scores.parquet", columns=["household_id"]))
    rate = scored / score.seconds
    bare, _ = bare_predict_rows_per_s(wh, newest)
    row = {"households": f"{households:,}", "rounds": str(rounds), "ingest s": f"{ingest.seconds:.1f}",
           "ingest peak GB": f"{ingest.peak_gb:.2f}", "score s": f"{score.seconds:.1f}",
           "score peak GB": f"{score.peak_gb:.2f}", "households/s": f"{rate:,.0f}",
           "ratio to bare predict": f"{bare / rate:,.0f}× slower ({bare:,.0f} rows/s)", "Spark local[2] households/s": "not run",
           "Spark / local": "not run"}
    if spark:
        run = measured(["score", "--round", newest, "--warehouse", str(wh), "--out", str(work / "spark"),
                        "--engine", "spark", "--spark-master", "local[2]"], env)
        spark_rate = scored / run.seconds
        row["Spark local[2] households/s"] = f"{spark_rate:,.0f} (peak {run.peak_gb:.2f} GB)"
        row["Spark / local"] = f"{spark_rate / rate:.2f}"
    return row


def table(rows: list[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r[c] for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def write(text: str, command: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    block = (f"{START}\n\n`{command}` ({date.today().isoformat()}; {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; wall time of each command as a separate process, peak RSS of "
             f"its process tree; the machine was shared, so times are upper bounds):\n\n{text}\n\n{END}")
    if START in doc:
        doc = doc[:doc.index(START)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n## Scale (`make bench-scale`)\n\n" + block + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", default="2000,10000,100000,300000,1000000",
                        help="comma-separated county sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-run", type=int, default=20_000, help="sizes above this are listed as not run")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark local[2] column")
    parser.add_argument("--write", action="store_true", help=f"rewrite the scale table in {DOC.name}")
    args = parser.parse_args()
    rows = []
    for n in (int(x) for x in args.households.split(",")):
        if n > args.max_run:
            rows.append({c: "not run" for c in COLUMNS} | {"households": f"{n:,}", "rounds": str(args.rounds)})
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{n}-") as tmp:
            rows.append(one_size(n, args.rounds, args.seed, not args.no_spark, Path(tmp)))
        print(table(rows), flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write(text, "python -m bench.bench_scale " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
