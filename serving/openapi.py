"""The service's OpenAPI document (``/docs.json``) completed so that a client written from it alone handles every
answer.

BentoML generates the document from the request and response models (the contract's schemas, with their zh/en
descriptions, enums and examples). What it cannot know is added here: the API's own error body
(``{"error", "errors": [{field, problem, allowed}]}``, where BentoML documents ``{"error", "detail"}``) on every
error status, the statuses the guard answers (401, 403, 413, 415), ``GET /model`` (a mounted route BentoML does
not list), the bearer-token scheme, and the service's name, version and purpose in place of BentoML's template.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    "400": "请求不符合契约（逐字段说明） / the request breaks the contract: each problem names its field and what is "
           "allowed",
    "401": "缺少或错误的令牌（启用令牌时） / missing or wrong bearer token (when tokens are configured)",
    "403": "令牌无此端点的权限 / the token lacks this endpoint's scope",
    "404": "未找到（逐字段说明） / not found — e.g. a household id the service's warehouse does not hold; each "
           "problem names its field",
    "413": "请求体过大 / request body too large: split the households over several requests",
    "415": "请求体须为 JSON / the body must be application/json",
    "500": "服务内部错误（详情见服务日志） / internal error; the server log has the details",
}
DESCRIPTION = (
    "返贫致贫风险预警服务：对农户打分、解释原因、生成入户报告与走访清单、回传走访结果。\n\n"
    "Early warning of rural households falling (back) into poverty: risk scores, reasons, field reports, village "
    "worklists and visit outcomes. Every error is JSON: `{\"error\", \"errors\": [{\"field\", \"problem\", "
    "\"allowed\"}]}`. `GET /model` names the model version being served.")


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}}}


def complete(spec: dict[str, Any], guarded_paths: frozenset[str] | set[str]) -> dict[str, Any]:
    """``spec`` (BentoML's document) with the API's errors, ``GET /model``, the token scheme and the service's
    own title, version and description. ``guarded_paths``: the POST endpoints behind the guard's body checks."""
    from importlib.metadata import version

    from serving.schemas import ErrorResponse, ModelInfo

    spec = json.loads(json.dumps(spec))  # a copy
    spec["info"] = {**spec.get("info", {}), "title": "povwatch", "version": version("povwatch"),
                    "description": DESCRIPTION}
    spec["info"].pop("contact", None)
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {}).update(_schemas(ErrorResponse, ModelInfo))
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer",
        "description": "需要时（配置了 POVWATCH_API_TOKEN 或令牌文件） / only when the service has tokens configured"}
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if method != "post" or path not in guarded_paths:
                continue
            responses = op.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = _error_response(description)
            op["security"] = [{"bearer": []}, {}]  # a token when configured, else none
    spec["paths"]["/model"] = {"get": {
        "tags": ["Service APIs"], "operationId": "povwatch__model", "security": [{"bearer": []}, {}],
        "description": "当前提供服务的模型版本、训练轮次与指标 / The model now served: registry version, alias, "
                       "training rounds, test metrics and features (it changes when a new @champion is picked up).",
        "responses": {"200": {"description": "the model being served", "content": {"application/json": {
            "schema": {"$ref": REF.format(model="ModelInfo")}}}},
                      "401": _error_response(ERROR_STATUSES["401"])}}}
    return spec


class CompletedDocs:
    """ASGI ``send`` wrapper for ``GET /docs.json``: holds BentoML's document and sends ``complete(...)`` of it."""

    def __init__(self, send: Any, guarded_paths: frozenset[str] | set[str]) -> None:
        self.send, self.guarded_paths = send, guarded_paths
        self.start: dict | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            if message["status"] != 200:
                return await self.send(message)
            self.start = message
            return
        if self.start is None or message["type"] != "http.response.body":
            return await self.send(message)
        self.body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        raw = json.dumps(complete(json.loads(b"".join(self.body)), self.guarded_paths), ensure_ascii=False).encode()
        headers = [(k, v) for k, v in self.start.get("headers", ()) if k.lower() != b"content-length"]
        await self.send({**self.start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await self.send({"type": "http.response.body", "body": raw, "more_body": False})
