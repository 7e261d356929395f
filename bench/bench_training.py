"""Training on 1M examples: the default LightGBM candidate (early stopping) + calibration + tiers against a bare
``lightgbm.train`` with the same parameters and number of trees on the same matrix; time and peak memory.

Run: ``.venv/bin/python -m bench.bench_training``.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import psutil

from bench.common import simulated_warehouse

N_EXAMPLES = 1_000_000


class PeakRSS:
    """Samples this process's resident memory every 20 ms (catches LightGBM's native allocations too)."""

    def __enter__(self) -> "PeakRSS":
        self.peak = psutil.Process().memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, proc.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> dict[str, float]:
    import lightgbm as lgb

    from features.indicators.catalogue import FEATURES, feature_names
    from features.indicators.labels import build_examples, default_as_of_dates, round_as_of
    from features.data.warehouse import Warehouse
    from training.config import TrainConfig
    from training.splits import make_split
    from training.candidates import fit_candidates
    from training.train import calibrated_model

    wh = Warehouse(simulated_warehouse(50_000, 6))
    t0 = time.perf_counter()
    examples = build_examples(wh, default_as_of_dates(wh))
    t_examples = time.perf_counter() - t0
    examples = examples[examples["eligible"].eq(1) & examples["falls_below_line"].notna()]
    rng = np.random.default_rng(0)
    idx = rng.choice(len(examples), N_EXAMPLES, replace=len(examples) < N_EXAMPLES)
    examples = examples.iloc[np.sort(idx)].reset_index(drop=True)
    split = make_split(examples, round_as_of(wh))
    X = examples[feature_names()].astype("float64")
    y = examples["falls_below_line"].to_numpy(float)
    cfg = TrainConfig()
    categorical = [f.name for f in FEATURES if f.categorical]
    base = psutil.Process().memory_info().rss

    with PeakRSS() as mem_ours:
        t0 = time.perf_counter()
        scorers, iterations = fit_candidates(["lightgbm"], X, y, split.fit, split.valid, cfg, categorical)
        calibrated_model(scorers["lightgbm"], X, y, split, cfg, wh.lines())
        t_ours = time.perf_counter() - t0
    params = {"objective": "binary", "verbose": -1, "deterministic": True, "force_row_wise": True,
              **cfg.lightgbm.model_dump()}
    params.pop("num_threads")
    with PeakRSS() as mem_bare:
        t0 = time.perf_counter()
        lgb.train(params, lgb.Dataset(X[split.fit], y[split.fit], categorical_feature=categorical),
                  num_boost_round=iterations["lightgbm"])
        t_bare = time.perf_counter() - t0
    figures = {
        "examples": float(N_EXAMPLES),
        "fit_rows": float(split.fit.sum()),
        "build_examples_s (all as-of dates, 50k households x 6 rounds)": t_examples,
        "trees": float(iterations["lightgbm"]),
        "povwatch_fit_s": t_ours,
        "bare_lightgbm_train_s": t_bare,
        "ratio_fit_vs_bare": t_ours / t_bare,
        "povwatch_fit_peak_mb_over_start": (mem_ours.peak - base) / 2**20,
        "bare_train_peak_mb_over_start": (mem_bare.peak - base) / 2**20,
    }
    print(pd.Series(figures).to_string(float_format=lambda v: f"{v:,.2f}"))
    return figures


if __name__ == "__main__":
    main()
