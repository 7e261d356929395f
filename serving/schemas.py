"""Request and response models of the scoring API (DESIGN "Scoring API"), generated from the contract.

Nothing here lists a column or an enum value: every field of ``Record``, ``Member`` and ``Event`` is built
from ``features.contract`` tables with ``pydantic.create_model``. The models are strict because the
monitoring platform's bugs must surface as errors, not as silently different scores:

- unknown fields are errors (``extra="forbid"``); no str→number or number→str coercion (``strict=True``);
- enums take the English code or the Chinese label and hold the code; enum-lists take a list or a
  ``;``/``；``-joined string and hold the canonical ``;``-joined codes;
- ranges, dates (``YYYY-MM-DD``) and the contract's cross-field rules that concern one household are checked;
- inputs are never echoed in error messages (``hide_input_in_errors``), so a traceback logged by the
  server holds no payload.

``errors_of`` turns a ``ValidationError`` into the API's error list: one item per offending field path
with what the field allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError,
                      WithJsonSchema, create_model, model_validator)

from features.contract import (EVENTS, HOUSEHOLDS, LIST_SEPARATORS, MAX_RISK_TYPES, MEMBERS, TABLES,
                               TRANSFER_PARTS, Column, Table)

MAX_HOUSEHOLDS = 20_000   # per /score call: a county's night run of >= 10,000 in one request, with room
MAX_HISTORY = 50          # earlier rounds of one household
MAX_EVENTS = 1_000        # reported shocks of one household
MAX_TEXT = 200            # characters of a free-text value (ids, place names)
MONEY_TOLERANCE = 0.005   # yuan: float rounding of sums of parts, as in ingest; never a fen
MAX_ITEMS = {"risk_types": MAX_RISK_TYPES}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPLIT = re.compile("|".join(map(re.escape, LIST_SEPARATORS)))

STRICT = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True, str_strip_whitespace=False)


# ------------------------------------------------------------------------------------------ field types
def _check_date(value: str) -> str:
    if not _DATE.match(value):
        raise ValueError("expected a date YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"not a calendar date ({e}); expected a date YYYY-MM-DD") from None
    return value


Date = Annotated[StrictStr, AfterValidator(_check_date),
                 WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE.pattern})]


def _code_lookup(col: Column) -> dict[str, str]:
    """English code or Chinese label -> code, as ``Column.code_of`` answers it (a code wins over an equal label),
    in one dict: the validators below run for every enum value of every request."""
    lookup = {label: code for label in col.values.values() if (code := col.code_of(label)) is not None}
    return {**lookup, **{code: code for code in col.codes}}


def _enum(col: Column) -> Any:
    lookup = _code_lookup(col)

    def to_code(value: str) -> str:
        code = lookup.get(value)
        if code is None:
            raise ValueError(f"{col.name}: not {col.allowed()}")
        return code

    accepted = [*col.codes, *col.values.values()]
    return Annotated[StrictStr, AfterValidator(to_code), WithJsonSchema({"type": "string", "enum": accepted})]


def _enum_list(col: Column) -> Any:
    limit = MAX_ITEMS.get(col.name)
    lookup = _code_lookup(col)

    def to_codes(value: str | list[str]) -> str:
        items = value if isinstance(value, list) else [t for t in _SPLIT.split(value)]
        items = [t.strip() for t in items if t.strip()]
        codes = []
        for item in items:
            code = lookup.get(item)
            if code is None:
                raise ValueError(f"{col.name}: item {item!r} is not {col.allowed()}")
            if code not in codes:
                codes.append(code)
        if limit is not None and len(codes) > limit:
            raise ValueError(f"{col.name}: {len(codes)} items; at most {limit}")
        return ";".join(codes)

    accepted = [*col.codes, *col.values.values()]
    # The string form comes first: BentoML's client flattens anyOf to its first branch and would split a
    # string into characters under an array schema.
    schema = {"anyOf": [{"type": "string", "description": "items joined by ';' or '；'"},
                        {"type": "array", "items": {"type": "string", "enum": accepted},
                         **({"maxItems": limit} if limit else {})}]}
    return Annotated[StrictStr | list[StrictStr], AfterValidator(to_codes), WithJsonSchema(schema)]


def _number(col: Column, kind: type) -> Any:
    lower = {"ge": col.min} if col.min is not None else {}
    if col.type == "money":  # money is < MONEY_MAX, other ranges are inclusive
        upper = {"lt": col.max}
    else:
        upper = {"le": col.max} if col.max is not None else {}
    extra = {"allow_inf_nan": False} if kind is float else {}
    return Annotated[kind, Field(strict=True, **lower, **upper, **extra)]


def field_type(col: Column) -> Any:
    """The pydantic type of one contract column."""
    if col.type == "string":
        return Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)]
    if col.type == "date":
        return Date
    if col.type == "enum":
        return _enum(col)
    if col.type == "enum-list":
        return _enum_list(col)
    if col.type == "bool":
        return StrictBool
    if col.type == "int":
        return _number(col, int)
    return _number(col, float)  # float, money


def _fields(table: Table, drop: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name in drop:
            continue
        typ = field_type(col)
        described = Field(description=f"{col.zh}; {col.allowed()}" + (f"; {col.doc}" if col.doc else ""))
        out[col.name] = (typ, described) if col.required else (typ | None, Field(None, description=described.description))
    return out


# ----------------------------------------------------------------------------------- cross-field rules
def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


# (part, total) column pairs of the households table, e.g. (dibao_income, transfer_income): read once, as the
# rule runs for every record of every request.
_PART_OF = tuple((col.name, col.part_of) for col in HOUSEHOLDS.columns if col.part_of)


def record_rules(r: BaseModel) -> None:
    """The contract's rules within one households row (``rules`` of the households table)."""
    for name, total_name in _PART_OF:
        part, total = getattr(r, name), getattr(r, total_name)
        if part is not None and total is not None and part > total + MONEY_TOLERANCE:
            raise ValueError(f"{name}={_fmt(part)} exceeds {total_name}={_fmt(total)}; "
                             f"{name} is part of {total_name}, so it must be <= it")
    parts = [getattr(r, p) for p in TRANSFER_PARTS]
    if all(p is not None for p in parts) and sum(parts) > r.transfer_income + MONEY_TOLERANCE:
        raise ValueError(f"{' + '.join(TRANSFER_PARTS)} = {_fmt(sum(parts))} exceeds transfer_income="
                         f"{_fmt(r.transfer_income)}; the parts must sum to <= transfer_income")
    if r.is_monitored and r.monitoring_type is None:
        raise ValueError("monitoring_type: required when is_monitored is true; "
                         f"{HOUSEHOLDS.column('monitoring_type').allowed()}")
    if not r.is_monitored and r.monitoring_type is not None:
        raise ValueError("monitoring_type: must be absent (null) when is_monitored is false")


def member_rules(m: BaseModel) -> None:
    """The contract's rules within one members row."""
    if (m.work_location == "none") != (m.work_months == 0):
        raise ValueError(f"work_months={m.work_months} with work_location={m.work_location!r}: work_months is 0 "
                         "exactly when work_location is none (未务工)")
    if m.disability_grade is not None and m.health != "disabled":
        raise ValueError(f"disability_grade: set only when health is disabled (残疾), health is {m.health!r}")


def round_rules(record: BaseModel, members: list[BaseModel]) -> None:
    """One round's record and its members: size and member ids agree."""
    if members and record.household_size != len(members):
        raise ValueError(f"record.household_size={record.household_size} but {len(members)} members given; "
                         "household_size equals the number of members when members are given")
    ids = [m.member_id for m in members]
    if len(set(ids)) != len(ids):
        raise ValueError("members: member_id must be unique within a round")


def household_rules(h: "Household") -> None:
    """History belongs to the same household and is earlier; as_of is not before the record."""
    rec = h.record
    round_rules(rec, h.members)
    seen = {rec.round_id}
    for i, past in enumerate(h.history):
        if past.record.household_id != rec.household_id:
            raise ValueError(f"history[{i}].record.household_id: differs from record.household_id; "
                             "history holds earlier rounds of the same household")
        if past.record.survey_date >= rec.survey_date:
            raise ValueError(f"history[{i}].record.survey_date={past.record.survey_date} is not before "
                             f"record.survey_date={rec.survey_date}; history holds earlier rounds")
        if past.record.round_id in seen:
            raise ValueError(f"history[{i}].record.round_id={past.record.round_id!r} appears twice")
        seen.add(past.record.round_id)
    if h.as_of is not None and h.as_of < rec.survey_date:
        raise ValueError(f"as_of={h.as_of} is before record.survey_date={rec.survey_date}; "
                         "the record is not known yet at that date")


def _after(rule: Callable[[Any], None]) -> Callable[[BaseModel], BaseModel]:
    def check(self: BaseModel) -> BaseModel:
        rule(self)
        return self

    return model_validator(mode="after")(check)


# --------------------------------------------------------------------------------------- the models
class _Strict(BaseModel):
    model_config = STRICT


Record = create_model("Record", __base__=_Strict, __doc__=f"A {HOUSEHOLDS.name} row ({HOUSEHOLDS.zh}).",
                      __validators__={"contract_rules": _after(record_rules)}, **_fields(HOUSEHOLDS))
Member = create_model("Member", __base__=_Strict,
                      __doc__=f"A {MEMBERS.name} row ({MEMBERS.zh}) without household_id and round_id.",
                      __validators__={"contract_rules": _after(member_rules)},
                      **_fields(MEMBERS, drop=("household_id", "round_id")))
Event = create_model("Event", __base__=_Strict, __doc__=f"An {EVENTS.name} row ({EVENTS.zh}) without household_id.",
                     **_fields(EVENTS, drop=("household_id",)))

_MAX_MEMBERS = int(HOUSEHOLDS.column("household_size").max)


class HistoryRound(_Strict):
    """An earlier round of the household: its record and that round's members."""

    record: Record
    members: list[Member] = Field(default_factory=list, max_length=_MAX_MEMBERS)

    @model_validator(mode="after")
    def _size(self) -> "HistoryRound":
        round_rules(self.record, self.members)
        return self


class Household(_Strict):
    """DESIGN "Household": the latest record, its members, earlier rounds, shocks since, and the as-of date
    (default: today)."""

    record: Record
    members: list[Member] = Field(default_factory=list, max_length=_MAX_MEMBERS)
    history: list[HistoryRound] = Field(default_factory=list, max_length=MAX_HISTORY)
    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)
    as_of: Date | None = None

    @model_validator(mode="after")
    def _rules(self) -> "Household":
        household_rules(self)
        return self


class ScoreRequest(_Strict):
    households: list[Household] = Field(min_length=1, max_length=MAX_HOUSEHOLDS)

    @model_validator(mode="after")
    def _unique(self) -> "ScoreRequest":
        seen: set[str] = set()
        for h in self.households:
            if h.record.household_id in seen:
                raise ValueError("households: each household_id at most once per request; "
                                 "a household appears twice")
            seen.add(h.record.household_id)
        return self


class ExplainRequest(_Strict):
    household: Household


class ReportRequest(_Strict):
    household: Household
    lang: Literal["zh", "en"] = "zh"


# ------------------------------------------------------------------------------------------ responses
class ScoreResult(BaseModel):
    household_id: str
    as_of: str = Field(description="the date the household was scored at, YYYY-MM-DD")
    risk: float = Field(ge=0, le=1, description="calibrated probability of falling below the line by next round")
    tier: str
    model_version: str


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
        return col.allowed() + (f", at most {MAX_ITEMS[name]} items" if name in MAX_ITEMS else "")
    if error_type == "extra_forbidden":
        if table is not None:
            return f"fields of the {table.name} table: {', '.join(table.names)}"
        return "see the API schema at /docs.json"
    if name == "as_of":
        return "a date YYYY-MM-DD, not before record.survey_date"
    if name == "households":
        return f"a list of 1 to {MAX_HOUSEHOLDS:,} Household objects, each household_id once"
    if name == "lang":
        return "zh or en"
    return "see the API schema at /docs.json"


_LEADING_FIELD = re.compile(r"^([a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*)(?:=|: )")
_TYPE_TAGS = ("str", "list[str]", "int", "float", "bool")  # union branch names pydantic puts in a loc


def _parse_path(text: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", text) if p]


def errors_of(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{field, problem, allowed}`` per pydantic error, in the API's error format. A cross-field rule's
    message starts with the field it blames (``household_size=3 but ...``); that field joins the path."""
    out = []
    for e in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and (p in _TYPE_TAGS or p.startswith("function-")))]
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "value_error" and (m := _LEADING_FIELD.match(msg)) and not (loc and loc[-1] == m.group(1)):
            loc = [*loc, *_parse_path(m.group(1))]
        out.append({"field": _path(loc) or "(body)", "problem": msg, "allowed": _allowed(loc, e["type"])})
    return out


def error_body(message: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"error": message, "errors": errors}


__all__ = ["Record", "Member", "Event", "HistoryRound", "Household", "ScoreRequest", "ExplainRequest",
           "ReportRequest", "ScoreResult", "ScoreResponse", "ExplainResponse", "ModelInfo", "ErrorResponse",
           "errors_of", "error_body", "field_type", "MAX_HOUSEHOLDS", "TABLES"]
