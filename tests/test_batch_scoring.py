"""``score_warehouse`` reads each chunk once and keeps only the best-ranked households' indicators for the
reasons: its output must equal scoring the whole warehouse at once and explaining its top K% directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def test_chunked_single_pass_equals_the_whole_table(trained_warehouse: Path, champion_model) -> None:
    from features.data.as_of import resolve_as_of, rounds_known_at
    from features.indicators import build_indicators
    from features.data.warehouse import Warehouse
    from serving.batch import REASON_COLUMNS, REASON_DETAIL_COLUMNS, ranked, score_warehouse

    wh = Warehouse(trained_warehouse)
    when = resolve_as_of(wh, None, wh.rounds()["last_date"].iloc[-2] + pd.Timedelta(days=120))
    rounds = rounds_known_at(wh, when.date)
    ind = build_indicators(wh.households(rounds), wh.members(rounds), wh.events(end=when.date),
                           champion_model.lines, when.date)
    whole = champion_model.score(ind, explain_top=3, lang="en", round_start=when.round_start)
    whole = whole.rename(columns={f"reason_{k}_text": f"reason_{k}" for k in (1, 2, 3)})
    whole = ranked(whole)
    n_explain = int(np.ceil(0.2 * whole["eligible"].sum()))
    assert 0 < n_explain < len(whole)
    for col in REASON_COLUMNS + REASON_DETAIL_COLUMNS:  # reasons only for the top K% of the eligible
        whole.loc[n_explain:, col] = None if col.endswith("_value") else ""
    for chunk in (300, 100_000):
        got, summary = score_warehouse(champion_model, wh, when=when, explain_top=0.2, chunk=chunk, lang="en")
        assert summary.explained == n_explain and summary.scored == len(whole)
        pd.testing.assert_frame_equal(got, whole[list(got.columns)], check_dtype=False, check_exact=True)
        assert got.loc[:n_explain - 1, "reason_1"].ne("").all()
