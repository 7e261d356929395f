"""Fuzzing the service with hypothesis: hundreds of malformed requests, never a 5xx, always the error format.

Bodies are valid Household documents with one part broken (a value replaced by arbitrary JSON, a field
removed, an unknown field added), or arbitrary JSON, or arbitrary bytes. Runs against the in-process ASGI app
(the same app ``bentoml serve`` runs, middleware included).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_service import _as_of, service_client

ALLOWED = {200, 400, 413, 415, 422}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["1.5", "", "2024-02-30", "住院", "脱贫户", "illness;因病", "NaN"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def base(trained_warehouse: Path) -> list[dict]:
    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    ids = sorted(wh.households()["household_id"].unique())[:3]
    docs = household_documents(wh, ids, _as_of(trained_warehouse))
    for d in docs:  # give every household a member and an event to break
        d["events"].append({"event_date": d["as_of"], "event_type": "hospitalization", "amount": 100.0})
    return docs


@pytest.fixture(scope="module")
def api(trained_warehouse: Path):
    return service_client(trained_warehouse)


def _slots(doc: dict) -> list[tuple[dict | list, str | int]]:
    """Every (container, key) of a document whose value may be broken."""
    out: list[tuple[dict | list, str | int]] = [(doc, k) for k in doc]
    out += [(doc["record"], k) for k in doc["record"]]
    for m in doc["members"]:
        out += [(m, k) for k in m]
    for e in doc["events"]:
        out += [(e, k) for k in e]
    for h in doc["history"]:
        out += [(h["record"], k) for k in h["record"]]
    return out


def _check(r) -> None:
    assert r.status_code in ALLOWED, (r.status_code, r.text[:500])
    if r.status_code >= 400:
        body = r.json()
        assert body["errors"], body
        assert all(set(e) == {"field", "problem", "allowed"} for e in body["errors"])
        assert "Traceback" not in r.text


@SETTINGS
@given(data=st.data(), action=st.sampled_from(["replace", "delete", "add"]), endpoint=st.sampled_from(
    ["/score", "/explain", "/report"]))
def test_broken_households_never_5xx(api, base, data, action, endpoint) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(base)))
    container, key = data.draw(st.sampled_from(_slots(doc)))
    if action == "replace":
        container[key] = data.draw(json_values)
    elif action == "delete":
        del container[key]
    else:
        container[data.draw(st.text(min_size=1, max_size=10))] = data.draw(json_values)
    body = {"households": [doc]} if endpoint == "/score" else {"household": doc}
    _check(api.post(endpoint, content=json.dumps(body), headers={"content-type": "application/json"}))


@SETTINGS
@given(body=json_values, endpoint=st.sampled_from(["/score", "/explain", "/report"]))
def test_arbitrary_json_never_5xx(api, body, endpoint) -> None:
    _check(api.post(endpoint, content=json.dumps(body), headers={"content-type": "application/json"}))


@SETTINGS
@given(raw=st.binary(max_size=200), media=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]))
def test_arbitrary_bytes_never_5xx(api, raw, media) -> None:
    headers = {"content-type": media} if media else {}
    _check(api.post("/score", content=raw, headers=headers))
