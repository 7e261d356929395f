"""Reading the warehouse a household-id range at a time gives the same tables as reading it whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import invoke


def test_features_in_chunks_equal_the_whole_table(ingested_warehouse: Path, tmp_path: Path) -> None:
    from features.data.chunks import id_ranges
    from features.indicators.labels import build_examples, round_as_of
    from features.data.warehouse import Warehouse

    wh = Warehouse(ingested_warehouse)
    round_id = list(round_as_of(wh).index)[-2]
    ranges = id_ranges(wh, 700)
    assert len(ranges) >= 3 and all(a <= b for a, b in ranges)
    assert all(prev[1] < nxt[0] for prev, nxt in zip(ranges, ranges[1:]))  # disjoint, in order
    out = tmp_path / "features.parquet"
    invoke(["features", "--round", round_id, "--warehouse", str(ingested_warehouse), "--out", str(out),
            "--chunk", "700"])
    chunked = pd.read_parquet(out)
    whole = build_examples(wh, [pd.Timestamp(round_as_of(wh)[round_id])]).reset_index(drop=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)  # the same Parquet round trip (None -> missing)
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    assert list(chunked.columns) == list(whole.columns)
    assert chunked["falls_below_line"].notna().any()
    pd.testing.assert_frame_equal(chunked, whole, check_dtype=False)
    csv = tmp_path / "features.csv"
    invoke(["features", "--round", round_id, "--warehouse", str(ingested_warehouse), "--out", str(csv),
            "--chunk", "700"])
    assert len(pd.read_csv(csv)) == len(whole)


def test_warehouse_reads_equal_pandas_then_cast(ingested_warehouse: Path) -> None:
    """The Arrow-direct reader (``canonical.from_arrow``) gives exactly ``cast(read_parquet(...))``: values,
    dtypes, missing values (None in text, "" in enum lists, NA, NaN, NaT)."""
    import pyarrow.parquet as pq

    from features.data.canonical import cast, from_arrow
    from features.data.warehouse import Warehouse

    wh = Warehouse(ingested_warehouse)
    for table in ("households", "members", "events"):
        for path in wh._partitions(table).values():
            expected = cast(table, pd.read_parquet(path))
            pd.testing.assert_frame_equal(from_arrow(table, pq.read_table(path)), expected, check_exact=True)
    rounds = wh.round_ids()
    whole = wh.households(rounds)
    expected = cast("households", pd.concat([pd.read_parquet(p) for p in wh._partitions("households").values()],
                                            ignore_index=True))
    pd.testing.assert_frame_equal(whole, expected, check_exact=True)
    assert whole["household_id"].dtype == object and whole["risk_types"].eq("").any()


def test_members_of_chosen_households_per_round(ingested_warehouse: Path) -> None:
    from features.data.warehouse import Warehouse

    wh = Warehouse(ingested_warehouse)
    first, last = wh.round_ids()[0], wh.round_ids()[-1]
    ids = sorted(wh.households([last])["household_id"])[:5]
    got = wh.members(households={last: ids, first: ids[:1]})
    every = wh.members([first, last])
    want = every[(every["round_id"].eq(last) & every["household_id"].isin(ids))
                 | (every["round_id"].eq(first) & every["household_id"].isin(ids[:1]))]
    key = ["round_id", "household_id", "member_id"]
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True), want.sort_values(key, ignore_index=True))
    assert set(got["round_id"]) == {first, last}


def test_training_examples_in_chunks_equal_the_whole_table(ingested_warehouse: Path) -> None:
    """Training builds its examples range by range; the table is the whole-warehouse one exactly (values,
    dtypes, order), so the model trained on it is the same."""
    from features.data.chunks import examples_in_chunks
    from features.data.warehouse import Warehouse
    from features.indicators.labels import build_examples, default_as_of_dates

    wh = Warehouse(ingested_warehouse)
    dates = default_as_of_dates(wh)
    whole = build_examples(wh, dates)
    chunked = examples_in_chunks(wh, dates, chunk=700)
    assert len(whole) > 3 * 700 and whole["falls_below_line"].notna().any()
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)


def test_compact_training_examples_hold_the_same_values(ingested_warehouse: Path) -> None:
    """The compact table training keeps (labels and context, indicator matrix) has the whole table's rows in
    its order; each indicator's values are the float64 ones exactly, and some columns are smaller."""
    import numpy as np

    from features.data.chunks import compact_examples_in_chunks
    from features.data.warehouse import Warehouse
    from features.indicators.catalogue import feature_names
    from features.indicators.labels import build_examples, default_as_of_dates

    wh = Warehouse(ingested_warehouse)
    dates, names = default_as_of_dates(wh), feature_names()
    whole = build_examples(wh, dates)
    meta, X = compact_examples_in_chunks(wh, dates, names, chunk=700)
    assert list(X.columns) == names and list(meta.columns) == [c for c in whole.columns if c not in names]
    assert (X.dtypes == np.float16).any() and set(X.dtypes) <= {np.dtype(t) for t in ("float16", "float32", "float64")}
    np.testing.assert_array_equal(X.to_numpy(dtype="float64"), whole[names].to_numpy(dtype="float64"))
    for c in meta.columns:
        if isinstance(meta[c].dtype, pd.CategoricalDtype):
            pd.testing.assert_series_equal(meta[c].astype("object").where(meta[c].notna(), None),
                                           whole[c].where(whole[c].notna(), None), check_names=False)
        else:
            pd.testing.assert_series_equal(meta[c], whole[c], check_exact=True)


def test_drift_rounds_in_chunks_equal_one_chunk(trained_warehouse: Path, champion_model) -> None:
    """The drift check reads its rounds range by range; the rows, the compared matrix and the risks are those
    of a single whole-warehouse range, in the same order (so every bootstrap draws the same rows)."""
    import numpy as np

    from features.data.warehouse import Warehouse
    from training.monitoring.rounds import load_rounds

    wh = Warehouse(trained_warehouse)
    rounds = wh.round_ids()[-3:]
    whole = load_rounds(wh, rounds, champion_model, chunk=10**9)
    chunked = load_rounds(wh, rounds, champion_model, chunk=700)
    assert len(whole.frame) > 3 * 700 and set(whole.rounds) == set(rounds)
    pd.testing.assert_frame_equal(chunked.frame, whole.frame, check_exact=True)
    np.testing.assert_array_equal(chunked.values.to_array(), whole.values.to_array())
    np.testing.assert_array_equal(chunked.risk, whole.risk)


def test_worklist_inputs_in_chunks_equal_one_chunk(trained_warehouse: Path, champion_model) -> None:
    """``povwatch worklist`` reads the warehouse range by range; its status table is that of a single
    whole-warehouse range, row for row (a whole county, one county, and an unknown county's message)."""
    import pytest

    from features.data.chunks import id_ranges
    from features.indicators.labels import round_as_of
    from features.data.warehouse import Warehouse
    from serving.worklist_data import warehouse_inputs

    wh = Warehouse(trained_warehouse)
    as_of = round_as_of(wh)
    round_id = str(as_of.index[-1])
    when = pd.Timestamp(as_of[round_id])
    assert len(id_ranges(wh, 700)) >= 3
    whole = warehouse_inputs(champion_model, wh, as_of=when, round_id=round_id, chunk=10**9)
    chunked = warehouse_inputs(champion_model, wh, as_of=when, round_id=round_id, chunk=700)
    assert len(whole.status) > 3 * 700 and whole.status["previous_risk"].notna().any()
    pd.testing.assert_frame_equal(chunked.status, whole.status, check_exact=True)
    county = str(whole.status["county"].iloc[-1])
    one = warehouse_inputs(champion_model, wh, as_of=when - pd.Timedelta(days=40), county=county, chunk=700)
    whole_one = warehouse_inputs(champion_model, wh, as_of=when - pd.Timedelta(days=40), county=county, chunk=10**9)
    pd.testing.assert_frame_equal(one.status, whole_one.status, check_exact=True)
    messages = []
    for chunk in (700, 10**9):
        with pytest.raises(ValueError) as e:
            warehouse_inputs(champion_model, wh, as_of=when, county="no such county", chunk=chunk)
        messages.append(str(e.value))
    assert messages[0] == messages[1] and county in messages[0]


def _county_worklist(model, wh, when: pd.Timestamp, round_id: str, chunk: int):
    from datetime import date

    from models.worklist import build
    from serving.worklist_data import warehouse_inputs

    inputs = warehouse_inputs(model, wh, as_of=when, round_id=round_id, chunk=chunk)
    worklist = build(inputs.status, as_of=str(when.date()), model_version=str(model.model_version),
                     listed=inputs.listed, issued=date(2026, 1, 15))
    return inputs, worklist


def test_worklist_in_chunks_equals_one_chunk_with_reasons(trained_warehouse: Path, champion_model) -> None:
    """The whole worklist — channels, ranks, reasons and measures — is the same read in several household-id
    ranges as in one; pass 2 builds indicators only for the listed households that are not stale, re-reading
    only the ranges that hold them."""
    from features.data.chunks import id_ranges
    from features.data.warehouse import Warehouse
    from features.indicators.labels import round_as_of

    wh = Warehouse(trained_warehouse)
    as_of = round_as_of(wh)
    round_id = str(as_of.index[-1])
    when = pd.Timestamp(as_of[round_id])
    ranges = id_ranges(wh, 700, rounds=wh.round_ids())
    assert len(ranges) >= 3
    whole_inputs, whole = _county_worklist(champion_model, wh, when, round_id, 10**9)
    inputs, chunked = _county_worklist(champion_model, wh, when, round_id, 700)
    pd.testing.assert_frame_equal(chunked.entries, whole.entries, check_exact=True)
    explained = chunked.active
    assert explained["reasons"].map(len).gt(0).any() and len(explained) < len(inputs.status)
    assert inputs.listed.households_built == len(explained)
    assert len(whole_inputs.listed.ranges_read) == 1


def test_worklist_reasons_read_only_the_ranges_of_the_listed(trained_warehouse: Path, champion_model) -> None:
    """Pass 2 asked for households of one range reads that range only and builds their indicators only;
    their reasons are those of the whole-range read."""
    from features.data.warehouse import Warehouse
    from features.indicators.labels import round_as_of
    from serving.worklist_data import warehouse_inputs

    wh = Warehouse(trained_warehouse)
    as_of = round_as_of(wh)
    round_id = str(as_of.index[-1])
    when = pd.Timestamp(as_of[round_id])
    inputs = warehouse_inputs(champion_model, wh, as_of=when, round_id=round_id, chunk=700)
    second = inputs.listed.area.ranges[1]
    status = inputs.status[~inputs.status["stale"]]
    ids = [h for h in status["household_id"] if second[0] <= h <= second[1]][:5]
    assert len(ids) == 5
    got = inputs.listed(ids)
    assert inputs.listed.ranges_read == [second] and inputs.listed.households_built == len(ids)
    assert sorted(got) == sorted(ids)
    whole = warehouse_inputs(champion_model, wh, as_of=when, round_id=round_id, chunk=10**9).listed(ids)
    assert got == whole


def test_promotion_gate_in_chunks_equals_the_whole_round(trained_warehouse: Path, champion_model) -> None:
    """The gate builds and scores its round range by range: the labels and scores are those of the whole
    round's examples (``build_examples`` at the round's date), in the same order, and so is the comparison."""
    import numpy as np

    from features.data.warehouse import Warehouse
    from features.indicators.labels import build_examples, round_as_of
    from training.promote import gate_comparison, rule_scores
    from training.round_scores import score_round

    wh = Warehouse(trained_warehouse)
    rounds = round_as_of(wh)
    rid = list(rounds.index)[-2]  # the newest round with a next one
    examples = build_examples(wh, [rounds[rid]])
    rows = examples[(examples["round_id"] == rid) & examples["eligible"].eq(1) & examples["falls_below_line"].notna()]
    scorers = {"model": champion_model.predict_proba, "rule": lambda r: rule_scores(champion_model, r)}
    scored = score_round(wh, rid, rounds[rid], scorers, chunk=700)
    assert len(rows) > 3 * 700
    np.testing.assert_array_equal(scored.y, rows["falls_below_line"].to_numpy(float))
    assert list(scored.labels["household_id"]) == list(rows["household_id"].astype(str))
    np.testing.assert_array_equal(scored.scores["model"], champion_model.score(rows)["risk"].to_numpy())
    np.testing.assert_array_equal(scored.scores["rule"], rule_scores(champion_model, rows))
    assert gate_comparison(wh.root, champion_model, champion_model, chunk=700) == \
        gate_comparison(wh.root, champion_model, champion_model, chunk=10**9)
