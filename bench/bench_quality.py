"""Quality on simulated data: 50k households x 6 rounds, default training config; prints the
model vs the rule and logit baselines vs the oracle ceiling on the newest labelled round.

Run: ``make quality`` (or ``.venv/bin/python -m bench.bench_quality [--households N --rounds R]``; ``make
quality QUALITY_ARGS="--households 3000"`` for a small try, which prints but does not rewrite
docs/quality.md). Not part of ``make bench``: it is about accuracy, not speed.
"""

from __future__ import annotations

import shutil

from bench.common import CACHE, quiet, simulated_warehouse

HOUSEHOLDS, ROUNDS, SEED = 50_000, 6, 5
# A sharper oracle than the simulator default: with 32 re-simulations a 3% risk is estimated as 0/32 or
# 1/32, which costs the oracle ROC AUC; 256 brings the Monte Carlo error of a 5% risk to about ±1.4 points.
TRUTH_REPLICATES = 256


def main(households: int = HOUSEHOLDS, rounds: int = ROUNDS) -> dict[str, float]:
    from training.intervals import format_intervals
    from training.train import format_table, train

    quiet()
    root = simulated_warehouse(households, rounds, SEED, truth_replicates=TRUTH_REPLICATES)
    # a copy with a registry of its own, so quality runs never add versions to the shared cached warehouse
    quality = CACHE / f"quality-{households}x{rounds}-s{SEED}-t{TRUTH_REPLICATES}"
    shutil.rmtree(quality, ignore_errors=True)
    shutil.copytree(root, quality, ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts", "bentoml"))
    result = train(quality)
    print(f"test round {result.split['test_round']}: {result.split['test']['rows']} households, "
          f"{result.split['test']['positives']} fell")
    print(format_table(result.table))
    print(f"choice: {result.selection.summary()}")
    print(format_intervals(result.intervals))
    print(f"verdict: {result.verdict}")
    print(monitored_lines(result.audit))
    if (households, rounds) == (HOUSEHOLDS, ROUNDS):
        _write_readme(result)
    m = result.metrics
    return {k: m[k] for k in ("roc_auc", "recall_at_10pct", "rule_roc_auc", "rule_recall_at_10pct",
                              "logit_roc_auc", "logit_recall_at_10pct", "oracle_roc_auc", "oracle_recall_at_10pct")
            if k in m}


def monitored_lines(audit: dict | None) -> str:
    """Recall at the budget among households not yet monitored and among those already monitored, with the
    equity audit's bootstrap 95 % intervals (the same 10 % list, drawn over the whole round)."""
    if not audit:
        return "recall by monitoring status: no audit in this run"
    rows = [g for g in audit["groups"] if g["attribute"] == "is_monitored"]
    labels = {"no": "not yet monitored", "false": "not yet monitored", "yes": "already monitored",
              "true": "already monitored"}
    out = []
    for g in sorted(rows, key=lambda g: str(g["group"]).lower() not in ("no", "false")):
        low, high = g["recall_ci"]
        ci = f" [{low:.4f}, {high:.4f}]" if low is not None and high is not None else ""
        recall = "—" if g["recall"] is None else f"{g['recall']:.4f}"
        out.append(f"recall_at_10pct, {labels.get(str(g['group']).lower(), g['group'])} ({g['n']:,} households, "
                   f"{g['falls']:,} fell): {recall}{ci}")
    return "\n".join(out) or "recall by monitoring status: is_monitored not audited"


def _write_readme(result) -> None:
    """The printed tables, verbatim, into docs/quality.md (between the quality markers)."""
    from datetime import date

    from bench.run_all import update_readme
    from training.intervals import format_intervals
    from training.train import format_table

    start, end = "<!-- quality:start -->", "<!-- quality:end -->"
    split = result.split
    block = (f"{start}\n\n`make quality` on {date.today().isoformat()}: test round {split['test_round']}, "
             f"{split['test']['rows']:,} households, {split['test']['positives']:,} fell "
             f"(trained on rounds {', '.join(split['training_rounds'])}).\n\n```\n{format_table(result.table)}\n\n"
             f"choice: {result.selection.summary()}\n{format_intervals(result.intervals)}\n"
             f"verdict: {result.verdict}\n{monitored_lines(result.audit)}\n```\n\n{end}")
    update_readme(block, start, end, page="docs/quality.md")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Quality on simulated data: model vs rule vs oracle.")
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    main(args.households, args.rounds)
