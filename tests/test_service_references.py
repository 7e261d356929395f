"""Reference requests: ``{"household_id", "events", "as_of"}`` scored from the service's warehouse plus the events
sent — the same answers as the whole document, and a clear 404 for a household the warehouse does not hold."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.test_service import _as_of, _fields, service_client

HOSPITAL = {"event_type": "hospitalization", "amount": 30000.0, "source": "cadre_visit"}


@pytest.fixture(scope="module")
def api(trained_warehouse: Path):
    return service_client(trained_warehouse)


@pytest.fixture(scope="module")
def sample(trained_warehouse: Path) -> tuple[pd.Timestamp, list[dict]]:
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    as_of = _as_of(trained_warehouse)
    ids = sorted(wh.households()["household_id"].unique())[::50][:40]
    return as_of, household_documents(wh, ids, as_of)


def _risks(api, items: list[dict]) -> list[float]:
    r = api.post("/score", json={"households": items})
    assert r.status_code == 200, r.text
    return [x["risk"] for x in r.json()["results"]]


def _ref(doc: dict, events: list[dict] | None = None) -> dict:
    ref = {"household_id": doc["record"]["household_id"], "as_of": doc["as_of"]}
    return {**ref, "events": events} if events is not None else ref


def _results(api, items: list[dict]) -> list[dict]:
    r = api.post("/score", json={"households": items})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _as_of_dates(warehouse: Path) -> list[pd.Timestamp]:
    """Before any survey, the first and last day of each round, one day into it, and between rounds."""
    from features.data.warehouse import Warehouse

    rounds = Warehouse(warehouse).rounds()
    days = [rounds["first_date"].min() - pd.Timedelta(days=1), _as_of(warehouse)]
    for first, last in zip(rounds["first_date"], rounds["last_date"]):
        days += [first, first + pd.Timedelta(days=1), last]
    return [pd.Timestamp(d).normalize() for d in days]


def test_reference_scores_equal_the_document(api, sample) -> None:
    _, docs = sample
    assert _results(api, [_ref(d) for d in docs]) == _results(api, docs)  # exactly: risk, tier, warnings, ...


def test_reference_documents_equal_the_warehouse_documents(trained_warehouse: Path) -> None:
    """Every household of the warehouse, at as-of dates inside and between rounds: the document a reference
    becomes is the one ``household_documents`` builds, value for value and type for type (compared as JSON)."""
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse
    from serving.references import ReferenceStore

    wh, store = Warehouse(trained_warehouse), ReferenceStore(trained_warehouse)
    ids = sorted(wh.households()["household_id"].unique())
    compared = 0
    for as_of in _as_of_dates(trained_warehouse):
        expected = household_documents(wh, ids, as_of)
        refs = [{"household_id": h, "as_of": as_of.date().isoformat()} for h in ids]
        got, unknown = store.documents(refs, as_of)
        assert len(unknown) == len(ids) - len(expected)
        assert json.dumps([d for d in got if "record" in d]) == json.dumps(expected)
        compared += len(expected)
    assert compared > 2 * len(ids)


def test_reference_frames_equal_the_frames_of_their_documents(trained_warehouse: Path) -> None:
    """A request of references only is scored from frames taken straight from the warehouse's rows: they equal
    the frames of the documents the references become — every value and dtype, each row's place in the request,
    and the problems found — with sent events (one replacing a stored event, some unreadable) and without."""
    import numpy as np

    from features.data.documents import problems, to_frames
    from features.data.warehouse import Warehouse
    from serving.references import ReferenceStore

    wh, store = Warehouse(trained_warehouse), ReferenceStore(trained_warehouse)
    ids = sorted(wh.households()["household_id"].unique())
    stored = wh.events()
    first_event = stored.sort_values(["household_id", "event_date"]).groupby("household_id").head(1)
    first_event = dict(zip(first_event["household_id"], zip(first_event["event_date"], first_event["event_type"])))
    found = []
    for as_of in _as_of_dates(trained_warehouse)[1:]:
        day = as_of.date().isoformat()
        refs = [{"household_id": h, "as_of": day} for h in ids]
        for k, ref in enumerate(refs[1::3]):
            ref["events"] = [{**HOSPITAL, "event_date": (as_of - pd.Timedelta(days=5)).date().isoformat()}]
            if h_event := first_event.get(ref["household_id"]):
                if h_event[0] <= as_of:
                    ref["events"].append({"event_date": h_event[0].date().isoformat(), "event_type": h_event[1],
                                          "amount": 5.0, "source": "cadre_visit"})
            if k % 5 == 0:
                ref["events"].append({"event_date": "2021-02-30", "event_type": "hospitalization"})
        docs, _ = store.documents(refs, as_of)
        known = [r for r, d in zip(refs, docs) if "record" in d]
        direct, unknown = store.frames(known, as_of)
        assert not unknown and len(known)
        via_documents = to_frames([d for d in docs if "record" in d])
        for name in ("records", "members", "events"):
            pd.testing.assert_frame_equal(getattr(direct, name), getattr(via_documents, name), check_exact=True)
        pd.testing.assert_series_equal(direct.as_of, via_documents.as_of, check_exact=True)
        for name in ("record_item", "record_history", "member_record", "member_position", "event_item",
                     "event_position"):
            assert np.array_equal(getattr(direct, name), getattr(via_documents, name)), name
        assert problems(direct) == problems(via_documents)
        found += problems(direct)
    assert any("events" in p.path for p in found)  # the unreadable dates were seen, at their place


def test_reference_scores_equal_the_document_inside_a_round(api, trained_warehouse: Path) -> None:
    """As of the middle of the last round's survey weeks: some households have its record, others only earlier
    ones."""
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    last = wh.rounds().iloc[-1]
    as_of = pd.Timestamp(last["first_date"] + (last["last_date"] - last["first_date"]) / 2).normalize()
    docs = household_documents(wh, sorted(wh.households()["household_id"].unique())[::20][:60], as_of)
    assert len({len(d["history"]) for d in docs}) > 1
    assert _results(api, [_ref(d) for d in docs]) == _results(api, docs)


def test_new_event_by_reference_equals_the_document_with_it(api, sample) -> None:
    as_of, docs = sample
    event = {**HOSPITAL, "event_date": (as_of - pd.Timedelta(days=10)).date().isoformat()}
    with_event = copy.deepcopy(docs)
    for d in with_event:
        d["events"].append(event)
    by_document = _risks(api, with_event)
    by_reference = _risks(api, [_ref(d, [event]) for d in docs])
    assert by_reference == by_document
    before = _risks(api, [_ref(d) for d in docs])
    assert all(a >= b for a, b in zip(by_reference, before)) and sum(by_reference) > sum(before)


def test_documents_and_references_mix_in_one_request(api, sample) -> None:
    _, docs = sample
    mixed = [d if i % 2 else _ref(d) for i, d in enumerate(docs)]
    r = api.post("/score", json={"households": mixed})
    assert r.status_code == 200, r.text
    assert [x["household_id"] for x in r.json()["results"]] == [d["record"]["household_id"] for d in docs]
    assert [x["risk"] for x in r.json()["results"]] == _risks(api, docs)


def test_explain_and_report_take_a_reference(api, sample) -> None:
    _, docs = sample
    r = api.post("/explain", json={"household": _ref(docs[3])})
    assert r.status_code == 200, r.text
    assert r.json()["household_id"] == docs[3]["record"]["household_id"]
    assert r.json()["risk"] == _risks(api, [docs[3]])[0]
    r = api.post("/report", json={"household": _ref(docs[3]), "lang": "en"})
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_unknown_household_is_404_naming_it(api, sample) -> None:
    _, docs = sample
    r = api.post("/score", json={"households": [_ref(docs[0]), {"household_id": "NOT-A-HOUSEHOLD"}]})
    assert r.status_code == 404, r.text
    assert _fields(r) == ["households[1].household_id"]
    assert "NOT-A-HOUSEHOLD" in r.json()["errors"][0]["problem"]
    r = api.post("/explain", json={"household": {"household_id": "NOT-A-HOUSEHOLD"}})
    assert r.status_code == 404 and _fields(r) == ["household.household_id"]
    early = {**_ref(docs[0]), "as_of": "2000-01-01"}
    r = api.post("/score", json={"households": [early]})
    assert r.status_code == 404 and "no record surveyed on or before" in r.json()["errors"][0]["problem"]


def test_bad_events_in_a_reference_are_400_at_their_place(api, sample) -> None:
    as_of, docs = sample
    good = {**HOSPITAL, "event_date": (as_of - pd.Timedelta(days=3)).date().isoformat()}
    r = api.post("/score", json={"households": [_ref(docs[0], [good, {**good, "amount": "lots"}])]})
    assert r.status_code == 400 and _fields(r) == ["households[0].events[1].amount"]
    r = api.post("/score", json={"households": [{"household_id": docs[0]["record"]["household_id"], "x": 1}]})
    assert r.status_code == 400 and _fields(r) == ["households[0].x"]
    r = api.post("/score", json={"households": [_ref(docs[0], [good, dict(good)])]})
    assert r.status_code == 400 and "households[0].events[1].event_type" in _fields(r)


def test_worklist_takes_references(api, sample) -> None:
    _, docs = sample
    by_document = api.post("/worklist", json={"households": docs})
    by_reference = api.post("/worklist", json={"households": [_ref(d) for d in docs]})
    assert by_document.status_code == 200, by_document.text
    assert by_reference.status_code == 200, by_reference.text
    assert by_reference.json() == by_document.json() and by_document.json()
    r = api.post("/worklist", json={"households": [{"household_id": "NOT-A-HOUSEHOLD"}]})
    assert r.status_code == 404 and _fields(r) == ["households[0].household_id"]
