"""Learning curve: from how many households does a model pay over the county's rule?

For each size: simulate that many households (``--profile full`` or ``sparse``), ingest, ``train`` with the
default selection, and record the best candidate's forward gain over the rule (recall at the budget, mean over
the forward origins, with its paired 95 % interval: a model replaces the rule only when it is above zero), the
chosen candidate and the test-round difference model − rule with its bootstrap 95 % interval. Each size is its own warehouse under ``bench/.cache`` (its own registry).

Run: ``.venv/bin/python -m bench.bench_learning_curve --sizes 1000,3000 [--profile sparse] [--rounds 5]``.
Large sizes (30k, 100k) take long on a shared machine; ``docs/quality.md`` says which sizes were run.
"""

from __future__ import annotations

import argparse
import shutil

import pandas as pd

from bench.common import CACHE, _run, quiet


def one_size(households: int, rounds: int, seed: int, profile: str) -> dict[str, object]:
    from training.train import train

    tag = f"curve-{profile}-{households}x{rounds}-s{seed}"
    raw, root = CACHE / f"sim-{tag}", CACHE / f"wh-{tag}"
    shutil.rmtree(root, ignore_errors=True)
    if not (raw / "households.parquet").exists():
        shutil.rmtree(raw, ignore_errors=True)
        _run(["simulate", "--households", str(households), "--rounds", str(rounds), "--seed", str(seed),
              "--profile", profile, "--out", str(raw)])
    _run(["ingest", str(raw), "--warehouse", str(root)])
    result = train(root)
    d = result.intervals.loc["model − rule"]
    gains = result.selection.gains
    best = gains["gain"].idxmax()
    return {"households": households, "profile": profile, "test_rows": result.split["test"]["rows"],
            "test_fallers": result.split["test"]["positives"],
            "forward_best_gain": f"{best} {gains.loc[best, 'gain']:+.4f} [{gains.loc[best, 'low']:+.4f}, "
                                 f"{gains.loc[best, 'high']:+.4f}]",
            "chosen": result.selection.chosen,
            "roc_auc": result.metrics["roc_auc"], "rule_roc_auc": result.metrics["rule_roc_auc"],
            "d_roc_auc": f"{d['roc_auc']:+.4f} [{d['roc_auc_low']:+.4f}, {d['roc_auc_high']:+.4f}]",
            "recall_at_10pct": result.metrics["recall_at_10pct"],
            "rule_recall_at_10pct": result.metrics["rule_recall_at_10pct"],
            "d_recall_at_10pct": f"{d['recall_at_10pct']:+.4f} [{d['recall_at_10pct_low']:+.4f}, "
                                 f"{d['recall_at_10pct_high']:+.4f}]"}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000", help="comma-separated household counts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", default="full", choices=["full", "sparse"])
    args = parser.parse_args(argv)
    quiet()
    rows = [one_size(int(n), args.rounds, args.seed, args.profile) for n in args.sizes.split(",")]
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return table


if __name__ == "__main__":
    main()
