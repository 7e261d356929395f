"""Service latency and throughput over HTTP on loopback, each against calling the RiskModel in-process.

Builds a small simulated warehouse and trains a quick model (through the real CLI) unless
``POVWATCH_BENCH_WAREHOUSE`` names one with a champion, starts ``povwatch serve --workers 2`` (one worker per
core of the 2-core reference machine) on a free port, and measures: single-household ``/score`` p50/p99 and
``/explain`` p99 (one caller), and ``/score`` households/s in 1,000-household batches sent by two callers at
once, for two kinds of documents: the current round only (record, members, events since) and the same with
two earlier rounds in ``history`` (three times the bytes). Then the same for household *references*
(``{"household_id", "as_of", "events": [one new event]}``, scored from the warehouse the service serves plus the
event sent): one-reference ``/score`` p50/p99 and households/s in 1,000-reference batches. The in-process
baseline is the service's own path (documents -> frames -> checks -> indicators -> model; references -> frames
from the warehouse index -> checks -> indicators -> model) in this process, on one core.
Goals: documents p99 < 20 ms for one household, >= 20,000 households/s in batches; references p99 <= 15 ms for
one, >= 25,000 households/s in batches.
Run: ``.venv/bin/python -m bench.bench_service``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from commands import child_server

import numpy as np

SINGLE_CALLS = 300
EXPLAIN_CALLS = 60
BATCH = 1_000
BATCH_CALLS = 8   # per caller
WORKERS = 2
CALLERS = 2


def _povwatch(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "povwatch"), *args], check=True, stdout=subprocess.DEVNULL)


def _warehouse() -> Path:
    given = os.environ.get("POVWATCH_BENCH_WAREHOUSE")
    if given:
        return Path(given)
    root = Path(tempfile.mkdtemp(prefix="povwatch-bench-service-"))
    _povwatch("simulate", "--households", "2000", "--rounds", "3", "--seed", "5", "--out", str(root / "sim"))
    _povwatch("ingest", str(root / "sim"), "--warehouse", str(root / "wh"))
    cfg = root / "train.json"
    cfg.write_text('{"num_boost_round": 200, "early_stopping_rounds": 20}')
    _povwatch("train", "--warehouse", str(root / "wh"), "--config", str(cfg))
    return root / "wh"


def _documents(warehouse: Path, n: int) -> list[dict]:
    import pandas as pd

    from features.data.documents_from_warehouse import household_documents, relabelled_copies
    from features.data.warehouse import Warehouse

    wh = Warehouse(warehouse)
    as_of = (wh.rounds()["last_date"].max() + pd.Timedelta(days=30)).normalize()
    ids = sorted(wh.households()["household_id"].unique())[:200]
    return relabelled_copies(household_documents(wh, ids, as_of), n)


def _references(warehouse: Path, n: int) -> list[dict]:
    """``n`` references to distinct households of the warehouse, at the documents' as-of date, each reporting one
    new event (a hospitalisation ten days before): what a platform sends instead of the household's history."""
    import pandas as pd

    from features.data.warehouse import Warehouse

    wh = Warehouse(warehouse)
    as_of = (wh.rounds()["last_date"].max() + pd.Timedelta(days=30)).normalize()
    event = {"event_date": (as_of - pd.Timedelta(days=10)).date().isoformat(), "event_type": "hospitalization",
             "amount": 30000.0, "source": "cadre_visit"}
    ids = sorted(wh.households()["household_id"].unique())
    return [{"household_id": str(ids[i % len(ids)]), "as_of": as_of.date().isoformat(), "events": [dict(event)]}
            for i in range(n)]


def _start(warehouse: Path) -> tuple[subprocess.Popen, str]:
    port = child_server.free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "povwatch"), "serve", "--port", str(port),
                             "--warehouse", str(warehouse), "--workers", str(WORKERS)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        child_server.wait_ready(f"{url}/readyz", proc, 180)
    except child_server.NotReady:
        child_server.stop(proc)
        raise
    return proc, url


def _timed(fn, n: int) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out[i] = time.perf_counter() - t
    return out


def _throughput(url: str, body: bytes, households: int, repeats: int = 3) -> float:
    """Households/s when ``CALLERS`` clients each post ``body`` ``BATCH_CALLS`` times, all at once; the median
    of ``repeats`` such runs (the machine is shared: single runs vary by a third)."""
    return float(np.median([_one_throughput(url, body, households) for _ in range(repeats)]))


def _one_throughput(url: str, body: bytes, households: int) -> float:
    import httpx
    from concurrent.futures import ThreadPoolExecutor

    headers = {"content-type": "application/json"}

    def caller(_: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as c:
            c.post("/score", content=body, headers=headers).raise_for_status()  # warm up this connection
            for _ in range(BATCH_CALLS):
                c.post("/score", content=body, headers=headers).raise_for_status()

    with ThreadPoolExecutor(CALLERS) as pool:
        t = time.perf_counter()
        list(pool.map(caller, range(CALLERS)))
        elapsed = time.perf_counter() - t
    return households * (BATCH_CALLS + 1) * CALLERS / elapsed


def _in_process(model, body: bytes) -> None:
    """The service's path for a request body of documents without HTTP: validate, then the model's own scoring
    of documents (the same flattening, checks and indicators as ``serving.service``)."""
    from serving.schemas import ScoreRequest

    model.score_households([item.root for item in ScoreRequest.model_validate_json(body).households])


def _in_process_references(model, body: bytes, store) -> None:
    """The service's path for a request body of references without HTTP: validate, frames straight from the
    warehouse's rows (``ReferenceStore.frames``), checks, indicators, warnings, model."""
    import pandas as pd

    from features.data.documents import problems
    from features.indicators.from_documents import indicators_of_frames
    from serving.document_warnings import document_warnings
    from serving.schemas import ScoreRequest

    items = [item.root for item in ScoreRequest.model_validate_json(body).households]
    frames, unknown = store.frames(items, pd.Timestamp.today().normalize())
    assert not unknown and not problems(frames)
    ind = indicators_of_frames(frames, lines=model.lines)
    document_warnings(frames, ind, model.feature_names)
    model.score(ind)


def main() -> dict[str, float]:
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import httpx

    from models.explain import explain
    from models.registry import load_risk_model
    from serving.references import ReferenceStore
    from serving.service import settle_garbage_collector

    warehouse = _warehouse()
    model = load_risk_model(warehouse)
    store = ReferenceStore(warehouse)
    docs = _documents(warehouse, BATCH)
    refs = _references(warehouse, BATCH)
    current = [{k: v for k, v in d.items() if k != "history"} for d in docs]
    singles = [json.dumps({"households": [d]}).encode() for d in docs[:SINGLE_CALLS]]
    ref_singles = [json.dumps({"households": [r]}).encode() for r in refs[:SINGLE_CALLS]]
    bodies = {"current": json.dumps({"households": current}).encode(),
              "history": json.dumps({"households": docs}).encode()}
    ref_body = json.dumps({"households": refs}).encode()
    headers = {"content-type": "application/json"}
    _in_process_references(model, ref_singles[0], store)  # the store reads the warehouse on first use
    settle_garbage_collector()  # as the service does once its model is loaded

    local_single = _timed(lambda i: _in_process(model, singles[i]), SINGLE_CALLS)
    local_explain = _timed(lambda i: explain(model, model.indicators([docs[i]]), top=3), EXPLAIN_CALLS)
    local_batch = {kind: _timed(lambda i: _in_process(model, body), BATCH_CALLS) for kind, body in bodies.items()}
    local_ref_single = _timed(lambda i: _in_process_references(model, ref_singles[i], store), SINGLE_CALLS)
    local_ref_batch = _timed(lambda i: _in_process_references(model, ref_body, store), BATCH_CALLS)

    proc, url = _start(warehouse)
    try:
        with httpx.Client(base_url=url, timeout=120) as c:
            for body in singles[:20] + ref_singles[:20]:  # warm up (each worker loads its reference store)
                c.post("/score", content=body, headers=headers).raise_for_status()
            http_single = _timed(lambda i: c.post("/score", content=singles[i], headers=headers).raise_for_status(),
                                 SINGLE_CALLS)
            http_ref_single = _timed(lambda i: c.post("/score", content=ref_singles[i],
                                                      headers=headers).raise_for_status(), SINGLE_CALLS)
            http_explain = _timed(lambda i: c.post("/explain", content=json.dumps({"household": docs[i]}),
                                                   headers=headers).raise_for_status(), EXPLAIN_CALLS)
        http_batch = {kind: _throughput(url, body, BATCH) for kind, body in bodies.items()}
        http_ref_batch = _throughput(url, ref_body, BATCH)
    finally:
        child_server.stop(proc)

    ms = 1000.0
    figures = {
        "score_1_p50_ms": float(np.percentile(http_single, 50) * ms),
        "score_1_p99_ms": float(np.percentile(http_single, 99) * ms),
        "score_1_p99_local_ms": float(np.percentile(local_single, 99) * ms),
        "explain_p99_ms": float(np.percentile(http_explain, 99) * ms),
        "explain_p99_local_ms": float(np.percentile(local_explain, 99) * ms),
        "document_kb_current": len(bodies["current"]) / BATCH / 1024,
        "document_kb_history": len(bodies["history"]) / BATCH / 1024,
        "reference_kb": len(ref_body) / BATCH / 1024,
    }
    for kind in bodies:
        figures[f"batch_households_per_s_{kind}"] = float(http_batch[kind])
        figures[f"batch_households_per_s_{kind}_local"] = float(BATCH / np.median(local_batch[kind]))
        figures[f"batch_throughput_ratio_{kind}"] = (figures[f"batch_households_per_s_{kind}"]
                                                     / figures[f"batch_households_per_s_{kind}_local"])
    figures["score_1_p99_ratio"] = figures["score_1_p99_ms"] / figures["score_1_p99_local_ms"]
    figures["explain_p99_ratio"] = figures["explain_p99_ms"] / figures["explain_p99_local_ms"]
    figures.update({
        "reference_1_p50_ms": float(np.percentile(http_ref_single, 50) * ms),
        "reference_1_p50_local_ms": float(np.percentile(local_ref_single, 50) * ms),
        "reference_1_p99_ms": float(np.percentile(http_ref_single, 99) * ms),
        "reference_1_p99_local_ms": float(np.percentile(local_ref_single, 99) * ms),
        "reference_batch_households_per_s": float(http_ref_batch),
        "reference_batch_households_per_s_local": float(BATCH / np.median(local_ref_batch)),
    })
    figures["reference_1_p99_ratio"] = figures["reference_1_p99_ms"] / figures["reference_1_p99_local_ms"]
    figures["reference_batch_throughput_ratio"] = (figures["reference_batch_households_per_s"]
                                                   / figures["reference_batch_households_per_s_local"])
    _print(figures, np.percentile(local_single, 50) * ms)
    return figures


def _print(figures: dict[str, float], local_single_p50_ms: float) -> None:
    f = figures
    print(f"{'measure':<52}{'HTTP':>10}{'in-process':>12}{'ratio':>8}   goal")
    print(f"{'/score 1 household p50 (ms)':<52}{f['score_1_p50_ms']:>10.2f}{local_single_p50_ms:>12.2f}{'':>8}")
    print(f"{'/score 1 household p99 (ms)':<52}{f['score_1_p99_ms']:>10.2f}"
          f"{f['score_1_p99_local_ms']:>12.2f}{f['score_1_p99_ratio']:>8.2f}   < 20 ms")
    print(f"{'/explain p99 (ms)':<52}{f['explain_p99_ms']:>10.2f}{f['explain_p99_local_ms']:>12.2f}"
          f"{f['explain_p99_ratio']:>8.2f}")
    for kind, label in (("current", "current round"), ("history", "with 2 earlier rounds")):
        name = f"/score 1,000/batch, {label}, {f[f'document_kb_{kind}']:.1f} KB each (hh/s)"
        print(f"{name:<52}{f[f'batch_households_per_s_{kind}']:>10,.0f}"
              f"{f[f'batch_households_per_s_{kind}_local']:>12,.0f}"
              f"{f[f'batch_throughput_ratio_{kind}']:>8.2f}   >= 20,000")
    print(f"{'/score 1 reference p50 (ms)':<52}{f['reference_1_p50_ms']:>10.2f}{f['reference_1_p50_local_ms']:>12.2f}")
    print(f"{'/score 1 reference p99 (ms)':<52}{f['reference_1_p99_ms']:>10.2f}"
          f"{f['reference_1_p99_local_ms']:>12.2f}{f['reference_1_p99_ratio']:>8.2f}   <= 15 ms")
    name = f"/score 1,000 references/batch, {f['reference_kb'] * 1024:.0f} B each (hh/s)"
    print(f"{name:<52}{f['reference_batch_households_per_s']:>10,.0f}"
          f"{f['reference_batch_households_per_s_local']:>12,.0f}"
          f"{f['reference_batch_throughput_ratio']:>8.2f}   >= 25,000")
    print(f"(HTTP: povwatch serve --workers {WORKERS}, {CALLERS} callers at once for batches; in-process: one core)")


if __name__ == "__main__":
    main()
