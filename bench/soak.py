"""Soak of ``povwatch serve``: mixed traffic from several clients for a while; status counts, latency by minute,
server memory. Used by ``bench/bench_soak.py`` (figures) and ``tests/test_soak.py`` (no 5xx, no crash).

The mix per client request: 70 % one-household ``/score``, 10 % a 1,000-household ``/score``, 10 % ``/explain``,
5 % ``/report``, 5 % bad requests (a value of the wrong type, an unknown field, or broken JSON).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

MIX = (("score1", 0.70), ("score1000", 0.10), ("explain", 0.10), ("report", 0.05), ("bad", 0.05))


def batch_of(docs: list[dict], size: int) -> list[dict]:
    """``size`` distinct households made from ``docs`` (ids suffixed so each appears once)."""
    out = []
    for i in range(size):
        d = copy.deepcopy(docs[i % len(docs)])
        d["record"]["household_id"] = f"{d['record']['household_id']}-{i}"
        for past in d.get("history", []):
            past["record"]["household_id"] = d["record"]["household_id"]
        out.append(d)
    return out


def bad_request(doc: dict, rng: random.Random) -> tuple[dict | None, bytes | None]:
    kind = rng.choice(["type", "unknown", "json"])
    if kind == "json":
        return None, b'{"households": [ {"record": '
    d = copy.deepcopy(doc)
    if kind == "type":
        d["record"]["wage_income"] = "一万"
    else:
        d["record"]["不存在的字段"] = 1
    return {"households": [d]}, None


@dataclass
class SoakResult:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[tuple[float, str, float]] = field(default_factory=list)  # (since start, kind, seconds)
    failures: list[str] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)

    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def p99(self, start: float, end: float, kind: str = "score1") -> float:
        xs = sorted(s for t, k, s in self.latencies if k == kind and start <= t < end)
        return xs[min(len(xs) - 1, int(0.99 * len(xs)))] if xs else float("nan")


def _client(url: str, docs: list[dict], big: list[dict], seconds: float, start: float, seed: int,
            result: SoakResult, lock: threading.Lock, headers: dict[str, str]) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX)
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        while time.monotonic() - start < seconds:
            kind = rng.choices(kinds, weights)[0]
            doc = rng.choice(docs)
            t0 = time.monotonic()
            try:
                if kind == "score1":
                    r = client.post("/score", json={"households": [doc]})
                elif kind == "score1000":
                    r = client.post("/score", json={"households": big})
                elif kind == "explain":
                    r = client.post("/explain", json={"household": doc})
                elif kind == "report":
                    r = client.post("/report", json={"household": doc, "lang": rng.choice(["zh", "en"])})
                else:
                    body, raw = bad_request(doc, rng)
                    r = (client.post("/score", json=body) if raw is None else
                         client.post("/score", content=raw, headers={"content-type": "application/json"}))
                    if r.status_code != 400:
                        raise AssertionError(f"bad request answered {r.status_code}")
            except (httpx.HTTPError, AssertionError) as e:
                with lock:
                    result.failures.append(f"{kind}: {type(e).__name__}: {e}")
                continue
            with lock:
                result.statuses[r.status_code] += 1
                result.latencies.append((t0 - start, kind, time.monotonic() - t0))


def soak(url: str, docs: list[dict], *, seconds: float, clients: int = 2, server_pid: int | None = None,
         headers: dict[str, str] | None = None, batch: int = 1000) -> SoakResult:
    """Run the mix from ``clients`` threads for ``seconds``; sample the server's RSS (with its workers) every 5 s."""
    import psutil

    result, lock = SoakResult(), threading.Lock()
    big = batch_of(docs, batch)
    start = time.monotonic()
    threads = [threading.Thread(target=_client, args=(url, docs, big, seconds, start, seed, result, lock,
                                                      headers or {}), daemon=True) for seed in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if server_pid is not None:
            try:
                proc = psutil.Process(server_pid)
                rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                result.rss_mb.append((time.monotonic() - start, rss / 2**20))
            except psutil.NoSuchProcess:
                result.failures.append("server process gone")
                break
        time.sleep(5)
    for t in threads:
        t.join()
    return result
