"""JSON API semantics the ecosystem's clients expect (in-process service on the session's champion).

- an integer column takes any integral JSON number (2.0 is 2, as in JSON Schema) and refuses 2.5, "2", true;
- booleans and enum values take exactly the spellings ingest takes (the contract's one table), and an error's
  ``allowed`` lists them;
- unknown keys are named whatever their script; a document without members or with events after ``as_of`` is
  scored with ``warnings`` saying so; every error, 404 and 405 included, is JSON; client errors are logged as
  one INFO line without values.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pandas as pd
import pytest

from features.data.contract import BOOL_SPELLINGS, EVENTS, HOUSEHOLDS, MEMBERS
from features.data.documents import allowed
from tests.test_service import docs, service_client  # noqa: F401  (docs is a fixture)


@pytest.fixture(scope="module")
def api(trained_warehouse: Path):
    return service_client(trained_warehouse)


@pytest.fixture()
def doc(docs) -> dict:  # noqa: F811
    """One household document with several members (a fresh copy per test)."""
    return copy.deepcopy(next(d for d in docs if len(d.get("members", [])) >= 2))


def _post(api, path: str, household: dict):
    body = {"households": [household]} if path == "/score" else {"household": household}
    return api.post(path, json=body)


def _risk(api, household: dict) -> float:
    r = _post(api, "/score", household)
    assert r.status_code == 200, r.text
    return r.json()["results"][0]["risk"]


def _errors(r) -> dict[str, dict]:
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errors"}
    return {e["field"]: e for e in body["errors"]}


# ------------------------------------------------------------------------------------------ integers
def test_integral_floats_are_integers(api, doc) -> None:
    base = _risk(api, doc)
    floats = copy.deepcopy(doc)
    floats["record"]["household_size"] = float(doc["record"]["household_size"])
    for m in floats["members"]:
        m["age"], m["work_months"] = float(m["age"]), float(m["work_months"])
        if m.get("disability_grade") is not None:
            m["disability_grade"] = float(m["disability_grade"])
    assert _risk(api, floats) == base


@pytest.mark.parametrize("value", [2.5, "2", True, 1.0000001])
def test_non_integral_values_are_refused_at_their_field(api, doc, value) -> None:
    doc["members"][0]["age"] = value
    errors = _errors(_post(api, "/score", doc))
    assert list(errors) == ["households[0].members[0].age"]
    assert errors["households[0].members[0].age"]["allowed"] == "a whole number between 0 and 120"


def test_integer_wording() -> None:
    assert HOUSEHOLDS.column("household_size").allowed() == "a whole number between 1 and 30"
    assert "a int" not in MEMBERS.column("disability_grade").allowed()


# ------------------------------------------------------------------------------------------ booleans, enums
def _ingested_bool(spelling: str, doc: dict) -> object:
    """What ingest reads ``spelling`` as, in a households file's relocated cell."""
    from features.data.validate import validate_frame

    row = {k: ("" if v is None else str(v)) for k, v in doc["record"].items()}
    row["relocated"] = spelling
    result = validate_frame("households", pd.DataFrame([row], dtype=str))
    if len(result.accepted) == 0:
        return None
    return bool(result.accepted["relocated"].iloc[0])


SPELLINGS = sorted(BOOL_SPELLINGS) + ["TRUE", " Yes ", "ｙ", "Ｎ"]


def test_booleans_take_exactly_the_spellings_ingest_takes(api, doc) -> None:
    risks = {}
    for value in (True, False):
        d = copy.deepcopy(doc)
        d["record"]["relocated"] = value
        risks[value] = _risk(api, d)
    for spelling in SPELLINGS:
        expected = _ingested_bool(spelling, doc)
        assert expected is not None, f"ingest refused {spelling!r}"
        d = copy.deepcopy(doc)
        d["record"]["relocated"] = spelling
        assert _risk(api, d) == risks[expected], spelling
    for number, value in ((1, True), (0, False)):
        d = copy.deepcopy(doc)
        d["record"]["relocated"] = number
        assert _risk(api, d) == risks[value]


@pytest.mark.parametrize("value", ["maybe", "是的", 2, 0.5, ["是"]])
def test_other_booleans_are_refused_saying_exactly_what_is_allowed(api, doc, value) -> None:
    if isinstance(value, str):
        assert _ingested_bool(value, doc) is None  # ingest refuses it too
    doc["record"]["water_safe"] = value
    error = _errors(_post(api, "/score", doc))["households[0].record.water_safe"]
    col = HOUSEHOLDS.column("water_safe")
    assert error["allowed"] == allowed(col)
    for spelling in BOOL_SPELLINGS:
        assert spelling in error["allowed"]


def test_enum_values_take_ingests_spellings(api, doc) -> None:
    base = _risk(api, doc)
    relation = doc["members"][0]["relation"]
    zh = MEMBERS.column("relation").values.get(relation, relation)
    for spelling in (relation.upper(), f" {zh} ", relation.title()):
        d = copy.deepcopy(doc)
        d["members"][0]["relation"] = spelling
        assert _risk(api, d) == base, spelling
    doc["members"][0]["relation"] = "cousin"
    error = _errors(_post(api, "/score", doc))["households[0].members[0].relation"]
    assert error["allowed"] == allowed(MEMBERS.column("relation"))


# ------------------------------------------------------------------------------------------ keys, warnings
@pytest.mark.parametrize("key", ["工资性收入", "wage", "Wage_Income"])
def test_unknown_keys_are_named_whatever_their_script(api, doc, key) -> None:
    doc["record"][key] = 1
    errors = _errors(_post(api, "/score", doc))
    assert list(errors) == [f"households[0].record.{key}"]
    if key == "工资性收入":
        assert "wage_income" in errors[f"households[0].record.{key}"]["problem"]


def test_members_not_given_is_scored_with_a_warning(api, doc) -> None:
    assert _post(api, "/score", doc).json()["results"][0]["warnings"] == []
    for members in ([], None):
        d = copy.deepcopy(doc)
        if members is None:
            d.pop("members")
        else:
            d["members"] = members
        r = _post(api, "/score", d)
        assert r.status_code == 200, r.text
        warnings = r.json()["results"][0]["warnings"]
        assert len(warnings) == 1 and warnings[0].startswith("members not given")
    explained = _post(api, "/explain", {**doc, "members": []})
    assert explained.status_code == 200 and explained.json()["warnings"][0].startswith("members not given")


def test_events_after_as_of_are_not_used_and_said_so(api, doc) -> None:
    as_of = pd.Timestamp(doc["as_of"])
    base = _risk(api, doc)
    late = (as_of + pd.Timedelta(days=5)).date().isoformat()
    doc["events"] = [*doc.get("events", []), {"event_date": late, "event_type": "hospitalization", "amount": 50000}]
    r = _post(api, "/score", doc)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["risk"] == base
    assert result["warnings"] == [f"1 event(s) dated after as_of {as_of.date()} not used: an event counts from "
                                  "its event_date on"]


def test_duplicate_event_dates_are_printed_as_dates(api, doc) -> None:
    event = {"event_date": doc["as_of"], "event_type": "hospitalization"}
    doc["events"] = [event, dict(event)]
    errors = _errors(_post(api, "/score", doc))
    problem = errors["households[0].events[1].event_type"]["problem"]
    assert f"event_date={doc['as_of']}," in problem and "00:00:00" not in problem


# ------------------------------------------------------------------------------------------ transport
@pytest.mark.parametrize("method, path, status", [("GET", "/score", 405), ("PUT", "/explain", 405),
                                                  ("GET", "/no-such-endpoint", 404), ("POST", "/model", 405)])
def test_every_error_is_json(api, method, path, status) -> None:
    r = api.request(method, path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "errors"} and body["errors"][0]["allowed"]


def test_client_errors_log_one_info_line_without_values(api, doc, caplog) -> None:
    doc["record"]["wage_income"] = "一万八千"
    doc["record"]["household_id"] = "HSECRET123"
    with caplog.at_level(logging.DEBUG):
        r = _post(api, "/score", doc)
    assert r.status_code == 400
    mine = [rec for rec in caplog.records if rec.name == "bentoml.povwatch.requests"]
    assert [rec.levelno for rec in mine] == [logging.INFO]
    assert mine[0].getMessage() == "POST /score answered 400 (1 problem(s))"
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    text = caplog.text
    assert "HSECRET123" not in text and "一万八千" not in text


# ------------------------------------------------------------------------------------------ OpenAPI
def test_openapi_document_has_bilingual_contract_schemas_and_a_working_example(api) -> None:
    spec = api.get("/docs.json").json()
    record = spec["components"]["schemas"]["Record"]["properties"]

    def part(prop: dict, key: str):  # an optional field's schema is anyOf [its type, null]
        return prop.get(key, next((x[key] for x in prop.get("anyOf", []) if key in x), None))

    schemas = spec["components"]["schemas"]
    for name, table in (("Record", HOUSEHOLDS), ("Member", MEMBERS), ("Event", EVENTS)):
        props = schemas[name]["properties"]
        for col in table.columns:
            if col.name not in props:  # members and events carry no household_id / round_id in a document
                assert name != "Record" and col.name in ("household_id", "round_id"), (name, col.name)
                continue
            assert part(props[col.name], "description").startswith(f"{col.zh} / {col.name}: "), (name, col.name)
            if col.type == "enum":
                assert set(part(props[col.name], "enum")) == {*col.values, *col.values.values()}, (name, col.name)
    # every error the API answers is documented with its own body, and GET /model is listed
    for path in ("/score", "/explain", "/report", "/worklist"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"400", "401", "403", "404", "413", "415", "500"} <= set(responses), path
        assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert set(schemas["ErrorResponse"]["properties"]) == {"error", "errors"}
    assert spec["paths"]["/model"]["get"]["responses"]["200"]
    assert spec["info"]["title"] == "povwatch" and "BentoML" not in spec["info"]["description"]
    assert record["household_size"]["type"] == "integer"
    score = spec["paths"]["/score"]["post"]
    assert "每户" in score["description"] and "household" in score["description"]  # zh and en
    example = score["requestBody"]["content"]["application/json"]["schema"]["example"]
    r = api.post("/score", json=example)  # the documented example is a request the service answers
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["household_id"] == example["households"][0]["record"]["household_id"]
