"""A plain HTTP client written from the service's OpenAPI document alone (``/docs.json``), as a platform team
without BentoML would write one: each operation's request is built from the document's paths, request schemas
and examples, and every answer is checked against what the document says of it — the status is documented, the
media type is documented for that status, and a JSON body validates against the documented schema
(``jsonschema``, ``$ref``s resolved inside the document)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:povwatch:openapi"


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenAPIClient:
    """``call(operation, body)`` sends a request and returns the response once it conforms to the document
    (an ``AssertionError`` naming the operation, status and violation otherwise)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=url, headers=headers or {}, timeout=120)
        self.document = self.http.get("/docs.json").raise_for_status().json()
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOCUMENT_URI, resource)

    def close(self) -> None:
        self.http.close()

    def operations(self) -> list[Operation]:
        return [Operation(path, method, op) for path, ops in self.document["paths"].items()
                for method, op in ops.items() if method in ("get", "post", "put", "delete", "patch")]

    def operation(self, method: str, path: str) -> Operation:
        return Operation(path, method.lower(), self.document["paths"][path][method.lower()])

    def _validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=self.registry)

    def _resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.registry.resolver(DOCUMENT_URI).lookup(schema["$ref"]).contents
        return schema

    def request_schema(self, op: Operation) -> dict[str, Any] | None:
        content = op.spec.get("requestBody", {}).get("content", {}).get("application/json")
        return self._resolved(content["schema"]) if content else None

    def example(self, op: Operation) -> dict[str, Any] | None:
        """The documented example request body (checked against the request schema first)."""
        schema = self.request_schema(op)
        if schema is None or "example" not in schema:
            return None
        pointer = _pointer("paths", op.path, op.method, "requestBody", "content", "application/json", "schema")
        errors = [e.message for e in self._validator(pointer).iter_errors(schema["example"])]
        assert not errors, f"{op.name}: the document's own example breaks its schema: {errors[:3]}"
        return copy.deepcopy(schema["example"])

    def without_a_required_property(self, op: Operation) -> dict[str, Any]:
        """A body the document says is invalid: the example (or ``{}``) less the schema's first required property."""
        schema = self.request_schema(op) or {}
        body = self.example(op) or {}
        body.pop((schema.get("required") or [""])[0], None)
        return body

    def call(self, op: Operation, body: Any = None) -> httpx.Response:
        response = self.http.request(op.method.upper(), op.path, json=body)
        self.check(op, response)
        return response

    def check(self, op: Operation, response: httpx.Response) -> None:
        status = str(response.status_code)
        documented = op.spec.get("responses", {})
        key = status if status in documented else "default"
        assert key in documented, f"{op.name} answered {status}, which the document does not list " \
                                  f"({sorted(documented)}): {response.text[:300]}"
        content = documented[key].get("content")
        if not content:
            return
        media = response.headers.get("content-type", "").split(";")[0].strip()
        assert media in content, f"{op.name} {status}: media type {media!r}, documented {sorted(content)}"
        if media != "application/json" or "schema" not in content[media]:
            return
        pointer = _pointer("paths", op.path, op.method, "responses", key, "content", media, "schema")
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in self._validator(pointer).iter_errors(response.json())]
        assert not errors, f"{op.name} {status}: the answer breaks the documented schema: {errors[:5]}"
