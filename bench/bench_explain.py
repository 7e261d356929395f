"""Exact explanations for a whole county: rows/s of ``explain()`` and of LightGBM ``pred_contrib`` against
plain ``predict``, for (a) an unconstrained default LightGBM (num_leaves 31, no depth limit) and (b) our
training defaults (shallow trees, ``training.config``), with their roc_auc on a forward test round.

Data: the simulator's Python API (``features.simulator.run.simulate``), indicators at each round's as-of
date, labels from the next round; fit on the early rounds, early-stop on the next, test on the one after.
Run: ``.venv/bin/python -m bench.bench_explain`` (2 LightGBM threads, as on the target machine).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

HOUSEHOLDS = int(os.environ.get("BENCH_EXPLAIN_HOUSEHOLDS", "12000"))
ROUNDS = 5
SEED = 7
THREADS = 2
EXPLAIN_ROWS = 20_000


def CANDIDATES(ours: dict) -> list[tuple[str, dict]]:
    """Shallower shapes measured beside our defaults (a proposal for ``training.config``, not used by it)."""
    return [("d4_lr10", {**ours, "max_depth": 4, "num_leaves": 15, "learning_rate": 0.1}),
            ("d3_lr10", {**ours, "max_depth": 3, "num_leaves": 8, "learning_rate": 0.1})]


def _examples() -> tuple[pd.DataFrame, list[str]]:
    from features.indicators import build_indicators
    from features.indicators.labels import label_frame
    from features.simulator.run import simulate

    outs = list(simulate(HOUSEHOLDS, ROUNDS, SEED))
    hh = pd.concat([o.households for o in outs], ignore_index=True)
    mem = pd.concat([o.members for o in outs], ignore_index=True)
    ev = pd.concat([o.events for o in outs], ignore_index=True)
    frames = []
    for o in outs[:-1]:
        as_of = pd.Timestamp(o.households["survey_date"].max())
        ind = build_indicators(hh, mem, ev, None, as_of)
        lab = label_frame(hh, None, as_of)[["household_id", "falls_below_line"]]
        frames.append(ind.merge(lab, on="household_id").assign(split_round=o.round_id))
    data = pd.concat(frames, ignore_index=True)
    return data[data["falls_below_line"].notna()].reset_index(drop=True), [o.round_id for o in outs[:-1]]


def _fit(X: pd.DataFrame, y: np.ndarray, fit: np.ndarray, valid: np.ndarray, params: dict, categorical: list[str]):
    import lightgbm as lgb

    from models.calibration import Calibrator
    from models.risk_model import RiskModel
    from models.scorers import LightGBMScorer
    from models.tiers import fit_thresholds
    from training.config import TrainConfig

    cfg = TrainConfig()
    train_set = lgb.Dataset(X[fit], y[fit], categorical_feature=categorical)
    valid_set = lgb.Dataset(X[valid], y[valid], reference=train_set, categorical_feature=categorical)
    booster = lgb.train(params, train_set, num_boost_round=cfg.num_boost_round, valid_sets=[valid_set],
                        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)])
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration or None))
    margin = booster.predict(X[valid], raw_score=True)
    cal = Calibrator(method="platt").fit(margin, y[valid])
    tiers = fit_thresholds(cal.predict(margin), high_share=cfg.tier_high_share, medium_share=cfg.tier_medium_share)
    return RiskModel(scorer=LightGBMScorer(booster), calibrator=cal, tier_thresholds=tiers, feature_names=list(X.columns), lines=None)


def _depth(booster) -> tuple[float, int]:
    def d(node: dict) -> int:
        return 0 if "leaf_index" in node else 1 + max(d(node["left_child"]), d(node["right_child"]))

    depths = [d(t["tree_structure"]) for t in booster.dump_model()["tree_info"]]
    return float(np.mean(depths)), len(depths)


def _rate(fn, rows: int, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return rows / best


def main() -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    from features.indicators.catalogue import FEATURES, feature_names
    from models.explain import explain
    from training.config import TrainConfig

    t0 = time.perf_counter()
    data, rounds = _examples()
    names = feature_names()
    categorical = [f.name for f in FEATURES if f.categorical]
    X, y = data[names].astype("float64"), data["falls_below_line"].to_numpy(float)
    fit = data["split_round"].isin(rounds[:-2]).to_numpy()
    valid = (data["split_round"] == rounds[-2]).to_numpy()
    test = (data["split_round"] == rounds[-1]).to_numpy()
    ours = {"objective": "binary", "verbose": -1, "deterministic": True, "force_row_wise": True,
            **TrainConfig().lightgbm.model_dump(), "num_threads": THREADS}
    default = {**ours, "num_leaves": 31, "max_depth": -1, "min_data_in_leaf": 20}
    print(f"data: {len(data):,} labelled examples ({HOUSEHOLDS:,} households x {len(rounds)} rounds), "
          f"test round {rounds[-1]}: {test.sum():,} rows, {y[test].mean():.1%} fall below; built in "
          f"{time.perf_counter() - t0:.0f}s")
    Xt = X[test].iloc[:EXPLAIN_ROWS]
    ind_t = data.loc[test].iloc[:EXPLAIN_ROWS]
    results: dict[str, float] = {}
    for label, params in (("default", default), ("ours", ours), *CANDIDATES(ours)):
        model = _fit(X, y, fit, valid, params, categorical)
        auc = roc_auc_score(y[test], model.predict_proba(data.loc[test]))
        depth, trees = _depth(model.booster)
        results.update({
            f"{label}_roc_auc": float(auc), f"{label}_trees": float(trees), f"{label}_mean_depth": depth,
            f"{label}_predict_rows_s": _rate(lambda: model.booster.predict(Xt, raw_score=True), len(Xt)),
            f"{label}_pred_contrib_rows_s": _rate(lambda: model.booster.predict(Xt, pred_contrib=True), len(Xt)),
            f"{label}_explain_rows_s": _rate(lambda: explain(model, ind_t), len(Xt), repeat=1),
        })
    for label, _ in CANDIDATES(ours):
        print(f"candidate {label}: roc_auc {results[f'{label}_roc_auc']:.4f}, trees {results[f'{label}_trees']:.0f}, "
              f"pred_contrib {results[f'{label}_pred_contrib_rows_s']:,.0f} rows/s, explain() "
              f"{results[f'{label}_explain_rows_s']:,.0f} rows/s")
    results["roc_auc_gap"] = results["default_roc_auc"] - results["ours_roc_auc"]
    results["explain_speedup"] = results["ours_explain_rows_s"] / results["default_explain_rows_s"]
    _print(results)
    return results


def _print(r: dict[str, float]) -> None:
    rows = [("roc_auc (forward test round)", "roc_auc", "{:.4f}"), ("trees", "trees", "{:.0f}"),
            ("mean tree depth", "mean_depth", "{:.1f}"), ("predict rows/s", "predict_rows_s", "{:,.0f}"),
            ("pred_contrib rows/s", "pred_contrib_rows_s", "{:,.0f}"), ("explain() rows/s", "explain_rows_s", "{:,.0f}")]
    print(f"\n{'':32}{'default (31 leaves, no depth cap)':>36}{'ours (training defaults)':>28}")
    for title, key, fmt in rows:
        print(f"{title:32}{fmt.format(r[f'default_{key}']):>36}{fmt.format(r[f'ours_{key}']):>28}")
    print(f"\nexplain() speed-up ours/default: {r['explain_speedup']:.1f}x; "
          f"pred_contrib/predict cost ratio (ours): {r['ours_predict_rows_s'] / r['ours_pred_contrib_rows_s']:.0f}x")
    gap = r["roc_auc_gap"]
    verdict = "within" if gap <= 0.005 else "OUTSIDE"
    print(f"roc_auc gap default - ours: {gap:+.4f} ({verdict} the 0.005 budget); goal >= 5,000 explanations/s: "
          f"{'met' if r['ours_explain_rows_s'] >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
