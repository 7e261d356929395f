"""The real service (``povwatch serve``, with a token) driven through two clients: BentoML's own
(``bentoml.SyncHTTPClient``) and a plain HTTP client written from the OpenAPI document alone
(tests/openapi_client.py). Every operation the document lists is called with the request it documents (its
example) and with one the document says is invalid; every answer must conform to the document. Both clients
get the same answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openapi_client import OpenAPIClient
from tests.test_service import TOKEN, server  # noqa: F401  (server is a fixture)

pytestmark = pytest.mark.server
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(server) -> Iterator[OpenAPIClient]:  # noqa: F811
    url, _ = server
    c = OpenAPIClient(url, AUTH)
    yield c
    c.close()


def test_every_documented_operation_answers_as_documented(client: OpenAPIClient) -> None:
    with_example = []
    for op in client.operations():
        if op.method == "get":
            assert client.call(op).status_code == 200, op.name
            continue
        example = client.example(op)
        if example is not None:
            r = client.call(op, example)
            assert r.status_code == 200, (op.name, r.text[:500])
            with_example.append(op.path)
        bad = client.call(op, client.without_a_required_property(op))
        assert bad.status_code == 400, (op.name, bad.text[:300])
        assert bad.json()["errors"][0]["field"], op.name  # the documented error body names the field
    assert {"/score", "/explain", "/report", "/worklist"} <= set(with_example)
    assert {op.path for op in client.operations()} >= {"/score", "/explain", "/report", "/worklist", "/outcomes",
                                                        "/model", "/healthz", "/readyz"}


def test_errors_the_guard_answers_are_documented(client: OpenAPIClient, server) -> None:  # noqa: F811
    import httpx

    url, _ = server
    score = client.operation("POST", "/score")
    unauthorised = httpx.post(f"{url}/score", json=client.example(score), timeout=60)
    client.check(score, unauthorised)
    assert unauthorised.status_code == 401
    wrong_type = httpx.post(f"{url}/score", content=b"households=1", headers={**AUTH, "Content-Type": "text/plain"},
                            timeout=60)
    client.check(score, wrong_type)
    assert wrong_type.status_code == 415
    unknown = client.call(score, {"households": [{"household_id": "NOT-IN-THE-WAREHOUSE"}]})
    assert unknown.status_code == 404 and unknown.json()["errors"]


def test_bentoml_client_and_the_document_client_get_the_same_answers(client: OpenAPIClient, server) -> None:  # noqa: F811
    import bentoml

    url, _ = server
    score, explain = client.operation("POST", "/score"), client.operation("POST", "/explain")
    households = client.example(score)["households"]
    household = client.example(explain)["household"]
    plain_score = client.call(score, {"households": households}).json()
    plain_explain = client.call(explain, {"household": household}).json()
    model = client.call(client.operation("GET", "/model")).json()
    with bentoml.SyncHTTPClient(url, token=TOKEN, timeout=60) as bento:
        scored = bento.score(households=households)
        explained = bento.explain(household=household)
    scored = scored if isinstance(scored, dict) else scored.model_dump()
    explained = explained if isinstance(explained, dict) else explained.model_dump()
    assert scored == plain_score
    assert explained["risk"] == plain_explain["risk"] and explained["tier"] == plain_explain["tier"]
    assert plain_score["model_version"] == model["version"]
