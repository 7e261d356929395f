"""``POST /outcomes`` on the real service (in-process ASGI) and the scoped tokens of the guard."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

import pytest

from cases.store import open_store
from serving.tokens import TokenConfigError
from tests.test_cases_store import worklist
from tests.test_service import _Env, service_client
from commands import child_server


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _guarded(**env: str):
    """The real ``ApiGuard`` in front of an echo app with the scoped paths."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from serving.service import REQUEST_MODELS, ApiGuard

    async def echo(request):
        if request.url.path == "/docs.json":  # the guard completes the inner app's OpenAPI document
            return JSONResponse({"openapi": "3.0.2", "info": {}, "paths": {}})
        return JSONResponse({"bytes": len(await request.body())})

    paths = ("/score", "/explain", "/report", "/worklist", "/outcomes", "/model", "/docs.json", "/healthz")
    app = Starlette(routes=[Route(p, echo, methods=["GET", "POST"]) for p in paths])
    with _Env(**{"POVWATCH_API_TOKEN": "", "POVWATCH_API_TOKENS": "", **env}):
        guard = ApiGuard(app, request_models=REQUEST_MODELS)
    return TestClient(guard)


def _status(client, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if path in ("/model", "/docs.json", "/healthz"):
        return client.get(path, headers=headers).status_code
    body = {"outcomes": [{"alert_id": "A"}]} if path == "/outcomes" else {"households": []}
    return client.post(path, json=body, headers=headers).status_code


@pytest.mark.parametrize("as_file", [False, True])
def test_scoped_tokens_answer_403_without_the_scope(tmp_path: Path, as_file: bool) -> None:
    mapping = {_digest("reader-token"): ["score", "model"], _digest("field-token"): "outcomes:write"}
    config = json.dumps(mapping)
    if as_file:
        (tmp_path / "tokens.json").write_text(config)
        config = str(tmp_path / "tokens.json")
    client = _guarded(POVWATCH_API_TOKENS=config, POVWATCH_API_TOKEN="admin-token")
    assert _status(client, "/score", "reader-token") == 200
    assert _status(client, "/model", "reader-token") == 200
    r = client.post("/outcomes", json={"outcomes": [{}]}, headers={"Authorization": "Bearer reader-token"})
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "(header) Authorization" and "outcomes:write" in r.json()["errors"][0]["problem"]
    assert _status(client, "/outcomes", "field-token") == 200
    assert _status(client, "/score", "field-token") == 403
    assert _status(client, "/worklist", "field-token") == 403
    assert _status(client, "/docs.json", "field-token") == 200      # any known token
    for path in ("/score", "/explain", "/report", "/worklist", "/outcomes", "/model"):
        assert _status(client, path, "admin-token") == 200, path    # the single token keeps every scope
        assert _status(client, path, "nobody") == 401, path
        assert _status(client, path, None) == 401, path
    assert _status(client, "/healthz", None) == 200


def test_bad_token_configuration_stops_the_service() -> None:
    with pytest.raises(TokenConfigError, match="unknown scope.*outcomes:delete.*allowed: score"):
        _guarded(POVWATCH_API_TOKENS=json.dumps({_digest("x"): ["outcomes:delete"]}))
    with pytest.raises(TokenConfigError, match="not a sha256"):
        _guarded(POVWATCH_API_TOKENS=json.dumps({"plain-token": ["score"]}))


# ------------------------------------------------------------------------------------------ POST /outcomes
@pytest.fixture(scope="module")
def outcomes_api(trained_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    """The service on the session's model, its case store in a database of this module (set before the
    store is first opened), holding a recorded worklist of 10 alerts."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cases') / 'povwatch.db'}"
    with _Env(POVWATCH_DB_URL=url):
        with open_store("unused", url) as store:
            store.record_worklist(worklist(10))
        client = service_client(trained_warehouse)
        client.post("/outcomes", json={"outcomes": [{"alert_id": "warm-up"}]})  # opens the store under this URL
    return client, url


def _stored(url: str) -> int:
    with open_store("unused", url) as store:
        return len(store.outcomes(current=False))


def _fields(r) -> list[str]:
    body = r.json()
    assert set(body) == {"error", "errors"} and body["errors"], body
    return [e["field"] for e in body["errors"]]


def row(i: int, **extra) -> dict:
    out = {"alert_id": f"A{i:06d}", "household_id": f"H{i:06d}", "visit_date": "2025-11-24",
           "verifier_id": "V01", "outcome": "identified", "risk_types": ["illness", "education"]}
    out.update(extra)
    return out


def test_outcomes_all_or_nothing_with_the_field(outcomes_api) -> None:
    api, url = outcomes_api
    r = api.post("/outcomes", json={"outcomes": [row(1), row(2), row(3, outcome="maybe", risk_types=None)]})
    assert r.status_code == 400 and _fields(r) == ["outcomes[2].outcome"]
    assert "maybe" in r.json()["errors"][0]["problem"] and "identified" in r.json()["errors"][0]["allowed"]
    r = api.post("/outcomes", json={"outcomes": [row(1), row(4, decision_date="2025-11-01")]})
    assert r.status_code == 400 and _fields(r) == ["outcomes[1].decision_date"]
    r = api.post("/outcomes", json={"outcomes": [row(1), row(99)]})
    assert r.status_code == 400 and _fields(r) == ["outcomes[1].alert_id"]
    assert "never issued" in r.json()["errors"][0]["problem"]
    r = api.post("/outcomes", json={"outcomes": [row(1, 姓名="张三")]})
    assert r.status_code == 400 and _fields(r) == ["outcomes[0].姓名"]
    r = api.post("/outcomes", json={"outcomes": []})
    assert r.status_code == 400
    assert _stored(url) == 0


def test_outcomes_stored_once_with_chinese_keys(outcomes_api) -> None:
    api, url = outcomes_api
    zh = {"预警编号": "A000005", "户编号": "H000005", "入户核实日期": "2025-11-25", "核实人编号": "V02",
          "核实结论": "经核实不纳入", "不纳入原因": "有稳定赡养或亲友支持"}
    body = {"outcomes": [row(6), zh]}
    r = api.post("/outcomes", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 2, "stored": 2, "unchanged": 0}
    assert api.post("/outcomes", json=body).json() == {"received": 2, "stored": 0, "unchanged": 2}
    with open_store("unused", url) as store:
        current = store.outcomes().set_index("alert_id")
    assert current.loc["A000005", "override_reason"] == "family_support"
    assert current.loc["A000006", "risk_types"] == "illness;education"


def test_fuzzed_outcome_rows_never_5xx(outcomes_api) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    api, url = outcomes_api
    value = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) \
        | st.text(max_size=80) | st.sampled_from(["2025-02-30", "认定为监测对象", "illness;因病", "A000001"]) \
        | st.lists(st.text(max_size=8), max_size=3) | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
    keys = st.sampled_from(["alert_id", "household_id", "visit_date", "verifier_id", "outcome", "risk_types",
                            "decision_date", "measures", "核实结论", "x"])

    @settings(max_examples=120, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(st.dictionaries(keys, value, max_size=6), max_size=4) | value)
    def check(rows) -> None:
        r = api.post("/outcomes", json={"outcomes": rows})
        assert r.status_code in (200, 400), (r.status_code, r.text, rows)
        if r.status_code == 400:
            assert r.json()["errors"]

    check()


# ------------------------------------------------------------------------------------------ the real server
@pytest.mark.server
def test_outcomes_through_a_real_server(trained_warehouse: Path, tmp_path: Path) -> None:
    """``povwatch serve`` (a real ``bentoml serve`` child) with scoped tokens and its own case store: 401
    without a token, 403 without the ``outcomes:write`` scope, 400 naming the field with nothing stored, then
    stored once."""
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    with open_store("unused", db) as store:
        store.record_worklist(worklist(10))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({_digest("field-token"): ["outcomes:write"], _digest("reader-token"): ["score"]}))
    env = {**os.environ, "POVWATCH_DB_URL": db, "POVWATCH_API_TOKENS": str(tokens)}
    env.pop("POVWATCH_API_TOKEN", None)
    port = child_server.free_port()
    log = tmp_path / "serve.log"
    povwatch = Path(sys.executable).parent / "povwatch"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(povwatch), "serve", "--port", str(port), "--warehouse", str(trained_warehouse),
                                 "--reload-interval", "0"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}/outcomes"
    try:
        child_server.wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 120, log)

        def post(body, token: str | None = "field-token") -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.post(url, json=body, headers=headers, timeout=60)

        good = {"outcomes": [row(1), row(2, outcome="not_identified", risk_types=None, override_reason="income_higher")]}
        assert post(good, None).status_code == 401
        denied = post(good, "reader-token")
        assert denied.status_code == 403 and "outcomes:write" in denied.json()["errors"][0]["problem"]
        bad = post({"outcomes": [row(1), row(2), row(3, visit_date="2025-13-40")]})
        assert bad.status_code == 400 and _fields(bad) == ["outcomes[2].visit_date"]
        unknown = post({"outcomes": [row(1), row(77)]})
        assert unknown.status_code == 400 and _fields(unknown) == ["outcomes[1].alert_id"]
        assert post({"outcomes": "A000001"}).status_code == 400
        assert _stored(db) == 0                                         # every refusal stored nothing
        assert post(good).json() == {"received": 2, "stored": 2, "unchanged": 0}
        assert post(good).json() == {"received": 2, "stored": 0, "unchanged": 2}
        assert _stored(db) == 2
        assert "H000001" not in log.read_text(errors="replace")        # no household id in the server's log
    finally:
        child_server.stop(proc, group=True)
