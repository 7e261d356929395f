"""The BentoML scoring service: ``/score``, ``/explain``, ``/report``, ``GET /model``.

The champion RiskModel is resolved from the MLflow registry once, in ``__init__``; every endpoint then runs
``models/`` code only (one scoring path: the same indicators, calibration and tiers as training and
``povwatch score``). Run it with ``povwatch serve``; ``bentoml serve serving.service:Povwatch`` works too
when ``POVWATCH_WAREHOUSE`` (or ``MLFLOW_TRACKING_URI``) points at a registry.

``/score`` is **not** adaptively batched, on purpose: a request already is a batch (up to
``MAX_HOUSEHOLDS``), and BentoML's batch dispatcher would (a) merge the households of different callers so
that one caller's bad household fails everybody's request, and (b) answer 503 "overloaded" under bursts
(see ``shared/notes/stack.md``). Single-household calls are cheap enough unbatched (see ``bench/``).

``ApiGuard`` (an ASGI middleware) puts the bearer token, the body-size limit, the content-type check and
the API's error format in front of everything; BentoML's own ``/healthz``, ``/livez``, ``/readyz`` and
``/metrics`` stay open. Nothing here logs a request body, an identifier or a score.
"""

from __future__ import annotations

import gc
import json
import logging
import math
from datetime import date
from typing import Annotated, Any

import bentoml
import pandas as pd
from bentoml.validators import ContentType
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from features import settings
from features.data.documents import DocumentFrames, Problem, checked_frames, problems
from features.indicators.from_documents import indicators_of_frames
from serving.document_warnings import document_warnings
from serving.references import ReferenceStore, UnknownHousehold, is_reference
from serving.schemas import (ErrorResponse, ExplainRequest, ExplainResponse, Household, HouseholdItem, ModelInfo,
                             ReportRequest, ScoreRequest, ScoreResponse, WorklistRequest, WorklistResponse, error_body,
                             errors_of)
from serving.outcomes_api import OutcomesRequest, OutcomesResponse
from serving.openapi import CompletedDocs
from serving.tokens import Tokens

OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
REQUEST_MODELS: dict[str, type[BaseModel]] = {"/score": ScoreRequest, "/explain": ExplainRequest,
                                              "/report": ReportRequest, "/outcomes": OutcomesRequest,
                                              "/worklist": WorklistRequest}


# ------------------------------------------------------------------------------------------ middleware
def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


class ApiGuard:
    """Bearer token, body-size limit, JSON-only bodies and the API error format, in front of the service.

    BentoML answers a request model's ``ValidationError`` with its own 400 body; the guard keeps the
    request body it had to buffer anyway (for the size limit) and, on such a 400, re-validates it to answer
    with ``{"error", "errors": [{field, problem, allowed}]}`` instead.
    """

    def __init__(self, app: Any, *, request_models: dict[str, type[BaseModel]]) -> None:
        self.app = app
        self.request_models = request_models
        self.tokens = Tokens.from_environment()  # scoped tokens (serving/tokens.py)
        self.max_body = settings.max_request_bytes()  # default 100 MB: ~20,000 households with some history

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _JsonErrors(send, scope)
        path = scope["path"]
        denied = self.tokens.check(_header(scope, b"authorization"), path) \
            if self.tokens.enabled and path not in OPEN_PATHS else None
        if denied is not None:
            return await _denied(*denied)(scope, receive, send)
        if path == "/docs.json" and scope["method"] == "GET":  # BentoML's document, completed (serving/openapi.py)
            return await self.app(scope, receive, CompletedDocs(send, frozenset(self.request_models)))
        model = self.request_models.get(path)
        if model is None or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        media = _header(scope, b"content-type").split(";")[0].strip().lower()
        if media != "application/json":
            return await _json(415, error_body("unsupported media type", [{
                "field": "(header) Content-Type", "problem": f"got {media or 'none'!r}",
                "allowed": "application/json"}]))(scope, receive, send)
        body = await self._read(scope, receive)
        if body is None:
            return await _json(413, error_body("request body too large", [{
                "field": "(body)", "problem": f"more than {self.max_body:,} bytes",
                "allowed": f"at most {self.max_body:,} bytes; split the households over several requests"}]
            ))(scope, receive, send)
        await self.app(scope, _replay(body), _RewriteErrors(send, body, model))

    async def _read(self, scope: dict, receive: Any) -> bytes | None:
        """The whole body, or None once it exceeds the limit (by header or while streaming)."""
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _denied(status: int, problem: str) -> JSONResponse:
    """401 (no known token) or 403 (a token without the endpoint's scope), in the API's error format."""
    if status == 401:
        return _json(401, error_body("unauthorised", [{"field": "(header) Authorization", "problem": problem,
                                                        "allowed": "Authorization: Bearer <token>"}]),
                     {"WWW-Authenticate": "Bearer"})
    return _json(403, error_body("forbidden", [{"field": "(header) Authorization", "problem": problem,
                                                "allowed": "a token with that scope (POVWATCH_API_TOKENS)"}]))


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class _RewriteErrors:
    """An ASGI ``send`` that replaces BentoML's 400 body by the API's error format and hides any 5xx detail.
    A 400 the service itself answered (already ``{"error", "errors"}``) goes out as it is."""

    def __init__(self, send: Any, body: bytes, model: type[BaseModel]) -> None:
        self.send, self.body, self.model = send, body, model
        self.replace: int | None = None
        self.start: dict | None = None
        self.held: list[bytes] = []

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start" and message["status"] in (400, 500):
            self.replace, self.start = message["status"], message
            return
        if self.replace is None:
            return await self.send(message)
        if message["type"] == "http.response.body":
            self.held.append(message.get("body", b""))
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            if self.replace == 400 and _is_api_error(b"".join(self.held)):
                await self.send(self.start)
                return await self.send({"type": "http.response.body", "body": b"".join(self.held)})
            status, payload = self._error()
            raw = json.dumps(payload, ensure_ascii=False).encode()
            await self.send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
            await self.send({"type": "http.response.body", "body": raw, "more_body": False})

    def _error(self) -> tuple[int, dict[str, Any]]:
        if self.replace == 400:
            try:
                self.model.model_validate_json(self.body)
            except ValidationError as e:
                return 400, error_body("invalid request", errors_of(e))
            return 400, error_body("invalid request", [{"field": "(body)", "problem": "rejected by the server",
                                                        "allowed": "see the API schema at /docs.json"}])
        return 500, {"error": "internal error; the server log has the details", "errors": []}


def _is_api_error(body: bytes) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("errors"), list) and bool(parsed["errors"])


class _JsonErrors:
    """An ASGI ``send`` that makes every error answer JSON in the API's format (BentoML and Starlette answer an
    unknown path or a wrong method in plain text) and logs each client error as one INFO line: method, path,
    status and how many problems — never a value of the request."""

    def __init__(self, send: Any, scope: dict) -> None:
        self.send, self.method, self.path = send, scope.get("method", ""), scope.get("path", "")
        self.start: dict | None = None
        self.held: list[bytes] = []

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            json_body = _header({"headers": message.get("headers", ())}, b"content-type").startswith(
                "application/json")
            if status >= 400 and not json_body:
                self.start = message
                return
            if 400 <= status < 500:
                self.start, self.held = {**message, "_log_only": True}, []
            return await self.send(message)
        if self.start is None or message["type"] != "http.response.body":
            return await self.send(message)
        self.held.append(message.get("body", b""))
        if self.start.get("_log_only"):
            await self.send(message)
            if not message.get("more_body", False):
                _log_client_error(self.method, self.path, self.start["status"], b"".join(self.held))
            return
        if message.get("more_body", False):
            return
        status = self.start["status"]
        payload = _error_for_status(status, self.method, self.path)
        raw = json.dumps(payload, ensure_ascii=False).encode()
        headers = [(k, v) for k, v in self.start.get("headers", ()) if k.lower() not in (b"content-type",
                                                                                           b"content-length")]
        await self.send({"type": "http.response.start", "status": status, "headers": [
            *headers, (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
        await self.send({"type": "http.response.body", "body": raw, "more_body": False})
        if status < 500:
            _log_client_error(self.method, self.path, status, raw)


def _error_for_status(status: int, method: str, path: str) -> dict[str, Any]:
    """The API's error body for an answer BentoML or Starlette gave in plain text."""
    endpoints = ", ".join([f"POST {p}" for p in REQUEST_MODELS] + ["GET /model", "GET /docs.json"])
    if status == 404:
        return error_body("not found", [{"field": "(path)", "problem": f"no endpoint {method} {path}",
                                         "allowed": endpoints}])
    if status == 405:
        return error_body("method not allowed", [{"field": "(method)", "problem": f"{method} {path}",
                                                  "allowed": endpoints}])
    if status >= 500:
        return {"error": "internal error; the server log has the details", "errors": []}
    return error_body("request refused", [{"field": "(request)", "problem": f"HTTP {status}",
                                           "allowed": "see the API schema at /docs.json"}])


REQUEST_LOG = logging.getLogger("bentoml.povwatch.requests")


def _log_client_error(method: str, path: str, status: int, body: bytes) -> None:
    """One INFO line per refused request: no value of the request, only how many problems it had."""
    try:
        count = len(json.loads(body).get("errors", []))
    except (ValueError, AttributeError):
        count = 0
    REQUEST_LOG.info("%s %s answered %d (%d problem(s))", method, path, status, count)


class QuietRejections(logging.Filter):
    """BentoML logs a traceback at ERROR for every rejected request, and pydantic's message in it quotes request
    values (dates, amounts). Drop it: the guard logs the rejection as one INFO line without values
    (``_log_client_error``); real errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ValidationError)


def quiet_rejections() -> None:
    """Install ``QuietRejections`` on BentoML's HTTP logger once (at service start, not at import)."""
    log = logging.getLogger("bentoml._internal.server.http_app")
    if not any(isinstance(f, QuietRejections) for f in log.filters):
        log.addFilter(QuietRejections())


GC_YOUNG_THRESHOLD = 10_000  # allocations between young-generation collections (CPython's default: 700)


def settle_garbage_collector() -> None:
    """Keep Python's cyclic GC from dominating large requests (called once the model is loaded).

    Validating 1,000 households allocates ~17,000 models and their dicts, which set off full collections that
    walk every object of the process (BentoML, MLflow, pandas, the model): measured in-process, a 1,000-household
    ``/score`` took 343 ms, of which request validation alone swung between 80 and 345 ms. Freezing what exists
    at start-up (it lives as long as the process) and collecting the young generation less often: 199 ms,
    validation 75-84 ms. Reference cycles are still collected.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


# ------------------------------------------------------------------------------------------ GET /model
async def _model_info(request: Request) -> Response:
    return JSONResponse(bentoml.get_current_service().model_info().model_dump())


model_app = Starlette(routes=[Route("/model", _model_info, methods=["GET"])])


# ------------------------------------------------------------------------------------------ the service
def _problems_response(found: list[Problem], *, single: bool) -> JSONResponse:
    """400 listing each problem of the request's households at its place (``households[3].record.x``)."""
    def field(path: str) -> str:
        return "household" + path.partition("]")[2] if single else "households" + path

    errors = [{"field": field(p.path), "problem": p.problem, "allowed": p.allowed} for p in found]
    return JSONResponse(error_body("invalid request", errors), status_code=400)


def _domain_error(e: ValueError) -> JSONResponse:
    """422 for households the model cannot score although they are valid (e.g. no monitoring line for their
    province and year); the message says which."""
    body = error_body("household rejected", [{"field": "households", "problem": str(e),
                                              "allowed": "households the model can score"}])
    return JSONResponse(body, status_code=422)


def _unknown_response(unknown: list[UnknownHousehold], *, single: bool) -> JSONResponse:
    """404 naming each reference the service's warehouse cannot answer."""
    errors = [{"field": "household.household_id" if single else f"households[{u.index}].household_id",
               "problem": u.problem, "allowed": "a household_id in the service's warehouse, known at as_of; or send "
               "the whole Household document"} for u in unknown]
    return JSONResponse(error_body("unknown household", errors), status_code=404)


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


@bentoml.asgi_app(model_app, path="/")
@bentoml.service(
    name="povwatch",
    traffic={"timeout": 300, "max_concurrency": 256},
    logging={"access": {"enabled": False}},
    workers=1,
)
class Povwatch:
    """The champion RiskModel behind HTTP."""

    def __init__(self) -> None:
        from models.registry import load_risk_model

        quiet_rejections()
        warehouse = settings.warehouse()
        self.alias = settings.model_alias()
        self.model = load_risk_model(warehouse, alias=self.alias)
        self.references = ReferenceStore(warehouse)  # read on the first reference request, then kept
        settle_garbage_collector()
        # Zero-downtime promotion (serving/hot_reload.py): a new @champion is loaded beside this one and swapped
        # in; every endpoint takes ``self.model`` once, so a request keeps the model it started with.
        from serving.hot_reload import ChampionWatcher, reload_seconds, trigger_path

        self.watcher = ChampionWatcher(warehouse, self.alias, str(self.model.model_version), self._swap,
                                       interval=reload_seconds(), trigger=trigger_path()).start()
        # LightGBM's predict threads come from OpenMP: ``povwatch serve`` sets OMP_NUM_THREADS to
        # POVWATCH_NUM_THREADS (cores // workers) before the workers start. (Booster.reset_parameter
        # on a booster loaded from a file crashes LightGBM 4.7, so it is not done here.)

    def _swap(self, model: Any) -> None:
        """Serve ``model`` from the next request on (one reference assignment: atomic for the readers)."""
        self.model = model

    def model_info(self) -> ModelInfo:
        from models.registry import MODEL_NAME

        model = self.model
        meta = model.metadata
        return ModelInfo(name=MODEL_NAME, version=str(model.model_version), alias=self.alias,
                         run_id=meta.get("run_id"), trained_at=meta.get("trained_at"),
                         test_round=meta.get("test_round"),
                         training_rounds=[str(r) for r in meta.get("split", {}).get("training_rounds", [])],
                         metrics=_finite(meta.get("metrics", {})), features=list(model.feature_names))

    def _resolved(self, items: list[Any], *, single: bool) -> list[Any] | JSONResponse:
        """The request's items as documents: references filled in from the warehouse (404 when unknown). A
        reference's as-of defaults to today: it carries the events reported since the last survey."""
        items = [i.root if isinstance(i, HouseholdItem) else i for i in items]
        docs, unknown = self.references.documents(items, pd.Timestamp(date.today()))
        return _unknown_response(unknown, single=single) if unknown else docs

    def _frames(self, households: list[Household], *, single: bool) -> DocumentFrames | JSONResponse:
        """The households as contract frames, or the response that says what is wrong with them."""
        frames, found = checked_frames(households)
        return _problems_response(found, single=single) if found else frames

    def _request_frames(self, items: list[Any], *, single: bool) -> DocumentFrames | JSONResponse:
        """The request's items as checked frames, or the response that says what is wrong. A request of
        references only is taken straight from the warehouse's rows (``ReferenceStore.frames``: the frames
        their documents would give, without building and parsing the documents); anything else goes through
        documents."""
        items = [i.root if isinstance(i, HouseholdItem) else i for i in items]
        if not items or not all(is_reference(i) for i in items):
            docs = self._resolved(items, single=single)
            return docs if isinstance(docs, JSONResponse) else self._frames(docs, single=single)
        frames, unknown = self.references.frames(items, pd.Timestamp(date.today()))
        if unknown:
            return _unknown_response(unknown, single=single)
        found = problems(frames)
        return _problems_response(found, single=single) if found else frames

    def _indicators(self, households: list[Household], *, single: bool, model: Any = None
                    ) -> pd.DataFrame | JSONResponse:
        """Indicators of valid households (request order), or the response that says what is wrong."""
        frames = self._frames(households, single=single)
        return frames if isinstance(frames, JSONResponse) else self._indicators_of(frames, model or self.model)

    def _indicators_of(self, frames: DocumentFrames, model: Any) -> pd.DataFrame | JSONResponse:
        """Indicators of checked frames (request order) with their warnings, or the 422 of a domain error."""
        try:
            ind = indicators_of_frames(frames, lines=model.lines)
        except ValueError as e:
            return _domain_error(e)
        # household_id -> what was scored without (no members, events after as_of): read by the endpoints
        ind.attrs["warnings"] = document_warnings(frames, ind, model.feature_names)
        return ind

    def _one(self, household: Any) -> tuple[dict, Any, pd.DataFrame] | JSONResponse:
        """One request item as (document, this request's model, its indicators), or the error response."""
        resolved = self._resolved([household], single=True)
        if isinstance(resolved, JSONResponse):
            return resolved
        model = self.model  # this request's model, whatever a promotion swaps in meanwhile
        ind = self._indicators(resolved, single=True, model=model)
        return ind if isinstance(ind, JSONResponse) else (resolved[0], model, ind)

    @bentoml.api(route="/score", input_spec=ScoreRequest, output_spec=ScoreResponse)
    def score(self, households: list[Household]) -> ScoreResponse | JSONResponse:
        """每户在评估日期的返贫致贫风险、等级与是否纳入预警，按请求顺序 / Risk, tier and eligibility of each
        household at its as-of date, in request order; ``warnings`` say what a household was scored without."""
        frames = self._request_frames(households, single=False)
        if isinstance(frames, JSONResponse):
            return frames
        model = self.model  # this request's model, whatever a promotion swaps in meanwhile
        ind = self._indicators_of(frames, model)
        if isinstance(ind, JSONResponse):
            return ind
        warned = ind.attrs.get("warnings", {})
        scored = model.score(ind)
        as_of = scored["as_of"].dt.strftime("%Y-%m-%d")
        results = [{"household_id": h, "as_of": a, "risk": float(r), "tier": str(t), "eligible": bool(e),
                    "model_version": str(model.model_version), "warnings": warned.get(h, [])}
                   for h, a, r, t, e in zip(scored["household_id"], as_of, scored["risk"], scored["tier"],
                                            scored["eligible"])]
        return ScoreResponse.model_validate({"results": results, "model_version": str(model.model_version),
                                             "count": len(results)})

    @bentoml.api(route="/explain", input_spec=ExplainRequest, output_spec=ExplainResponse)
    def explain(self, household: Household) -> ExplainResponse | JSONResponse:
        """一户的风险、等级、SHAP 贡献与主要原因（中英文）及帮扶措施 / Risk, tier, base value, SHAP
        contributions and the top reasons (zh/en) with assistance measures."""
        from models.explain import explain

        one = self._one(household)
        if isinstance(one, JSONResponse):
            return one
        household, model, ind = one
        hid = household["record"]["household_id"]
        warnings = ind.attrs.get("warnings", {}).get(hid, [])
        item = explain(model, ind, top=3)[0].to_dict()
        return ExplainResponse.model_validate({**item, "household_id": hid,
                                               "as_of": ind["as_of"].iloc[0].date().isoformat(),
                                               "model_version": str(model.model_version),
                                               "warnings": warnings})

    @bentoml.api(route="/report", input_spec=ReportRequest)
    def report(self, household: Household, lang: str = "zh") -> Annotated[str, ContentType("text/html")]:
        """一户的入户核实报告（HTML，中文或英文）/ The household's field report as one HTML page (zh or en)."""
        from serving.reports import render_household_report

        one = self._one(household)
        if isinstance(one, JSONResponse):
            return one
        household, model, ind = one
        doc = {**household, "as_of": ind["as_of"].iloc[0].date().isoformat()}  # the one as-of rule
        try:
            return render_household_report(model, doc, lang=lang)
        except ValueError as e:
            return _domain_error(e)

    @bentoml.api(route="/outcomes", input_spec=OutcomesRequest, output_spec=OutcomesResponse)
    def outcomes(self, outcomes: list[dict[str, Any]]) -> OutcomesResponse | JSONResponse:
        """Visit outcomes into the case store, all or nothing (needs the ``outcomes:write`` scope)."""
        from serving.outcomes_api import store_outcomes

        status, body = store_outcomes(self._case_store(), outcomes)
        return OutcomesResponse(**body) if status == 200 else JSONResponse(body, status_code=status)

    def _case_store(self) -> Any:
        """The warehouse's case store, opened (and migrated) on first use: scoring never needs it."""
        if getattr(self, "_cases", None) is None:
            from cases.store import open_store

            self._cases = open_store(settings.warehouse())
        return self._cases

    @bentoml.api(route="/worklist", input_spec=WorklistRequest, output_spec=WorklistResponse)
    def worklist(self, households: list[Household], options: Any = None, triggers: Any = None,
                 round_id: str | None = None, issued: str | None = None) -> WorklistResponse | JSONResponse:
        """The worklist of the given households (channels, reasons, measures, deadlines) as JSON entries."""
        from models.worklist import WorklistError
        from serving.worklist_data import documents_worklist
        from serving.worklist_output import to_records

        households = self._resolved(households, single=False)
        if isinstance(households, JSONResponse):
            return households
        frames, found = checked_frames(households)
        if found:
            return _problems_response(found, single=False)
        try:
            wl = documents_worklist(self.model, households, frames, options=options, triggers=triggers,
                                    round_id=round_id, issued=date.fromisoformat(issued) if issued else date.today())
        except (ValueError, WorklistError) as e:
            return _domain_error(e)
        return WorklistResponse.model_validate(to_records(wl))


Povwatch.add_asgi_middleware(ApiGuard, request_models=REQUEST_MODELS)

__all__ = ["Povwatch", "ApiGuard", "ErrorResponse", "REQUEST_MODELS", "OPEN_PATHS"]
