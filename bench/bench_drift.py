"""Drift monitor: false-alarm rate over seeds of unshocked rounds and detection rate of each injected shock.

One model, trained on county ``--model-seed`` (its first ``rounds - 2`` rounds; test round ``rounds - 1``),
scores every county (``--own-models``: each county gets its own model, trained the same way on its own
rounds, as a county would deploy it; twice the cost). For each of ``--seeds`` seeds a county is simulated
for ``--rounds`` + ``--decay-rounds`` rounds; its round number ``--rounds`` is written five times —
unshocked and with each shock in the smaller county — then ingested and checked against the model's
training rounds.

Labels arrive a round later: the county's newest labelled round of the longer run is checked too, whose
``decay`` gives, for every labelled round after training, the expected (label-free) recall and precision at
the 10 % budget beside the realised ones and their bootstrap interval — is the expectation inside it, and
how does the model age?

Run small first: ``.venv/bin/python -m bench.bench_drift --seeds 2 --households 2500 --rounds 4`` (about a
minute of CPU a seed); the documented figures: ``--seeds 20``.
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


def _write_and_ingest(rounds: list, out: Path, reuse: bool = False) -> Path:
    """The rounds written as a county's files and ingested into ``out/warehouse``; with ``reuse``, a warehouse
    this bench built there before (same seed, size and rounds: the simulator is seeded) is taken as it is."""
    if reuse and (out / "warehouse" / "households").exists():
        return out / "warehouse"
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
    return {"verdict": report["verdict"], "data_alarm": data_alarm, "right_segment": right, "other_segments": wrong,
            "score_note": bool(report.get("notes")), "score_step_psi": report["score"]["step_psi"],
            "score_step_threshold": report["score"]["step_threshold"],
            "expected_recall": report["expected"]["recall_at_10pct"],
            "expected_recall_range": report["expected"]["interval"]["recall_at_10pct"]}


def _interval(hits: list[bool]) -> list[float]:
    """Clopper-Pearson 95% interval of a rate (a bootstrap of 0/n or n/n would be a point)."""
    from scipy import stats

    if not hits:
        return [float("nan")] * 2
    ci = stats.binomtest(int(sum(hits)), len(hits)).proportion_ci(0.95, method="exact")
    return [float(ci.low), float(ci.high)]


METRICS = ("recall_at_10pct", "precision_at_10pct")


def _decay_rows(report: dict, seed: int) -> list[dict]:
    """One row per labelled round after training: expected (as calibrated, and recalibrated on the labelled
    rounds before it) vs realised recall and precision, and whether each expectation lies in the realised
    interval."""
    rows = []
    for d in report["decay"]:
        row = {"seed": seed, "round": d["round"], "rounds_since_training": d["rounds_since_training"]}
        for m in METRICS:
            lo, hi = d["interval"][m]
            row.update({f"realised_{m}": d["realised"][m], f"interval_{m}": [lo, hi]})
            for name, key in ((m, m), (f"{m}_recalibrated", f"{m}_recalibrated")):
                value = d["expected"].get(key)
                row.update({f"expected_{name}": value,
                            f"inside_{name}": None if value is None else bool(lo <= value <= hi)})
        rows.append(row)
    return rows


def _decay_summary(rows: list[dict]) -> dict:
    """Per rounds since training: mean expected and realised, mean gap, share of expectations inside."""
    out = {}
    for k in sorted({r["rounds_since_training"] for r in rows}):
        part = [r for r in rows if r["rounds_since_training"] == k]
        entry: dict = {"n": len(part)}
        for m in METRICS:
            for name in (m, f"{m}_recalibrated"):
                have = [r for r in part if r.get(f"expected_{name}") is not None]
                if not have:
                    continue
                gap = [r[f"realised_{m}"] - r[f"expected_{name}"] for r in have]
                inside = [r[f"inside_{name}"] for r in have]
                entry[name] = {"n": len(have), "expected_mean": float(np.mean([r[f"expected_{name}"] for r in have])),
                               "realised_mean": float(np.mean([r[f"realised_{m}"] for r in have])),
                               "gap_mean": float(np.mean(gap)), "gap_range": [float(min(gap)), float(max(gap))],
                               "inside": int(sum(inside)), "inside_ci": _interval(inside)}
        out[str(k)] = entry
    return out


def _own_model(longer: list, rounds: int, out: Path, reuse: bool = False):
    """The county's own model: its whole (longer) simulation ingested and trained with the test round the
    shorter run would have (rounds ``rounds - 2`` and before train, as in the shared model's county)."""
    from bench.common import FAST_TRAIN, _run
    from models.registry import load_risk_model

    if reuse and (out / "warehouse" / "mlflow.db").exists():
        return out / "warehouse", load_risk_model(out / "warehouse")
    wh = _write_and_ingest(longer, out)
    cfg = out / "fast-train.json"
    cfg.write_text(FAST_TRAIN)
    out = _run(["train", "--warehouse", str(wh), "--config", str(cfg), "--test-round", longer[rounds - 2].round_id])
    if "not made champion" in out:  # the gate (model vs rule) is measured elsewhere; drift needs the model
        _run(["promote", "--warehouse", str(wh), "--force"])
    return wh, load_risk_model(wh)


def main(seeds: int, households: int, rounds: int, model_seed: int, first_seed: int,
         decay_rounds: int = 2, own: bool = False, reuse: bool = False) -> dict:
    from features.simulator import simulate
    from features.simulator.shocks import Shock, apply_shocks
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round
    from models.registry import load_risk_model

    quiet()
    shared = None if own else load_risk_model(simulated_warehouse(households, rounds, model_seed, trained=True))
    results, decay = [], []
    cache = CACHE / "drift-bench" / f"h{households}-r{rounds}"
    for seed in range(first_seed, first_seed + seeds):
        longer = list(simulate(households, rounds + decay_rounds, seed, replicates=1))
        base = longer[:rounds]
        if own:
            wh, model = _own_model(longer, rounds, cache / f"s{seed}-own", reuse)
        else:
            model, wh = shared, _write_and_ingest(longer, cache / f"s{seed}-decay", reuse)
        if decay_rounds:
            report = check_round(Warehouse(wh), model, longer[-2].round_id, seed=seed)
            decay.extend(_decay_rows(report, seed))
            print(json.dumps(decay[-len(report["decay"]):], ensure_ascii=False), flush=True)
        newest = base[-1]
        county = str(newest.households["county"].value_counts().index[-1])
        for kind in (None, *KINDS):
            last = dataclasses.replace(newest, households=newest.households.copy(), events=newest.events.copy())
            if kind:
                apply_shocks(last, [Shock(kind, last.year, county)], seed)
            wh = _write_and_ingest(base[:-1] + [last], cache / f"s{seed}-{kind or 'none'}", reuse)
            report = check_round(Warehouse(wh), model, last.round_id, seed=seed)
            results.append({"seed": seed, "shock": kind or "none", **_outcome(report, kind, county)})
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
        _write(results, decay, households, rounds, seeds, first_seed, own, model_seed)
    return _write(results, decay, households, rounds, seeds, first_seed, own, model_seed, final=True)


def _write(results: list[dict], decay: list[dict], households: int, rounds: int, seeds: int, first_seed: int,
           own: bool, model_seed: int, final: bool = False) -> dict:
    """The summary of the seeds done so far, written after each seed (a long run keeps what it measured)."""
    none = [r for r in results if r["shock"] == "none"]
    summary = {"households": households, "rounds": rounds, "seeds": len(none), "first_seed": first_seed,
               "model": "own" if own else f"shared (county seed {model_seed})",
               "false_alarm_data": float(np.mean([r["data_alarm"] for r in none])),
               "false_alarm_data_ci": _interval([r["data_alarm"] for r in none]),
               "retrain_unshocked": float(np.mean([r["verdict"] == "retrain recommended" for r in none])),
               "retrain_unshocked_ci": _interval([r["verdict"] == "retrain recommended" for r in none]),
               "score_note_unshocked": int(sum(r["score_note"] for r in none)),
               "score_note_unshocked_ci": _interval([r["score_note"] for r in none]),
               "detection": {}}
    for kind in KINDS:
        hits = [r["data_alarm"] and r["right_segment"] for r in results if r["shock"] == kind]
        summary["detection"][kind] = {"rate": float(np.mean(hits)), "ci": _interval(hits),
                                      "other_segments_flagged": sum(bool(r["other_segments"]) for r in results
                                                                    if r["shock"] == kind)}
    summary["decay"] = _decay_summary(decay) if decay else {}
    tag = "own" if own else "shared"
    out = CACHE / f"drift-{households}x{rounds}-n{seeds}-{tag}.json"
    out.write_text(json.dumps({"summary": summary, "runs": results, "decay": decay}, ensure_ascii=False, indent=1))
    if final:
        print(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds of the county (20 for the documented figures)")
    p.add_argument("--households", type=int, default=2500)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--model-seed", type=int, default=11, help="seed of the county the shared model is "
                   "trained on")
    p.add_argument("--own-models", action="store_true", help="each county its own model instead of one "
                   "shared model (twice the cost)")
    p.add_argument("--first-seed", type=int, default=100)
    p.add_argument("--decay-rounds", type=int, default=2, help="extra rounds of the unshocked county for "
                   "expected vs realised by rounds since training (0: skip)")
    p.add_argument("--reuse", action="store_true", help="take the warehouses and models an earlier run of the "
                   "same seeds and size built (only the checks run again: after a change of the drift rules)")
    a = p.parse_args()
    main(a.seeds, a.households, a.rounds, a.model_seed, a.first_seed, a.decay_rounds, a.own_models, a.reuse)
