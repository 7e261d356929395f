"""Request and response models of the scoring API, generated from the contract.

Nothing here lists a column or an enum value: every field of ``Record``, ``Member`` and ``Event`` is built
from ``features.data.contract`` tables. The models are strict because the monitoring platform's bugs must surface
as errors, not as silently different scores:

- unknown fields are errors (``extra="forbid"``); no str→number or number→str coercion (``strict=True``);
- enums take the English code or the Chinese label; enum-lists a list of them or a ``;``/``；``-joined string;
- ranges, lengths and the date shape (``YYYY-MM-DD``) are checked;
- inputs are never echoed in error messages (``hide_input_in_errors``), so a traceback logged by the
  server holds no payload.

Every check here runs inside pydantic-core (``Literal`` enums, ``Field`` constraints, ``TypedDict`` rows that
validate to plain dicts): a 1,000-household request is ~17,000 objects, and one Python validator per object
cost more than everything else the service does. What a value's type cannot say — calendar dates, the
items of a joined list, the contract's cross-field rules, how history and members fit a record — is checked
vectorised on the request's frames by ``features.data.documents.problems`` (the contract rules are ingest's own).

``errors_of`` turns a ``ValidationError`` into the API's error list: one item per offending field path
with what the field allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, RootModel, StrictBool, StrictStr, Tag,
                      ValidationError, WithJsonSchema)
from typing_extensions import NotRequired, TypedDict

from features.data.contract import EVENTS, HOUSEHOLDS, MAX_ITEMS, MEMBERS, TABLES, Column, Table
from features.data.documents import allowed
from models.worklist import TriggerConfig, WorklistOptions
from serving.examples import EXAMPLE_HOUSEHOLD

MAX_HOUSEHOLDS = 20_000   # per /score call: a county's night run of >= 10,000 in one request, with room
MAX_HISTORY = 50          # earlier rounds of one household
MAX_EVENTS = 1_000        # reported shocks of one household
MAX_TEXT = 200            # characters of a free-text value (ids, place names)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

STRICT = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True, str_strip_whitespace=False)


# ------------------------------------------------------------------------------------------ field types
Date = Annotated[StrictStr, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})]


def _accepted(col: Column) -> Any:
    """An enum value: any string here; ``features.data.canonical`` reads it through the contract's table of spellings
    (code or Chinese label, any case; ingest's table) and reports what it cannot read at its place. The schema
    lists the canonical spellings."""
    spellings = list(dict.fromkeys([*col.codes, *col.values.values()]))
    return Annotated[StrictStr, Field(max_length=MAX_TEXT), WithJsonSchema({"type": "string", "enum": spellings})]


def _bool(col: Column) -> Any:
    """A JSON boolean, the number 1 or 0, or a string the contract spells a boolean with (``是``, ``N``...; read by
    ``features.data.canonical``, ingest's table of spellings)."""
    return Annotated[StrictBool | Literal[0, 1] | Annotated[StrictStr, Field(max_length=MAX_TEXT)],
                     WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}, {"type": "string"}]})]


def _number(col: Column) -> Any:
    """A JSON number in the column's range. An integer column takes any integral number (2 and 2.0, as JSON
    Schema's ``integer`` does; 2.5, "2" and true are refused): tables with gaps arrive from pandas as floats.
    Integrality beyond the float check (2.0000000000000004) is checked by ``features.data.canonical``."""
    lower = {"ge": col.min} if col.min is not None else {}
    if col.type == "money":  # money is < MONEY_MAX, other ranges are inclusive
        upper = {"lt": col.max}
    else:
        upper = {"le": col.max} if col.max is not None else {}
    if col.type != "int":
        return Annotated[float, Field(strict=True, allow_inf_nan=False, **lower, **upper)]
    bounds = {"minimum": col.min} if col.min is not None else {}
    bounds |= {"maximum": col.max} if col.max is not None else {}
    return Annotated[float, Field(strict=True, allow_inf_nan=False, multiple_of=1, **lower, **upper),
                     WithJsonSchema({"type": "integer", **bounds})]


def _form(value: Any) -> str:
    return "list" if isinstance(value, list) else "str"


def field_type(col: Column) -> Any:
    """The pydantic type of one contract column."""
    if col.type == "string":
        return Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
    if col.type == "date":
        return Date
    if col.type == "enum":
        return _accepted(col)
    if col.type == "enum-list":
        # The string form comes first: BentoML's client flattens anyOf to its first branch and would split a
        # string into characters under an array schema.
        # A list or a string, told apart by the value's JSON type, so an error speaks of the form sent only.
        limit = MAX_ITEMS.get(col.name)
        items = Field(max_length=limit) if limit else Field()
        joined = Annotated[StrictStr, Field(max_length=MAX_TEXT, description="items joined by ';' or '；'"),
                           Tag("str")]
        return Annotated[joined | Annotated[list[_accepted(col)], items, Tag("list")], Discriminator(_form)]
    if col.type == "bool":
        return _bool(col)
    return _number(col)


def _row(name: str, table: Table, doc: str, drop: Sequence[str] = ()) -> type:
    """A TypedDict of one contract table's row: required columns required, optional ones may be absent or null."""
    fields: dict[str, Any] = {}
    for col in table.columns:
        if col.name in drop:
            continue
        description = f"{col.zh} / {col.name}: {allowed(col)}" + (f"; {col.doc}" if col.doc else "")
        kind = field_type(col) if col.required else field_type(col) | None  # optional: may be absent or null
        described = Annotated[kind, Field(description=description)]
        fields[col.name] = described if col.required else NotRequired[described]
    row = TypedDict(name, fields)
    row.__doc__ = doc
    row.__pydantic_config__ = STRICT
    return row


# --------------------------------------------------------------------------------------- the models
Record = _row("Record", HOUSEHOLDS, f"A {HOUSEHOLDS.name} row ({HOUSEHOLDS.zh}).")
Member = _row("Member", MEMBERS, f"A {MEMBERS.name} row ({MEMBERS.zh}) without household_id and round_id.",
              drop=("household_id", "round_id"))
Event = _row("Event", EVENTS, f"An {EVENTS.name} row ({EVENTS.zh}) without household_id.", drop=("household_id",))

_MAX_MEMBERS = int(HOUSEHOLDS.column("household_size").max)
Members = Annotated[list[Member], Field(max_length=_MAX_MEMBERS)]


class HistoryRound(TypedDict):
    """An earlier round of the household: its record and that round's members."""

    __pydantic_config__ = STRICT  # type: ignore[misc]
    record: Record
    members: NotRequired[Members]


class Household(TypedDict):
    """一户：最新采集记录、家庭成员、往年记录、此后上报的风险事件与评估日期。
    The "Household" document: the latest record, its members, earlier rounds, shocks since, and the as-of
    date (default: the latest date it knows of, see ``features.data.as_of``). Validates to a plain dict (see the
    module docstring)."""

    __pydantic_config__ = STRICT  # type: ignore[misc]
    record: Record
    members: NotRequired[Members]
    history: NotRequired[Annotated[list[HistoryRound], Field(max_length=MAX_HISTORY)]]
    events: NotRequired[Annotated[list[Event], Field(max_length=MAX_EVENTS)]]
    as_of: NotRequired[Date | None]


class HouseholdRef(TypedDict):
    """A household the service's warehouse holds, by id: scored from its stored rounds and events up to
    ``as_of`` (default: today) plus the newly reported ``events`` sent here (see ``serving.references``)."""

    __pydantic_config__ = STRICT  # type: ignore[misc]
    household_id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
    events: NotRequired[Annotated[list[Event], Field(max_length=MAX_EVENTS)]]
    as_of: NotRequired[Date | None]


def _item_kind(value: Any) -> str:
    """A document has a ``record``; anything else is read as a reference (so its errors speak of its fields)."""
    return "Household" if isinstance(value, dict) and "record" in value else "HouseholdRef"


class HouseholdItem(RootModel):
    """A Household document or a HouseholdRef, told apart by ``record`` (``.root`` is the validated dict).

    A root model, not a bare annotated union: BentoML rewrites the annotations of list items and loses the
    union's tags. Tags are capitalised so ``errors_of`` leaves them out of field paths."""

    root: Annotated[Annotated[Household, Tag("Household")] | Annotated[HouseholdRef, Tag("HouseholdRef")],
                    Discriminator(_item_kind)]


class _Strict(BaseModel):
    model_config = STRICT


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(**STRICT, json_schema_extra={"example": body})  # OpenAPI 3.0: one "example"


class ScoreRequest(_Strict):
    """农户列表，每户一份文档或户编号 / The households to score: a document or a reference each."""

    model_config = _example({"households": [EXAMPLE_HOUSEHOLD]})
    households: list[HouseholdItem] = Field(min_length=1, max_length=MAX_HOUSEHOLDS,
                                            description="1 to 20,000 households / 1 至 20,000 户")


class ExplainRequest(_Strict):
    """一户的文档 / One household's document."""

    model_config = _example({"household": EXAMPLE_HOUSEHOLD})
    household: HouseholdItem


class WorklistRequest(_Strict):
    """Household documents and the worklist options of ``povwatch worklist`` (same names, same defaults)."""

    model_config = _example({"households": [EXAMPLE_HOUSEHOLD], "issued": "2026-02-20"})
    households: list[HouseholdItem] = Field(min_length=1, max_length=MAX_HOUSEHOLDS)
    options: WorklistOptions = Field(default_factory=WorklistOptions)
    triggers: TriggerConfig = Field(default_factory=TriggerConfig)
    round_id: str | None = Field(default=None, description="the round households should have a record of; "
                                 "default: the round of the newest record. Older records are listed as stale.")
    issued: Date | None = Field(default=None, description="date the list is issued (deadlines count from it); "
                                "default today")


class ReportRequest(_Strict):
    """一户的文档与报告语言 / One household's document and the report's language."""

    model_config = _example({"household": EXAMPLE_HOUSEHOLD, "lang": "zh"})
    household: HouseholdItem
    lang: Literal["zh", "en"] = Field("zh", description="报告语言 / report language")


# ------------------------------------------------------------------------------------------ responses
class ScoreResult(BaseModel):
    household_id: str
    as_of: str = Field(description="the date the household was scored at, YYYY-MM-DD")
    risk: float = Field(ge=0, le=1, description="calibrated probability of falling below the line by next round")
    tier: str
    eligible: bool = Field(description="False when the household is already below the line at its as-of "
                                       "record: it needs assistance now; its risk is still given")
    model_version: str
    warnings: list[str] = Field(default_factory=list, description="what the household was scored without "
                                "(no members, events after as_of); empty when nothing")


class ScoreResponse(BaseModel):
    results: list[ScoreResult]
    model_version: str
    count: int


class ExplainResponse(BaseModel):
    """``models.explain.Explanation.to_dict()`` plus the household and model version."""

    model_config = ConfigDict(extra="allow")
    household_id: str
    model_version: str
    risk: float
    tier: str
    eligible: bool
    warnings: list[str] = Field(default_factory=list, description="what the household was scored without")


class WorklistResponse(BaseModel):
    """``serving.worklist_output.to_records``: entries (channels in order) and the stale households apart, each
    with structured reasons ``{indicator, value, group, text_zh, text_en}``, measures and deadlines."""

    model_config = ConfigDict(extra="allow")
    as_of: str
    issued: str
    model_version: str
    seed: int
    counts: dict[str, int]
    entries: list[dict[str, Any]]
    stale: list[dict[str, Any]]


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    run_id: str | None = None
    trained_at: str | None = None
    test_round: str | None = None
    training_rounds: list[str]
    metrics: dict[str, float]
    features: list[str]


class FieldError(BaseModel):
    field: str = Field(description="path of the offending value, e.g. households[0].record.wage_income")
    problem: str
    allowed: str


class ErrorResponse(BaseModel):
    error: str
    errors: list[FieldError]


# ------------------------------------------------------------------------------------------ errors
_TABLE_OF_PART = {"record": HOUSEHOLDS, "members": MEMBERS, "events": EVENTS}


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed(loc: Sequence[int | str], error_type: str) -> str:
    """What the field at ``loc`` accepts, from the contract when it is a contract column."""
    table = None
    for part in loc:
        table = _TABLE_OF_PART.get(part, table) if isinstance(part, str) else table
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if table is not None and name in table.names:
        col = table.column(name)
        if error_type == "missing":
            return f"required: {col.allowed()}"
        return allowed(col)
    if error_type == "extra_forbidden":
        if table is not None:
            return f"fields of the {table.name} table (English names): {', '.join(table.names)}"
        if name in ("households", "household"):
            return "the fields of a Household: record, members, history, events, as_of"
        return "see the API schema at /docs.json"
    if name == "as_of":
        return "a date YYYY-MM-DD, not before record.survey_date"
    if name == "household_id" and table is None:
        return "the household_id of a household in the service's warehouse (a reference: household_id, events, " \
               "as_of), or a Household document with its record"
    if name == "households":
        return f"a list of 1 to {MAX_HOUSEHOLDS:,} Household objects, each household_id once"
    if name == "lang":
        return "zh or en"
    if "options" in loc:
        return f"worklist options: {', '.join(WorklistOptions.model_fields)}"
    if "triggers" in loc:
        return f"trigger settings (null switches one off): {', '.join(TriggerConfig.model_fields)}"
    return "see the API schema at /docs.json"


_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")  # contract and request field names; union branch tags are not
_TYPE_TAGS = ("str", "list", "int", "float", "bool")  # union branch names that look like field names


def _column_at(loc: Sequence[int | str]) -> Column | None:
    table = None
    for part in loc:
        table = _TABLE_OF_PART.get(part, table) if isinstance(part, str) else table
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    return table.column(name) if table is not None and name in table.names else None


def _problem(loc: Sequence[int | str], error: dict[str, Any], key: str | None) -> str:
    """The problem in words that fit the contract's types (pydantic's own wording otherwise)."""
    if key is not None:
        table = next((_TABLE_OF_PART[p] for p in reversed(loc) if isinstance(p, str) and p in _TABLE_OF_PART), None)
        english = table.header_map().get(key) if table is not None else None
        hint = f"; the API names fields in English: {key} is {english}" if english and english != key else ""
        return f"unknown field {key!r}{hint}"
    col = _column_at(loc)
    kind = error["type"]
    if col is not None and col.type == "int" and kind in ("float_type", "float_parsing", "multiple_of"):
        return "not a whole number" if kind == "multiple_of" else \
            "not a number: a whole number is a JSON number (2 or 2.0), not a string or a boolean"
    if col is not None and col.type == "bool" and kind in ("bool_type", "literal_error", "string_type"):
        return "not a boolean: a JSON true/false, the number 1/0, or one of the spellings allowed"
    if col is not None and col.type in ("enum", "enum-list") and kind == "string_type":
        return "not a string: enum values are strings (the code or the Chinese label)"
    return error["msg"]


def errors_of(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{field, problem, allowed}`` per offending field path, in the API's error format (rules beyond the
    types are reported by ``features.data.documents.problems``, already at their place). A value that fails every
    branch of a union (a boolean, say) is one error; an unknown key is named whatever its script."""
    out, seen = [], set()
    for e in exc.errors(include_input=False, include_url=False, include_context=False):
        raw = list(e["loc"])
        key = str(raw.pop()) if e["type"] == "extra_forbidden" and raw else None
        loc = [p for p in raw if not (isinstance(p, str) and (p in _TYPE_TAGS or not _FIELD_NAME.match(p)))]
        field = _path([*loc, key] if key is not None else loc) or "(body)"
        if field in seen:
            continue
        seen.add(field)
        out.append({"field": field, "problem": _problem(loc, e, key),
                    "allowed": _allowed(loc, e["type"])})
    return out


def error_body(message: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"error": message, "errors": errors}


__all__ = ["Record", "Member", "Event", "HistoryRound", "Household", "HouseholdRef", "HouseholdItem", "ScoreRequest",
           "ExplainRequest", "ReportRequest", "WorklistRequest", "WorklistResponse", "ScoreResult", "ScoreResponse",
           "ExplainResponse", "ModelInfo", "ErrorResponse",
           "errors_of", "error_body", "field_type", "MAX_HOUSEHOLDS", "TABLES"]
