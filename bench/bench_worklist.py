"""Does the model channel add falls the statutory triggers miss, at the same number of visits?

On a simulated county, at the model's test round (the model saw no outcome after that round's date): the
worklist's channels as ``povwatch worklist --round R`` builds them, and the households that fell below the line
at the next round. Recall of falls among the households the list is there to find (current record, not already
below the line, not yet monitored: monitored households are followed up, not identified again), for three lists:

- ``trigger``: the trigger channel alone;
- ``trigger+model``: triggers plus the model channel (default capacity, 10 % of eligible per village);
- ``trigger+rule``: triggers plus the same number of places per village filled by the rule's own ranking
  (lowest hardship income ratio first) — the same capacity without the model.

95 % intervals: percentile bootstrap over households (2,000 resamples), also for the differences.
Run: ``.venv/bin/python -m bench.bench_worklist [households] [rounds] [seed]`` (default 2,500 x 4, seed 5).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from bench.common import quiet, simulated_warehouse

RESAMPLES = 2000


def lists(warehouse, model, round_id: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Status and channel of every household at round ``round_id``, plus the rule-filled alternative."""
    from features.data.warehouse import Warehouse
    from models.worklist import TriggerConfig, WorklistOptions, capacity_of, select
    from features.data.as_of import resolve_as_of
    from serving.worklist_data import warehouse_inputs

    wh = Warehouse(warehouse)
    resolved = resolve_as_of(wh, round_id, None)
    as_of, rid = resolved.date, resolved.round_id
    status, _ = warehouse_inputs(model, wh, as_of=as_of, round_id=rid)
    options = WorklistOptions(audit_share=0.0)
    picked = select(status, TriggerConfig(), options).set_index("household_id")["channel"]
    status["channel"] = status["household_id"].map(picked).fillna("")
    eligible = ~status["stale"] & ~status["below_line"]
    status["rule_fill"] = False
    free = status["channel"].isin(["", "model"]) & ~status["monitored"].astype(bool)
    for _, part in status[eligible & free].groupby("village"):
        places = capacity_of(int((eligible & (status["village"] == part["village"].iloc[0])).sum()), options)
        chosen = part.sort_values(["hardship_ratio", "household_id"]).index[:places]
        status.loc[chosen, "rule_fill"] = True
    return status, as_of


def main(households: int = 2500, rounds: int = 4, seed: int = 5) -> dict[str, float]:
    from features.indicators.labels import label_frame
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model

    quiet()
    root = simulated_warehouse(households, rounds, seed, trained=True)
    model = load_risk_model(root, "champion")
    test_round = str(model.metadata["test_round"])
    status, as_of = lists(root, model, test_round)
    labels = label_frame(Warehouse(root).households(), model.lines, as_of).set_index("household_id")
    status["fell"] = status["household_id"].map(labels["falls_below_line"])
    findable = ~status["stale"] & ~status["below_line"] & ~status["monitored"].astype(bool)
    pop = status[findable & status["fell"].notna()].reset_index(drop=True)
    fell = pop["fell"].to_numpy() == 1
    trig = pop["channel"].eq("trigger").to_numpy()
    arms = {"trigger": trig, "trigger+model": trig | pop["channel"].eq("model").to_numpy(),
            "trigger+rule": trig | pop["rule_fill"].to_numpy()}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(pop), size=(RESAMPLES, len(pop)))

    def recall(mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray | float:
        if rows is None:
            return float((mask & fell).sum() / max(fell.sum(), 1))
        return (mask[rows] & fell[rows]).sum(axis=1) / np.maximum(fell[rows].sum(axis=1), 1)

    boot = {k: recall(m, idx) for k, m in arms.items()}
    out: dict[str, float] = {}
    print(f"simulated county {households:,} households x {rounds} rounds (seed {seed}); worklist at round "
          f"{test_round} ({as_of.date()}), model v{model.model_version}; {len(pop):,} eligible labelled "
          f"households, {int(fell.sum())} fell at the next round")
    print(f"{'list':<15} {'visits':>7} {'falls found':>12} {'recall':>8}  95% CI")
    for k, m in arms.items():
        lo, hi = np.percentile(boot[k], [2.5, 97.5])
        r = recall(m)
        out[f"{k}_recall"], out[f"{k}_visits"] = r, int(m.sum())
        print(f"{k:<15} {int(m.sum()):>7} {int((m & fell).sum()):>12} {r:>8.3f}  [{lo:.3f}, {hi:.3f}]")
    for a, b in (("trigger+model", "trigger"), ("trigger+model", "trigger+rule")):
        d = boot[a] - boot[b]
        lo, hi = np.percentile(d, [2.5, 97.5])
        out[f"{a}_minus_{b}"] = recall(arms[a]) - recall(arms[b])
        print(f"{a} - {b}: {out[f'{a}_minus_{b}']:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    return out


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
