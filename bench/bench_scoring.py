"""Batch scoring: ``povwatch score`` (chunked warehouse read → indicators → model → tiers) and
``RiskModel.score`` against a bare ``booster.predict`` on the same matrix.

Run: ``.venv/bin/python -m bench.bench_scoring``.
"""

from __future__ import annotations

import time

import pandas as pd

from bench.common import peak_rss_mb, simulated_warehouse


def main() -> dict[str, float]:
    from features.data.as_of import resolve_as_of
    from features.indicators.labels import build_examples, round_as_of
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from serving.batch import score_warehouse

    root = simulated_warehouse(50_000, 6, trained=True)
    wh = Warehouse(root)
    model = load_risk_model(root, "champion")
    rounds = round_as_of(wh)
    newest = str(rounds.index[-1])
    ind = build_examples(wh, [rounds[newest]])
    X = model.matrix(ind)
    n = len(X)

    t0 = time.perf_counter()
    model.booster.predict(X, raw_score=True)
    t_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.score(ind)
    t_model = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    scores, summary = score_warehouse(model, wh, when=resolve_as_of(wh, round_id=newest), explain_top=0.0)
    t_batch, c_batch = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    score_warehouse(model, wh, when=resolve_as_of(wh, round_id=newest), explain_top=0.2)
    t_batch_reasons, c_batch_reasons = time.perf_counter() - t0, time.process_time() - c0
    figures = {
        "households": float(n),
        "bare_predict_rows_per_s": n / t_bare,
        "score_indicators_rows_per_s": n / t_model,
        "ratio_score_indicators_vs_bare": t_model / t_bare,
        "povwatch_score_rows_per_s (from warehouse)": summary.scored / t_batch,
        "ratio_povwatch_score_vs_bare": t_batch / t_bare,
        "povwatch_score_with_top20pct_reasons_rows_per_s": summary.scored / t_batch_reasons,
        "ratio_povwatch_score_with_reasons_vs_bare": t_batch_reasons / t_bare,
        # CPU time of the process (all threads): what the work costs, whatever else shares the machine
        "povwatch_score_rows_per_cpu_s": summary.scored / c_batch,
        "povwatch_score_with_top20pct_reasons_rows_per_cpu_s": summary.scored / c_batch_reasons,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(pd.Series(figures).to_string(float_format=lambda v: f"{v:,.2f}"))
    return figures


if __name__ == "__main__":
    main()
