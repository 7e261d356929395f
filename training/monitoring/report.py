"""``povwatch drift --round R``: the whole check of one round and its verdict, as one JSON-ready dict.

Verdicts, most urgent first:
- ``data problem suspected``: indicators of one county or household type moved together against the rest of
  the round, a department feed changed its rate, or an indicator's missing share jumped — check the data
  before trusting (or retraining on) the round;
- ``retrain recommended``: the expected recall at the 10% budget (label-free, from the calibrated risks) left
  the range the reference's own rounds give it; a change of the score's distribution alone is a note, not a
  verdict (see ``notes_of``);
- ``stable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from training.monitoring import null as N
from training.monitoring.drift import PSI_FLOOR, indicator_drift, segment_drift
from training.monitoring.expected import (band_ratios, expected_metrics, realised_interval, realised_metrics,
                                          recalibrated_metrics, score_drift)
from training.monitoring.feeds import feed_drift
from training.monitoring.rounds import load_rounds

STABLE, DATA_PROBLEM, RETRAIN = "stable", "data problem suspected", "retrain recommended"
VERDICT_ZH = {STABLE: "稳定", DATA_PROBLEM: "疑似数据问题", RETRAIN: "建议重新训练"}
MIN_MISSING_JUMP = 0.02   # a missing share must also move by two points to count as a jump
TOP_IN_REASON = 5
CHARTED = 12              # top movers that carry their bin shares (the page's small multiples)
BY_ZH = {"county": "县", "household_type": "户类型"}


def default_reference(model) -> list[str]:
    """The model's training rounds (its metadata), the period whose data it learned."""
    rounds = (model.metadata.get("split") or {}).get("training_rounds") or []
    if not rounds:
        raise ValueError("the model records no training rounds; pass --reference")
    return [str(r) for r in rounds]


def _reason(kind: str, zh: str, en: str, **detail: object) -> dict:
    return {"kind": kind, "zh": zh, "en": en, **detail}


def check_round(warehouse, model, round_id: str, reference: Sequence[str] | None = None, *, seed: int = 0,
                replicates: int = N.DEFAULT_REPLICATES, chunk: int | None = None) -> dict:
    """Drift of ``round_id`` against ``reference`` (default: the model's training rounds); the rounds are read
    ``chunk`` households at a time (``load_rounds``), which changes the memory, not the report."""
    ref_ids = [str(r) for r in (reference or default_reference(model))]
    if round_id in ref_ids:
        raise ValueError(f"round {round_id} is part of the reference ({', '.join(ref_ids)}); pick a later round "
                         "or another --reference")
    rng = np.random.default_rng(seed)
    later = rounds_after(warehouse, ref_ids, round_id)
    rows = load_rounds(warehouse, [*ref_ids, *later], model, chunk)
    cur = rows.take(rows.rounds == round_id)
    ref = rows.take(np.isin(rows.rounds, ref_ids))
    binned = N.bin_by_reference(ref.values, cur.values)  # once for both: a pass over every column on disk
    indicators = indicator_drift(ref, cur, rng, replicates, binned)
    segments = segment_drift(ref, cur, rng, replicates, binned)
    del binned
    feeds = feed_drift(warehouse, round_id)
    order = warehouse.round_ids()
    ref_order = sorted(ref_ids, key=lambda r: order.index(r) if r in order else -1)
    before = [r for r in [*ref_order, *later] if r != round_id and order.index(r) < order.index(round_id)]
    prev_round = before[-1] if before else ref_order[-1]
    score = score_drift(ref.risk, ref.rounds, cur.risk, model.tier_thresholds, rng, replicates,
                        prev_risk=rows.risk[rows.rounds == prev_round], prev_round=prev_round, ref_order=ref_order,
                        rounds_since=max(order.index(round_id) - order.index(ref_order[-1]), 1))
    y_ref = ref.frame["falls_below_line"].to_numpy(dtype=float)
    y_cur = cur.frame["falls_below_line"].to_numpy(dtype=float)
    reference_realised = {**realised_metrics(y_ref, ref.risk), "rounds": ref_ids,
                          "note": "in the model's training rounds: optimistic",
                          "test": _test_metrics(model)}
    realised = None
    if np.isfinite(y_cur[np.isfinite(cur.risk)]).any():
        realised = {**realised_metrics(y_cur, cur.risk), "interval": realised_interval(y_cur, cur.risk, rng)}
    score["expected"].update(recalibrated_metrics(
        cur.risk, band_ratios(*_out_of_fit(rows, model, cur.frame["as_of"].min()))))
    reasons, verdict = verdict_of(indicators, segments, feeds, score)
    last_ref = max((order.index(r) for r in ref_ids if r in order), default=-1)
    decay = decay_by_round(rows, later, last_ref, order, rng, model)
    return {
        "round": round_id, "reference": ref_ids, "verdict": verdict, "verdict_zh": VERDICT_ZH[verdict],
        "reasons": reasons, "notes": notes_of(score),
        "indicators": [{"name": d.name, "psi": d.psi, "statistic": d.statistic, "statistic_name": d.statistic_name,
                        "threshold": d.threshold, "drifted": d.drifted, "missing_reference": d.missing_reference,
                        "missing_round": d.missing_round, "chi2_p": d.chi2_p,
                        **({"shares_reference": d.shares_reference, "shares_round": d.shares_round}
                           if i < CHARTED else {})}
                       for i, d in enumerate(sorted(indicators, key=lambda d: -d.psi / max(d.threshold, PSI_FLOOR)))],
        "segments": [asdict(s) for s in segments] + [
            {"by": "source", "value": f"{f.source}/{f.county}", "psi_max": None, "drifted": f.drifted,
             "events": f.events, "expected_events": f.expected, "rate_ratio": f.rate_ratio, "p_value": f.p_value}
            for f in feeds],
        "score": score["score"], "expected": score["expected"], "reference_realised": reference_realised,
        "realised": realised, "decay": decay, "model_version": getattr(model, "model_version", ""),
        "rows": {"round": int(len(cur.frame)), "reference": int(len(ref.frame))},
    }


def rounds_after(warehouse, ref_ids: list[str], round_id: str) -> list[str]:
    """Rounds after the last reference round up to ``round_id`` (``round_id`` alone when it is not later)."""
    order = list(warehouse.round_ids())
    if round_id not in order:
        raise ValueError(f"unknown round {round_id!r}; rounds in the warehouse: {', '.join(order)}")
    known = [order.index(r) for r in ref_ids if r in order]
    last = max(known) if known else -1
    later = order[last + 1:order.index(round_id) + 1]
    return later if round_id in later else [round_id]


def decay_by_round(rows, later: list[str], last_ref: int, order: list[str], rng: np.random.Generator,
                   model=None) -> list[dict]:
    """Realised against expected recall and precision at the budget for every labelled round after the
    reference up to the checked one: how the model ages, by rounds since its training data. The expected
    figures are given as is and recalibrated by the labelled rounds before it (``_out_of_fit``)."""
    out = []
    for r in later:
        part = rows.take(rows.rounds == r)
        y, risk = part.frame["falls_below_line"].to_numpy(dtype=float), part.risk
        if not np.isfinite(y[np.isfinite(risk)]).any():
            continue
        expected = expected_metrics(risk)
        expected.update(recalibrated_metrics(risk, band_ratios(*_out_of_fit(rows, model, part.frame["as_of"].min()))))
        out.append({"round": r, "rounds_since_training": order.index(r) - last_ref,
                    "expected": expected, "realised": realised_metrics(y, risk),
                    "interval": realised_interval(y, risk, rng)})
    return out


def _out_of_fit(rows, model, before) -> tuple[np.ndarray, np.ndarray]:
    """Risks and labels of rows the scorer was not fit on whose outcome was known before ``before``: the
    labelled rounds after the model's validation slice (its test round onwards) up to the round before. The
    validation slice itself only while there is no such round: early stopping and the calibration were fitted
    on it, so its top band looks better than any later year's (by 3-10 points of recall on simulated counties
    of 20,000). Empty when the model records no validation date."""
    import pandas as pd

    start = ((getattr(model, "metadata", None) or {}).get("split") or {}).get("valid_as_of")
    if start is None:
        return np.zeros(0), np.zeros(0)
    as_of = pd.to_datetime(rows.frame["as_of"])
    y = rows.frame["falls_below_line"].to_numpy(dtype=float)
    known = (as_of < pd.Timestamp(before)).to_numpy() & np.isfinite(y) & np.isfinite(rows.risk)
    later = known & (as_of > pd.Timestamp(start)).to_numpy()
    keep = later if later.any() else known & (as_of >= pd.Timestamp(start)).to_numpy()
    return rows.risk[keep], y[keep]


def _test_metrics(model) -> dict:
    m = model.metadata.get("metrics") or {}
    split = model.metadata.get("split") or {}
    test = split.get("test") or {}
    rate = test.get("positives") / test["rows"] if test.get("rows") else None
    return {"round": model.metadata.get("test_round"), "positive_rate": rate,
            "recall_at_10pct": m.get("recall_at_10pct"), "precision_at_10pct": m.get("precision_at_10pct")}


def verdict_of(indicators, segments, feeds, score) -> tuple[list[dict], str]:
    """Reasons (zh and en) and the verdict they add up to."""
    data, retrain = [], []
    for s in segments:
        if s.drifted:
            top = ", ".join(s.indicators[:TOP_IN_REASON])
            # ``moved`` counts every indicator beyond its range; the names are the largest movers of the
            # families that moved together, so they are named as such, not as the whole count
            data.append(_reason("segment", f"{BY_ZH[s.by]}「{s.value}」有 {s.moved} 个指标与本轮其他部分"
                                f"同时偏移，偏移最大的：{top}",
                                f"{s.by} {s.value}: {s.moved} indicators moved together against the rest "
                                f"of the round, most of all {top}",
                                by=s.by, value=s.value, indicators=s.indicators))
    for f in feeds:
        if f.drifted:
            word_zh, word_en = ("骤减或中断", "fell silent or dropped") if f.rate_ratio < 1 else ("激增", "surged")
            data.append(_reason("feed", f"来源 {f.source} 在「{f.county}」的事件{word_zh}：{f.events} 条，"
                                f"按往期应约 {f.expected:.0f} 条", f"source {f.source} in {f.county} {word_en}: "
                                f"{f.events} events where earlier rates give {f.expected:.0f}",
                                by="source", value=f.source, county=f.county))
    for d in indicators:
        if d.missing_jump and abs(d.missing_round - d.missing_reference) >= MIN_MISSING_JUMP:
            data.append(_reason("missing", f"指标 {d.name} 缺失比例由 {d.missing_reference:.1%} 变为 {d.missing_round:.1%}",
                                f"{d.name}: missing share {d.missing_reference:.1%} -> {d.missing_round:.1%}",
                                indicator=d.name))
    ex = score["expected"]
    for m in ex["outside_interval"]:
        lo, hi = ex["interval"][m]
        retrain.append(_reason("expected", f"预期 {m} 为 {ex[m]:.3f}，超出参考期范围 [{lo:.3f}, {hi:.3f}]",
                               f"expected {m} {ex[m]:.3f} outside the reference's range [{lo:.3f}, {hi:.3f}]",
                               metric=m))
    verdict = DATA_PROBLEM if data else RETRAIN if retrain else STABLE
    return data + retrain, verdict


def notes_of(score: dict) -> list[dict]:
    """What is worth a look but is no verdict: the risk distribution changed more in one round than it did
    between the reference's own rounds while the expected recall at the budget stayed in its range — the
    households moved along the score, the order of visits did not lose its worth."""
    sc = score["score"]
    if not sc["drifted"]:
        return []
    return [_reason("score", f"风险分布较上一轮（{sc['previous_round']}）的变化超出参照期逐年变化（PSI {sc['step_psi']:.3f}，"
                    f"阈值 {sc['step_threshold']:.3f}），预期召回率仍在范围内",
                    f"risk distribution moved more since round {sc['previous_round']} than between the reference's "
                    f"rounds (PSI {sc['step_psi']:.3f}, threshold {sc['step_threshold']:.3f}); expected recall "
                    "still in range")]
