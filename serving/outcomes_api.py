"""``POST /outcomes``: visit outcomes from the monitoring platform into the case store, all or nothing.

The rows are checked by the same contract code as ``povwatch outcomes ingest`` (codes or Chinese labels, which
fields go with which outcome, date order, identity-number-shaped ids pseudonymised); any bad row, or an outcome
for an alert no worklist issued, answers 400 naming ``outcomes[i].field`` and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.data.contract import LIST_SEPARATORS, OUTCOMES
from features.data.validate import validate_frame

MAX_OUTCOMES = 10_000  # rows per request
Value = str | int | float | bool | None | list[str]
_KEYS = OUTCOMES.header_map()  # English name or Chinese label -> English name
# Refusal rules whose field is not in their name.
_RULE_FIELDS = {"alert_exists": "alert_id", "alert_household": "household_id", "duplicate_key": "alert_id"}


class OutcomesRequest(BaseModel):
    """``{"outcomes": [row, ...]}``: rows of the contract's ``outcomes`` table (English or Chinese keys)."""

    model_config = ConfigDict(extra="forbid")
    outcomes: list[dict[str, Value]] = Field(min_length=1, max_length=MAX_OUTCOMES)


class OutcomesResponse(BaseModel):
    """How many rows came, how many were stored as new states, how many were already stored."""

    received: int
    stored: int
    unchanged: int


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATORS[0].join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_of(rule: str) -> str:
    name = rule.partition(":")[2] or rule
    return _RULE_FIELDS.get(rule, name if name in OUTCOMES.names else "(row)")


def _errors_of(rejected: pd.DataFrame, rows: pd.Series) -> list[dict[str, str]]:
    """One ``{field, problem, allowed}`` per failed check of each rejected row."""
    out = []
    for row, rules, reasons in zip(rows, rejected["rule"], rejected["reason"]):
        for rule, reason in zip(str(rules).split("; "), str(reasons).split("; ")):
            name = _field_of(rule)
            allowed = OUTCOMES.column(name).allowed() if name in OUTCOMES.names else "see the outcomes table"
            if rule in ("alert_exists", "alert_household"):
                allowed = "the alert_id and household_id of an entry of a recorded worklist"
            out.append({"field": f"outcomes[{int(row)}].{name}", "problem": reason, "allowed": allowed})
    return out


def outcome_rows(rows: list[dict[str, Value]]) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Canonical outcome rows in request order, or the errors (each at its ``outcomes[i].field``)."""
    errors = [{"field": f"outcomes[{i}].{k}", "problem": "not a column of the outcomes table",
               "allowed": ", ".join(OUTCOMES.names)} for i, r in enumerate(rows) for k in r if k not in _KEYS]
    if errors:
        return pd.DataFrame(), errors
    text = pd.DataFrame([{_KEYS[k]: _text(v) for k, v in r.items()} for r in rows],
                        columns=OUTCOMES.names).fillna("")
    result = validate_frame(OUTCOMES.name, text, source="POST /outcomes")
    if len(result.rejected):
        return pd.DataFrame(), _errors_of(result.rejected, result.rejected["source_row"] - 1)
    return result.accepted, []


def store_outcomes(store: Any, rows: list[dict[str, Value]]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 with the counts, or 400 with every problem and nothing stored."""
    from serving.schemas import error_body

    frame, errors = outcome_rows(rows)
    if not errors:
        write = store.record_outcomes(frame, source="POST /outcomes", all_or_nothing=True)
        if len(write.rejected):
            errors = _errors_of(write.rejected, write.rejected["row"])
        else:
            return 200, {"received": len(rows), "stored": write.new, "unchanged": write.unchanged}
    return 400, error_body("invalid outcomes; nothing was stored", errors)
