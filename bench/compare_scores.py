"""Before/after check for a change to the scoring path: ``score_warehouse`` (reasons for the top 20 %, zh and
en) saved as Parquet by one version of the code, and compared row for row by another — same household ids in
the same order, risks equal to the bit, same tiers and flags, same reason indicators, values and sentences.

    python -m bench.compare_scores WAREHOUSE --save before.parquet      # with the old code
    python -m bench.compare_scores WAREHOUSE --against before.parquet   # with the new code
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def scores(root: Path, round_id: str | None, explain_top: float) -> pd.DataFrame:
    """Both languages' score tables side by side (the en reason texts as ``<col>_en``)."""
    from features.data.as_of import resolve_as_of
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from serving.batch import REASON_COLUMNS, score_warehouse

    wh = Warehouse(root)
    model = load_risk_model(root, "champion")
    when = resolve_as_of(wh, round_id or wh.round_ids()[-1], None)
    zh, _ = score_warehouse(model, wh, when=when, explain_top=explain_top, lang="zh")
    en, _ = score_warehouse(model, wh, when=when, explain_top=explain_top, lang="en")
    if not zh["household_id"].equals(en["household_id"]):
        raise AssertionError("zh and en runs ranked the households differently")
    return zh.assign(**{f"{c}_en": en[c] for c in REASON_COLUMNS})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--round", default=None, help="round to score (default: the newest)")
    parser.add_argument("--explain-top", type=float, default=0.2)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--save", type=Path, help="write this code's scores here")
    what.add_argument("--against", type=Path, help="compare this code's scores with a saved table")
    args = parser.parse_args()
    got = scores(args.warehouse, args.round, args.explain_top)
    if args.save:
        got.to_parquet(args.save, index=False)
        print(f"{len(got):,} households saved to {args.save}")
        return
    before = pd.read_parquet(args.against)
    got = pd.read_parquet(_roundtrip(got, args.against))  # the same Parquet types on both sides
    pd.testing.assert_frame_equal(got, before, check_exact=True)
    explained = int(before["reason_1"].ne("").sum())
    print(f"identical: {len(got):,} households (ids, order, risk, tier, eligible, stale), reasons of {explained:,} "
          "(indicators, values, zh and en sentences)")


def _roundtrip(frame: pd.DataFrame, beside: Path) -> Path:
    path = beside.with_name(beside.stem + ".after.parquet")
    frame.to_parquet(path, index=False)
    return path


if __name__ == "__main__":
    main()
