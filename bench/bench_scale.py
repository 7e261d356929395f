"""``make bench-scale``: how ingest and scoring grow with the county — the scale table of docs/performance.md.

For each size: simulate (not timed), then time ``povwatch ingest`` — one call per survey round, as a county
receives them, then one for the events — and ``povwatch score --round <newest>`` as separate processes,
sampling the peak RSS of each process tree (the command and its children: Spark's JVM and Python workers too)
and their CPU time (on a shared machine wall time is mostly waiting; CPU time says what the work costs).
Every size is scored with one model trained once on a ``MODEL_HOUSEHOLDS`` county (through
``MLFLOW_TRACKING_URI``): training at scale is not this bench's. Bare LightGBM ``predict`` on the same
indicator matrix is the baseline of the scoring ratio; ``povwatch score --engine spark --spark-master
local[2]`` gives Spark's rate and its ratio to local. With ``--train-max-run N``, ``povwatch train`` (the
configuration ``TRAIN``) also runs on each county up to N households, for its time and peak RSS. The other
commands that read a whole round (features, worklist, audit, drift: ``batch_paths``) run once each for
their peak RSS, last; ``--path-time-limit`` stops any of them that runs longer (its cell says so). Each
command's figures are printed as soon as it ends, so a run stopped midway keeps what it measured.

Sizes above ``--max-run`` (default 20,000 households) are listed as "not run": the shared 2-core machine this
was written on cannot run a province, and a figure is only written when it was measured.

    python -m bench.bench_scale --households 2000,10000,100000,1000000 --rounds 5 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
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
MODEL_HOUSEHOLDS = 20_000
COLUMNS = ["households", "rounds", "ingest s", "ingest peak GB", "score s", "score peak GB", "households/s",
           "ratio to bare predict", "Spark local[2] households/s", "Spark / local", "train s", "train peak GB",
           "peak GB: features / worklist / audit / drift", "measured"]
PATHS_COLUMN = COLUMNS[-2]  # the peaks of the other commands that read a whole round, in ``batch_paths`` order


@dataclass
class Run:
    seconds: float
    peak_gb: float
    cpu_seconds: float  # user + system of the command and the children it waited for
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


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


RSS_LIMIT_GB = 12.0  # a command whose process tree passes this is stopped: half of the 24 GB machine it was built on


class OverLimit(RuntimeError):
    """The command's process tree passed ``RSS_LIMIT_GB`` (or its time limit) and was stopped; ``cell`` is what
    the table says of it."""

    def __init__(self, message: str, cell: str = f"> {RSS_LIMIT_GB:g}") -> None:
        super().__init__(message)
        self.cell = cell


def measured(args: list[str], env: dict[str, str], time_limit_s: float | None = None) -> Run:
    """Run ``povwatch ARGS`` in its own process; wall time, CPU time and the peak RSS of its process tree
    (sampled every 50 ms). A tree that passes ``RSS_LIMIT_GB`` is killed (``OverLimit``) before it can push a
    shared machine into swapping or the OOM killer; so is one still running after ``time_limit_s``."""
    import psutil

    cmd = [str(Path(sys.executable).parent / "povwatch"), *args]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched, peak, done, late = psutil.Process(proc.pid), [0], threading.Event(), [False]

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(watched))
            late[0] = time_limit_s is not None and time.perf_counter() - t0 > time_limit_s
            if peak[0] > RSS_LIMIT_GB * 1e9 or late[0]:
                for p in [*watched.children(recursive=True), watched]:
                    try:
                        p.kill()
                    except psutil.NoSuchProcess:
                        pass
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    if peak[0] > RSS_LIMIT_GB * 1e9:
        raise OverLimit(f"povwatch {' '.join(args)} passed {RSS_LIMIT_GB:g} GB and was stopped")
    if late[0]:
        raise OverLimit(f"povwatch {' '.join(args)} ran past {time_limit_s:g} s and was stopped "
                        f"at {peak[0] / 1e9:.2f} GB", f"> {time_limit_s / 60:.0f} min at {peak[0] / 1e9:.2f} GB")
    if proc.returncode != 0:
        raise RuntimeError(f"povwatch {' '.join(args)} exited {proc.returncode}:\n{output[-3000:]}")
    run = Run(seconds, peak[0] / 1e9, _children_cpu() - cpu0, output)
    print(f"povwatch {args[0]} {args[1]}: {run.seconds:.0f} s, CPU {run.cpu_seconds:.0f} s, {run.peak_gb:.2f} GB",
          flush=True)  # as it goes: a run stopped midway keeps what it measured
    return run


def bare_predict_rows_per_s(warehouse: Path, round_id: str) -> tuple[float, int]:
    """The model's scorer alone (``Scorer.margin``: LightGBM ``predict`` for a booster) on the indicator
    matrix of the households ``score`` ranks as eligible, built chunk by chunk as ``score`` reads them; best
    of three."""
    import numpy as np

    from features.data.as_of import resolve_as_of, rounds_known_at
    from features.indicators import build_indicators
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from models.risk_model import eligible
    from serving.batch import _id_chunks, _read_chunk

    wh = Warehouse(warehouse)
    model = load_risk_model(warehouse, "champion")
    when = resolve_as_of(wh, round_id, None)
    rounds = rounds_known_at(wh, when.date)
    ids = np.sort(wh.households(rounds, columns=["household_id"])["household_id"].astype(str).unique())
    blocks = []
    for rng in _id_chunks(ids, 50_000):
        ind = build_indicators(*_read_chunk(wh, rounds, when.date, rng), model.lines, when.date)
        blocks.append(model.matrix(ind[eligible(ind)]).to_numpy(dtype="float64"))
    X = np.concatenate(blocks)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        model.scorer.margin(X)
        best = min(best, time.perf_counter() - t0)
    return len(X) / best, len(X)


def split_rounds(raw: Path, out: Path) -> list[Path]:
    """The simulator's files (every round in one file per table) as one folder per round, read a round at a
    time: how a county receives its survey rounds, and what ``ingest`` is given one call at a time. Events
    go in a folder of their own, ingested last."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rounds = sorted(pc.unique(pq.read_table(raw / "households.parquet", columns=["round_id"])["round_id"]).to_pylist())
    folders = []
    for rid in rounds:
        folder = out / f"round-{rid}"
        folder.mkdir(parents=True)
        for table in ("households", "members"):
            pq.write_table(pq.read_table(raw / f"{table}.parquet", filters=[("round_id", "==", rid)]),
                           folder / f"{table}.parquet")
        folders.append(folder)
    if (raw / "events.parquet").is_file():
        (out / "events").mkdir()
        (out / "events" / "events.parquet").hardlink_to(raw / "events.parquet")
        folders.append(out / "events")
    return folders


def simulate(households: int, rounds: int, seed: int, out: Path, env: dict[str, str]) -> None:
    measured(["simulate", "--households", str(households), "--rounds", str(rounds), "--seed", str(seed),
              "--truth-replicates", "1", "--out", str(out)], env)


def model_warehouse(households: int, rounds: int, seed: int, work: Path, env: dict[str, str]) -> Path:
    """A ``MODEL_HOUSEHOLDS``-household county with a trained champion: the model every size is scored with
    (scoring speed does not depend on the county the model was trained on; training at scale is another
    bench's)."""
    raw, wh = work / "model-raw", work / "model-wh"
    simulate(households, rounds, seed + 1, raw, env)
    measured(["ingest", str(raw), "--warehouse", str(wh)], env)
    (work / "train.json").write_text(TRAIN)
    measured(["train", "--warehouse", str(wh), "--config", str(work / "train.json")], env)
    return wh


def one_size(households: int, rounds: int, seed: int, spark: bool, work: Path, model_wh: Path,
             train: bool = False, path_time_limit_s: float | None = None) -> dict[str, str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    raw, wh = work / "raw", work / "wh"
    simulate(households, rounds, seed, raw, env)
    ingests = [measured(["ingest", str(folder), "--warehouse", str(wh)], env)
               for folder in split_rounds(raw, work / "rounds")]
    shutil.rmtree(raw)
    shutil.rmtree(work / "rounds")
    from features.data.warehouse import Warehouse

    newest = Warehouse(wh).round_ids()[-1]
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{model_wh.resolve()}/mlflow.db"
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]  # for the bare-predict baseline below
    score = measured(["score", "--round", newest, "--warehouse", str(wh), "--out", str(work / "scores.parquet")], env)
    import pandas as pd

    scored = len(pd.read_parquet(work / "scores.parquet", columns=["household_id"]))
    rate = scored / score.seconds
    bare, _ = bare_predict_rows_per_s(wh, newest)
    row = {"households": f"{households:,}", "rounds": str(rounds),
           "ingest s": f"{sum(r.seconds for r in ingests):.1f} (CPU {sum(r.cpu_seconds for r in ingests):.0f})",
           "ingest peak GB": f"{max(r.peak_gb for r in ingests):.2f}",
           "score s": f"{score.seconds:.1f} (CPU {score.cpu_seconds:.1f})",
           "score peak GB": f"{score.peak_gb:.2f}",
           "households/s": f"{rate:,.0f} ({scored / score.cpu_seconds:,.0f} per CPU-s)",
           "ratio to bare predict": f"{bare / rate:,.0f}× slower ({bare:,.0f} rows/s)",
           "Spark local[2] households/s": "not run", "Spark / local": "not run",
           "train s": "not run", "train peak GB": "not run", "measured": _stamp()}
    if spark:
        run = measured(["score", "--round", newest, "--warehouse", str(wh), "--out", str(work / "spark"),
                        "--engine", "spark", "--spark-master", "local[2]"], env)
        spark_rate = scored / run.seconds
        row["Spark local[2] households/s"] = f"{spark_rate:,.0f} (peak {run.peak_gb:.2f} GB)"
        row["Spark / local"] = f"{spark_rate / rate:.2f}"
    if train:  # on this county's own warehouse and registry, with the bench's training configuration; before
        env.pop("MLFLOW_TRACKING_URI", None)  # the batch paths, whose last (drift) may run long
        (work / "train.json").write_text(TRAIN)
        try:
            run = measured(["train", "--warehouse", str(wh), "--config", str(work / "train.json")], env)
            row["train s"] = f"{run.seconds:.1f} (CPU {run.cpu_seconds:.0f})"
            row["train peak GB"] = f"{run.peak_gb:.2f}"
        except RuntimeError as e:  # the other figures stand; say why this one is missing
            print(e, flush=True)
            row["train s"] = row["train peak GB"] = "failed (see the bench's output)"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{model_wh.resolve()}/mlflow.db"  # the scoring model again
    row[PATHS_COLUMN] = " / ".join(batch_paths(wh, newest, work, env, path_time_limit_s))
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    print(f"{households:,} households: scored {scored:,}; ingest calls: "
          + ", ".join(f"{r.seconds:.0f} s / {r.peak_gb:.2f} GB" for r in ingests), flush=True)
    return row


def batch_paths(wh: Path, newest: str, work: Path, env: dict[str, str], time_limit_s: float | None = None) -> list[str]:
    """Peak GB of the other commands that read a whole round, each in its own process with the scoring model
    (the order of ``PATHS_COLUMN``): the indicator table and the worklist of the newest round, the equity audit of the
    newest labelled round (its outcomes are the next round's), the drift check of the newest round against the
    model's training rounds. A command stopped at ``RSS_LIMIT_GB`` reads "> limit"; one stopped at
    ``time_limit_s``, "> N min at its peak so far"."""
    from features.data.warehouse import Warehouse

    labelled = Warehouse(wh).round_ids()[-2]
    common = ["--warehouse", str(wh)]
    commands = [["features", "--round", newest, "--out", str(work / "features.parquet"), *common],
                ["worklist", "--round", newest, "--out", str(work / "worklist.csv"), *common],
                ["audit", "--round", labelled, "--no-mlflow", "--out", str(work / "audit"), *common],
                ["drift", "--round", newest, "--no-mlflow", "--out", str(work / "drift"), *common]]
    out = []
    for args in commands:
        try:
            out.append(f"{measured(args, env, time_limit_s).peak_gb:.2f}")
        except OverLimit as e:
            print(e, flush=True)
            out.append(e.cell)
    return out


def _stamp() -> str:
    """Today's date and the checkout's commit: which code a row of the table measured."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=DOC.parent).stdout.strip()
    return f"{date.today().isoformat()} ({commit or 'no git'})"


def table(rows: list[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r[c] for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def measured_rows(doc: str) -> dict[str, dict[str, str]]:
    """The rows of the scale table already in the document that hold a measurement, by household count; read
    by the table's own header, so rows written before a column was added keep their figures ("not run" in it)."""
    if START not in doc:
        return {}
    rows, header = {}, None
    for line in doc[doc.index(START):doc.index(END)].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == COLUMNS[0]:
            header = cells
        elif header and len(cells) == len(header) and cells[0][:1].isdigit() and cells[2] != "not run":
            rows[cells[0]] = {c: "not run" for c in COLUMNS} | {c: v for c, v in zip(header, cells) if c in COLUMNS}
    return rows


def write(rows: list[dict[str, str]], command: str) -> None:
    """Rewrite the scale table: the sizes measured now, and the measured rows of earlier runs for the sizes
    this run did not measure (each row says when and at which commit it was measured)."""
    doc = DOC.read_text(encoding="utf-8")
    merged = measured_rows(doc)
    merged.update({r["households"]: r for r in rows if r["ingest s"] != "not run" or r["households"] not in merged})
    ordered = sorted(merged.values(), key=lambda r: int(r["households"].replace(",", "")))
    sizes = ", ".join(r["households"] for r in rows if r["ingest s"] != "not run")
    block = (f"{START}\n\n`{command}` ({date.today().isoformat()}; {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; wall time of each command as a separate process, peak RSS of "
             f"its process tree; the machine was shared, so times are upper bounds) measured {sizes or 'nothing'}; "
             f"rows of other sizes are kept from earlier runs (date and commit of each row's run in its last column):\n\n{table(ordered)}\n\n{END}")
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
    parser.add_argument("--model-households", type=int, default=MODEL_HOUSEHOLDS,
                        help="households of the county the scoring model is trained on")
    parser.add_argument("--spark-max-run", type=int, default=100_000, help="the Spark column for sizes up to this")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark local[2] column")
    parser.add_argument("--train-max-run", type=int, default=0,
                        help="also time `povwatch train` (and its peak RSS) on each county up to this size")
    parser.add_argument("--path-time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop each of features, worklist, audit and drift after this long (its cell says so)")
    parser.add_argument("--write", action="store_true", help=f"rewrite the scale table in {DOC.name}")
    args = parser.parse_args()
    rows = []
    model_tmp = tempfile.TemporaryDirectory(prefix="bench-scale-model-")
    model_wh = model_warehouse(args.model_households, args.rounds, args.seed, Path(model_tmp.name), {
        **os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    for n in (int(x) for x in args.households.split(",")):
        if n > args.max_run:
            rows.append({c: "not run" for c in COLUMNS} | {"households": f"{n:,}", "rounds": str(args.rounds)})
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{n}-") as tmp:
            spark = not args.no_spark and n <= args.spark_max_run
            rows.append(one_size(n, args.rounds, args.seed, spark, Path(tmp), model_wh, n <= args.train_max_run,
                                 args.path_time_limit))
        print(table(rows), flush=True)
    model_tmp.cleanup()
    text = table(rows)
    print(text)
    if args.write:
        write(rows, "python -m bench.bench_scale " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
