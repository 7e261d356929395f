"""Labels: eligibility at the as-of date, the outcome at the next round, unlabelled without one; examples from
a real (temporary) warehouse."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from features.indicators.catalogue import feature_names
from features.indicators.labels import build_examples, default_as_of_dates, label_frame, round_as_of
from features.data.warehouse import Warehouse, atomic_write_parquet, partition_name
from tests.test_indicators import LINES, frames, panel, record


def _labels(as_of: str) -> pd.DataFrame:
    h, _, _ = panel()
    return label_frame(h, LINES, pd.Timestamp(as_of)).set_index("household_id")


def test_eligible_and_positive_negative_unlabelled() -> None:
    # panel: h1 and h2 comfortably above the line; h3 (general, wages 9000) below it in every round
    lab = _labels("2024-12-01")
    assert list(lab.index) == ["h1", "h2", "h3"]
    assert lab.loc["h1", "eligible"] == 1.0 and lab.loc["h3", "eligible"] == 0.0
    assert lab.loc["h1", "falls_below_line"] == 0.0 and lab.loc["h1", "label_round_id"] == "2025"
    assert lab.loc["h1", "label_date"] == pd.Timestamp("2025-11-18")
    assert np.isnan(lab.loc["h3", "falls_below_line"]) and pd.isna(lab.loc["h3", "label_date"])  # no 2025 round


def test_a_fall_at_the_next_round_is_positive() -> None:
    recs = [record("a", "2023", "2023-11-15"), record("a", "2024", "2024-11-15", wage_income=2000.0),
            record("b", "2023", "2023-11-15"), record("b", "2024", "2024-11-15", medical_expense=40000.0)]
    h, _, _ = frames(recs, [], [])
    lab = label_frame(h, LINES, pd.Timestamp("2023-12-31")).set_index("household_id")
    assert (lab["eligible"] == 1.0).all()
    assert lab.loc["a", "falls_below_line"] == 1.0  # income collapsed
    assert lab.loc["b", "falls_below_line"] == 1.0  # rigid medical spending pushed it under
    assert lab.loc["a", "label_round_id"] == "2024"
    # at the 2024 survey date the 2024 record is the current one and there is no next round
    later = label_frame(h, LINES, pd.Timestamp("2024-11-15")).set_index("household_id")
    assert later["eligible"].eq(0.0).all() and later["falls_below_line"].isna().all()


def _warehouse(root) -> Warehouse:
    h, m, e = panel()
    wh = Warehouse(root)
    for rid in h["round_id"].unique():
        atomic_write_parquet(h[h["round_id"] == rid], wh.table_dir("households") / partition_name("round_id", rid)
                             / "data.parquet")
        atomic_write_parquet(m[m["round_id"] == rid], wh.table_dir("members") / partition_name("round_id", rid)
                             / "data.parquet")
    for year, part in e.groupby(e["event_date"].dt.year):
        atomic_write_parquet(part, wh.table_dir("events") / partition_name("year", year) / "data.parquet")
    atomic_write_parquet(LINES, wh.table_dir("monitoring_lines") / "data.parquet")
    return wh


def test_round_as_of_and_default_dates(tmp_path) -> None:
    wh = _warehouse(tmp_path)
    ra = round_as_of(wh)
    assert ra.to_dict() == {"2023": pd.Timestamp("2023-11-15"), "2024": pd.Timestamp("2024-11-20"),
                            "2025": pd.Timestamp("2025-11-18")}
    dates = default_as_of_dates(wh)
    assert dates[:5] == [pd.Timestamp(d) for d in ("2023-11-15", "2024-01-01", "2024-04-01", "2024-07-01",
                                                   "2024-10-01")]
    assert dates[-1] == pd.Timestamp("2025-11-18") and len(dates) == 3 + 8
    assert default_as_of_dates(wh, quarterly=False) == list(ra)


def test_build_examples_joins_indicators_labels_and_context(tmp_path) -> None:
    wh = _warehouse(tmp_path)
    ex = build_examples(wh, [pd.Timestamp("2024-11-20"), pd.Timestamp("2025-03-01")])
    assert list(ex.columns) == ["household_id", "round_id", "survey_date", "as_of", *feature_names(),
                                "eligible", "falls_below_line", "label_round_id", "label_date",
                                "county", "village", "household_type", "is_monitored"]
    assert len(ex) == 6
    assert ex.fillna({"label_round_id": "-"}).groupby("as_of")["label_round_id"].apply(list).to_dict() == {
        pd.Timestamp("2024-11-20"): ["2025", "2025", "-"], pd.Timestamp("2025-03-01"): ["2025", "2025", "-"]}
    assert (ex["label_date"].dropna() > ex.loc[ex["label_date"].notna(), "as_of"]).all()
    h, m, e = panel()
    from features.indicators import build_indicators
    direct = build_indicators(h, m, e, LINES, pd.Timestamp("2025-03-01"))
    got = ex[ex["as_of"] == pd.Timestamp("2025-03-01")].reset_index(drop=True)[direct.columns]
    pd.testing.assert_frame_equal(got, direct)


def test_no_rounds_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="no rounds"):
        build_examples(Warehouse(tmp_path))


def _cli():
    import typer

    from commands.features import features_cmd
    app = typer.Typer()
    app.command("features")(features_cmd)
    app.command("noop")(lambda: None)  # keep "features" a sub-command, as in the povwatch app
    return app


def test_features_command_writes_csv_and_parquet(tmp_path) -> None:
    from typer.testing import CliRunner
    _warehouse(tmp_path / "wh")
    runner = CliRunner()
    res = runner.invoke(_cli(), ["features", "--round", "2024", "--warehouse", str(tmp_path / "wh"),
                                 "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "f.csv")
    assert list(table["household_id"]) == ["h1", "h2", "h3"]
    assert table["falls_below_line"].notna().sum() == 2 and set(feature_names()) <= set(table.columns)
    res = runner.invoke(_cli(), ["features", "--as-of", "2025-12-31", "--warehouse", str(tmp_path / "wh"),
                                 "--out", str(tmp_path / "f.parquet")])
    assert res.exit_code == 0, res.output
    assert pd.read_parquet(tmp_path / "f.parquet")["falls_below_line"].isna().all()  # no round after 2025
    # neither --round nor --as-of: the latest survey date in the warehouse (the 2025 round's last)
    res = runner.invoke(_cli(), ["features", "--warehouse", str(tmp_path / "wh"), "--out", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    latest = pd.read_csv(tmp_path / "d.csv")
    assert set(latest["as_of"]) == {str(pd.to_datetime(latest["survey_date"]).max().date())}


@pytest.mark.parametrize("args, message", [
    (["--round", "2024", "--as-of", "2025-01-01"], "exactly one of --round"),
    (["--round", "1999"], "rounds in the warehouse: 2023, 2024, 2025"),
    (["--round", "2024", "--out", "x.xlsx"], "must end in .csv or .parquet"),
])
def test_features_command_refuses_bad_options(tmp_path, args, message) -> None:
    from typer.testing import CliRunner
    _warehouse(tmp_path / "wh")
    out = ["--out", str(tmp_path / "f.csv")] if "--out" not in args else []
    res = CliRunner().invoke(_cli(), ["features", *args, "--warehouse", str(tmp_path / "wh"), *out])
    assert res.exit_code != 0
    assert message in re.sub(r"[\s│╭╮╰╯─]+", " ", res.output)  # rich draws a box around the error
