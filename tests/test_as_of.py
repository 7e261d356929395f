"""The one as-of rule (``features.data.as_of``): default dates, reference rounds, stale households, and every command
agreeing on the same household at the same date."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import invoke


@pytest.fixture(scope="module")
def wh(trained_warehouse: Path):
    from features.data.warehouse import Warehouse

    return Warehouse(trained_warehouse)


def test_default_as_of_is_the_latest_survey_date_and_a_round_is_its_last_date(wh) -> None:
    from features.data.as_of import resolve_as_of

    rounds = wh.rounds().sort_values("first_date")
    newest = rounds.iloc[-1]
    default = resolve_as_of(wh)
    assert default.date == pd.Timestamp(newest["last_date"]).normalize()
    assert (default.round_id, default.round_start) == (str(newest["round_id"]), pd.Timestamp(newest["first_date"]))
    first = rounds.iloc[0]
    by_round = resolve_as_of(wh, round_id=str(first["round_id"]))
    assert by_round.date == pd.Timestamp(first["last_date"]).normalize() and by_round.round_id == str(first["round_id"])
    with pytest.raises(ValueError, match="unknown round 'nope'; rounds in the warehouse: " + str(first["round_id"])):
        resolve_as_of(wh, round_id="nope")
    with pytest.raises(ValueError, match="exactly one"):
        resolve_as_of(wh, round_id=str(first["round_id"]), as_of="2024-01-01")
    with pytest.raises(ValueError, match="no survey round has records on or before"):
        resolve_as_of(wh, as_of=pd.Timestamp(first["first_date"]) - pd.Timedelta(days=1))


def test_during_fieldwork_the_reference_round_is_the_last_complete_one(wh) -> None:
    """A date inside the newest round's survey period: households not yet re-surveyed are current with the
    previous round (not stale); a household whose newest record is two rounds old is."""
    from features.data.as_of import resolve_as_of, stale_mask

    rounds = wh.rounds().sort_values("first_date")
    newest, previous = rounds.iloc[-1], rounds.iloc[-2]
    inside = pd.Timestamp(newest["first_date"]) + (pd.Timestamp(newest["last_date"]) - pd.Timestamp(newest["first_date"])) / 2
    when = resolve_as_of(wh, as_of=inside.normalize())
    assert when.round_id == str(previous["round_id"])
    dates = pd.Series([previous["first_date"], newest["first_date"], rounds.iloc[-3]["last_date"]])
    assert stale_mask(dates, when.round_start).tolist() == [False, False, True]
    assert not stale_mask(dates, None).any()


def test_a_document_without_as_of_is_assessed_at_the_latest_date_it_knows(wh, champion_model) -> None:
    from features.data.as_of import documents_as_of
    from features.data.documents_from_warehouse import household_documents

    out = documents_as_of(3, np.array(["2024-03-01", "2023-03-01", "2024-02-01"], dtype="datetime64[ns]"),
                          np.array([0, 0, 2]), np.array(["2024-05-02", "2024-01-01"], dtype="datetime64[ns]"),
                          np.array([0, 2]))
    assert [str(d)[:10] for d in out] == ["2024-05-02", "NaT", "2024-02-01"]

    when = wh.rounds()["last_date"].max() + pd.Timedelta(days=50)
    ids = sorted(wh.events(end=when)["household_id"].unique())[:20]
    docs = household_documents(wh, ids, when)
    undated = [{k: v for k, v in copy.deepcopy(d).items() if k != "as_of"} for d in docs]
    own = [max([d["record"]["survey_date"], *(e["event_date"] for e in d["events"])]) for d in docs]
    dated = [{**d, "as_of": day} for d, day in zip(undated, own)]
    a, b = champion_model.score_households(undated), champion_model.score_households(dated)
    assert [str(x.date()) for x in a["as_of"]] == own
    pd.testing.assert_frame_equal(a, b)


def test_score_report_service_and_notebook_agree_at_the_default_as_of(trained_warehouse: Path, wh, champion_model,
                                                                        tmp_path: Path) -> None:
    """No date given anywhere: ``povwatch score``, the notebook's call, ``povwatch report`` and the service
    (given the warehouse document at that date) agree to the last digit."""
    from features.data.as_of import resolve_as_of
    from features.data.documents_from_warehouse import household_documents
    from serving.batch import score_warehouse
    from tests.test_service import service_client

    out = tmp_path / "scores.parquet"
    invoke(["score", "--warehouse", str(trained_warehouse), "--out", str(out), "--explain-top", "0"])
    cli = pd.read_parquet(out)
    when = resolve_as_of(wh)
    assert (pd.to_datetime(cli["as_of"]) == when.date).all()
    notebook, _ = score_warehouse(champion_model, wh, when=resolve_as_of(wh), explain_top=0.0)  # as the notebook
    pd.testing.assert_frame_equal(cli[["household_id", "risk", "tier", "eligible", "stale"]],
                                  notebook[["household_id", "risk", "tier", "eligible", "stale"]])

    picked = list(cli["household_id"].iloc[[0, 1, len(cli) // 2, len(cli) - 1]])
    cli = cli.set_index("household_id")
    docs = household_documents(wh, picked, when.date)
    r = service_client(trained_warehouse).post("/score", json={"households": docs})
    assert r.status_code == 200, r.text
    for x in r.json()["results"]:
        row = cli.loc[x["household_id"]]
        assert (x["risk"], x["tier"], x["eligible"]) == (row["risk"], row["tier"], bool(row["eligible"]))
    for h in picked[:2]:
        page = tmp_path / f"{h}.html"
        invoke(["report", "--household", h, "--warehouse", str(trained_warehouse), "--out", str(page)])
        html = page.read_text(encoding="utf-8")
        risk, tier = re.search(r'data-risk="([^"]+)" data-tier="([^"]+)"', html).groups()
        assert (float(risk), tier) == (cli.loc[h, "risk"], cli.loc[h, "tier"])
        assert str(when.date.date()) in html
