"""Drift monitor: false-alarm rate over seeds of unshocked rounds and detection rate of each injected shock.

One model is trained once (seed ``--model-seed``) and scores every warehouse; for each of ``--seeds`` other
seeds the county is simulated once, and its newest round is written five times — unshocked and with each
shock in the smaller county — then ingested and checked against the model's training rounds.

Run small: ``.venv/bin/python -m bench.bench_drift --seeds 2 --households 2500 --rounds 4``.
Accuracy, not speed: not part of ``make bench``. Results go to ``bench/.cache/drift-<...>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

from bench.common import CACHE, quiet, simulated_warehouse

KINDS = ("disaster", "wage", "survey", "silent")


def _write_and_ingest(rounds: list, out: Path) -> Path:
    from features.data.ingest import ingest
    from features.simulator.writer import RoundWriter
    from features.data.warehouse import Warehouse

    shutil.rmtree(out, ignore_errors=True)
    raw, wh = out / "raw", out / "warehouse"
    with RoundWriter(raw, "parquet") as w:
        for r in rounds:
            for table in ("households", "members", "events"):
                w.write(table, getattr(r, table))
    ingest([raw], Warehouse(wh))
    return wh


def _outcome(report: dict, kind: str | None, county: str) -> dict:
    flagged = [s for s in report["segments"] if s["drifted"]]
    data_alarm = report["verdict"] == "data problem suspected"
    if kind is None:
        right = False
    elif kind == "silent":
        right = any(s["by"] == "source" and s["value"] == f"department_alert/{county}" for s in flagged)
    else:
        right = any(s["by"] == "county" and s["value"] == county for s in flagged)
    wrong = [f"{s['by']}={s['value']}" for s in flagged
             if not (s["value"] == county or s["value"] == f"department_alert/{county}")]
    return {"verdict": report["verdict"], "data_alarm": data_alarm, "right_segment": right, "other_segments": wrong}


def _interval(hits: list[bool]) -> list[float]:
    """Clopper-Pearson 95% interval of a rate (a bootstrap of 0/n or n/n would be a point)."""
    from scipy import stats

    if not hits:
        return [float("nan")] * 2
    ci = stats.binomtest(int(sum(hits)), len(hits)).proportion_ci(0.95, method="exact")
    return [float(ci.low), float(ci.high)]


def main(seeds: int, households: int, rounds: int, model_seed: int, first_seed: int) -> dict:
    from features.simulator import simulate
    from features.simulator.shocks import Shock, apply_shocks
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round
    from models.registry import load_risk_model

    quiet()
    model = load_risk_model(simulated_warehouse(households, rounds, model_seed, trained=True))
    results = []
    for seed in range(first_seed, first_seed + seeds):
        base = list(simulate(households, rounds, seed, replicates=1))
        newest = base[-1]
        county = str(newest.households["county"].value_counts().index[-1])
        for kind in (None, *KINDS):
            last = dataclasses.replace(newest, households=newest.households.copy(), events=newest.events.copy())
            if kind:
                apply_shocks(last, [Shock(kind, last.year, county)], seed)
            wh = _write_and_ingest(base[:-1] + [last], CACHE / "drift-bench" / f"s{seed}-{kind or 'none'}")
            report = check_round(Warehouse(wh), model, last.round_id, seed=seed)
            results.append({"seed": seed, "shock": kind or "none", **_outcome(report, kind, county)})
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    none = [r for r in results if r["shock"] == "none"]
    summary = {"households": households, "rounds": rounds, "seeds": seeds, "model_seed": model_seed,
               "false_alarm_data": float(np.mean([r["data_alarm"] for r in none])),
               "false_alarm_data_ci": _interval([r["data_alarm"] for r in none]),
               "retrain_unshocked": float(np.mean([r["verdict"] == "retrain recommended" for r in none])),
               "detection": {}}
    for kind in KINDS:
        hits = [r["data_alarm"] and r["right_segment"] for r in results if r["shock"] == kind]
        summary["detection"][kind] = {"rate": float(np.mean(hits)), "ci": _interval(hits),
                                      "other_segments_flagged": sum(bool(r["other_segments"]) for r in results
                                                                    if r["shock"] == kind)}
    out = CACHE / f"drift-{households}x{rounds}-n{seeds}.json"
    out.write_text(json.dumps({"summary": summary, "runs": results}, ensure_ascii=False, indent=1))
    print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds of the county (20 for the documented figures)")
    p.add_argument("--households", type=int, default=2500)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--model-seed", type=int, default=11, help="seed of the county the model is trained on")
    p.add_argument("--first-seed", type=int, default=100)
    a = p.parse_args()
    main(a.seeds, a.households, a.rounds, a.model_seed, a.first_seed)
