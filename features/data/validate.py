"""Validate one file's rows against the survey contract: accepted rows in canonical form, rejected rows with
their reasons.

Four vectorised passes, all driven by the objects in ``features.data.contract`` (no column is listed here):

1. *read*: headers (English name or Chinese label) to English names; person-identifying columns dropped;
   ids shaped like identity numbers pseudonymised; values stripped;
2. *parse*: strings to canonical values (Chinese enum labels to codes, 是/否 to booleans, '；' to ';');
   a value that cannot be read is reported as a ``type`` failure with the value as read;
3. *column checks*: a pandera ``DataFrameSchema`` built from the contract (dtype, required, range, enum,
   list length), validated lazily; its failure cases become per-row reasons;
4. *rules*: cross-field rules of the contract and key uniqueness, as vectorised masks.

A row may fail several checks; its reasons are joined with ``'; '``. Every reason starts with the rule's
name and names the column(s) and value(s): ``range: age='130' is not a int between 0 and 120``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field

import warnings

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    # pandera imports pyspark.pandas when pyspark is installed (the spark extra), which warns about pandas 3
    # on every command; povwatch's Spark path does not use pyspark.pandas.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

from features.data.canonical import PANDAS_DTYPE, cast
from features.data.contract import (BOOL_SPELLINGS, MAX_ITEMS, MONEY_MAX, OUTCOMES_WITH_MEASURES, TABLES,
                               TRANSFER_PARTS, Column, Table, spelling_key)
from features.data.pii import ID_PREFIX, drop_pii_columns, pseudonymise_ids

MONEY_TOLERANCE = 0.005  # yuan: sums of parts may exceed their total by float rounding, never by a fen
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "<na>"})  # for non-text columns only
REJECTED_EXTRA = ["reason", "rule", "source_file", "source_row"]  # not "source": events has such a column


class ContractError(ValueError):
    """A file cannot be validated at all: unreadable, empty, or missing a required column."""


@dataclass
class ValidationResult:
    """Outcome of validating one file.

    ``accepted`` is canonical and keeps the 0-based data-row positions as its index; ``rejected`` holds the
    contract fields as read (strings, ids pseudonymised) plus ``reason``, ``rule``,
    ``source_file``, ``source_row`` (1-based data row). ``accepted_raw`` is the as-read form of the accepted rows (same
    index), so a later cross-table rule can still quarantine them as read.
    """

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    unknown_columns: list[str]
    dropped_pii_columns: list[str]
    accepted_raw: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    typed_keys: Any = field(default=None, repr=False)  # pyarrow Table: key columns of every row + ``_row``


# ---------------------------------------------------------------------------------------------- pass 1: read

def _nfkc(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).lstrip("\ufeff").strip()


def _header_lookup(t: Table) -> dict[str, str]:
    out = {_nfkc(h): name for h, name in t.header_map().items()}
    out.update({name.lower(): name for name in t.names})
    return out


def map_headers(t: Table, df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, list[str]]:
    """Rename English/Chinese headers to contract names; return the frame of known columns and the
    unknown headers. Two headers naming one column is a ``ContractError``."""
    lookup = _header_lookup(t)
    rename: dict[str, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for h in df.columns:
        key = _nfkc(h)
        name = lookup.get(key) or lookup.get(key.lower())
        if name is None:
            unknown.append(str(h))
            continue
        if name in seen:
            raise ContractError(f"{where}: headers {seen[name]!r} and {h!r} both name column {name}; keep one")
        seen[name] = str(h)
        rename[h] = name
    return df[list(rename)].rename(columns=rename), unknown


def as_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell as a stripped ``str``; missing cells as ``""`` (Parquet input arrives typed)."""
    out = {}
    for col in df.columns:
        s = df[col]
        text = s.astype("object").where(s.notna(), "").astype(str)
        out[col] = text.str.strip().astype("object")
    return pd.DataFrame(out, index=df.index)


# --------------------------------------------------------------------------------------------- pass 2: parse

def _enum_lookup(c: Column) -> dict[str, str]:
    """``spelling_key`` of each code and label -> code (the contract's one table of spellings)."""
    out = {spelling_key(code): code for code in c.values}
    out.update({spelling_key(zh): code for code, zh in c.values.items()})
    return out


def _keys(s: pd.Series) -> pd.Series:
    """``spelling_key`` of each cell, vectorised."""
    return s.str.normalize("NFKC").str.lstrip("\ufeff").str.strip().str.lower()


def _given(s: pd.Series, c: Column) -> pd.Series:
    if c.type in ("string", "enum", "enum-list"):
        return s != ""
    return ~s.str.lower().isin(_MISSING)


def _map_enum(s: pd.Series, c: Column) -> pd.Series:
    """Codes for codes or labels; unknown values pass through so the enum check reports them as read."""
    mapped = _keys(s).map(_enum_lookup(c)).astype("object")
    return mapped.where(mapped.notna(), s).astype("object")


def _parse_list(s: pd.Series, c: Column) -> pd.Series:
    """'因病；因学' -> 'illness;education': split on either separator, map each token, re-join in order."""
    parts = s.str.split(r"[;；]", regex=True, expand=True)
    out = pd.Series("", index=s.index, dtype="object")
    for j in parts.columns:
        tok = parts[j].astype("object").where(parts[j].notna(), "").astype(str).str.strip()
        tok = _map_enum(tok, c)
        has = tok != ""
        joined = (out + ";" + tok).where(out != "", tok)
        out = joined.where(has, out)
    return out.astype("object")


def _parse_column(s: pd.Series, c: Column) -> tuple[pd.Series, pd.Series]:
    """Canonical values and a mask of values given but unreadable as the column's type."""
    given = _given(s, c)
    none = pd.Series(False, index=s.index)
    if c.type == "string":
        return s.where(given, None).astype("object"), none
    if c.type == "enum":
        return _map_enum(s, c).where(given, None).astype("object"), none
    if c.type == "enum-list":
        return _parse_list(s, c), none
    norm = s.str.normalize("NFKC").str.strip()
    if c.type == "bool":
        value = _keys(s).map(BOOL_SPELLINGS).astype("boolean")
        return value.where(given, pd.NA), given & value.isna()
    if c.type == "date":
        text = norm.str.replace(r"[年月/]", "-", regex=True).str.replace("日", "", regex=False)
        value = pd.to_datetime(text.where(given, None), format="ISO8601", errors="coerce")
        value = value.dt.normalize().astype("datetime64[ns]")
        return value, given & value.isna()
    number = pd.to_numeric(norm.where(given, None), errors="coerce").astype("float64")
    if c.type == "int":
        integral = np.isfinite(number) & (number % 1 == 0) & (number.abs() < 2**53)
        bad = given & ~integral
        return number.where(integral).astype("Int64"), bad
    return number, given & number.isna()


def parse(t: Table, text: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical frame (every contract column, absent ones empty) and the unreadable-value mask."""
    values, unreadable = {}, {}
    blank = pd.Series("", index=text.index, dtype="object")
    for c in t.columns:
        values[c.name], unreadable[c.name] = _parse_column(text[c.name] if c.name in text else blank, c)
    return cast(t, pd.DataFrame(values, index=text.index)), pd.DataFrame(unreadable, index=text.index)


# ------------------------------------------------------------------------------------- pass 3: column checks

Message = Callable[[pd.Series], pd.Series]  # values as read -> reason text


def _quote(v: pd.Series) -> pd.Series:
    return "'" + v.astype(str) + "'"


def _column_checks(c: Column) -> list[tuple[pa.Check, str, Message]]:
    """pandera checks of one column, each with its rule name and its reason wording."""
    allowed = c.allowed()
    out: list[tuple[pa.Check, str, Message]] = []
    if c.type == "money":
        out.append((pa.Check.in_range(0, MONEY_MAX, include_max=False), "range",
                    lambda v: "range: " + c.name + "=" + _quote(v) + f" is not {allowed}"))
    elif c.min is not None and c.max is not None:
        out.append((pa.Check.in_range(c.min, c.max), "range",
                    lambda v: "range: " + c.name + "=" + _quote(v) + f" is not {allowed}"))
    if c.type == "enum":
        out.append((pa.Check.isin(list(c.codes)), "enum",
                    lambda v: "enum: " + c.name + "=" + _quote(v) + f" is not {allowed}"))
    if c.type == "enum-list":
        alt = "|".join(re.escape(code) for code in c.codes)
        pattern = f"(?:(?:{alt})(?:;(?:{alt}))*)?"
        out.append((pa.Check(lambda s: s.str.fullmatch(pattern).fillna(False), name="enum_list"), "enum",
                    lambda v: "enum: " + c.name + " has " + _bad_tokens(v, c) + f", not {allowed}"))
    if c.name in MAX_ITEMS:
        limit = MAX_ITEMS[c.name]
        out.append((pa.Check(lambda s: _count_items(s) <= limit, name=f"max_{c.name}"), f"max_{c.name}",
                    lambda v: f"max_{c.name}: {c.name}=" + _quote(v) + " has "
                    + _count_items(v).astype(str) + f" entries; at most {limit} allowed"))
    return out


def _count_items(s: pd.Series) -> pd.Series:
    s = s.astype(str)
    return (s.str.count(r"[;；]") + 1).where(s != "", 0)


def _bad_tokens(v: pd.Series, c: Column) -> pd.Series:
    """The entries of failing list values that are no code (as read), e.g. ``'foo', 'bar'``."""
    tokens = v.astype(str).str.split(r"[;；]", regex=True).explode().str.strip()
    tokens = tokens[(tokens != "") & _keys(tokens).map(_enum_lookup(c)).isna()]
    return ("'" + tokens + "'").groupby(level=0).agg(", ".join).reindex(v.index).fillna("''")


def schema_for(t: Table) -> tuple[pa.DataFrameSchema, dict[str, list[tuple[str, Message]]]]:
    """The pandera schema of a contract table and, per column, the rule name and wording of each check."""
    columns, wording = {}, {}
    for c in t.columns:
        checks = _column_checks(c)
        columns[c.name] = pa.Column(PANDAS_DTYPE[c.type], checks=[ch for ch, _, _ in checks],
                                    nullable=not c.required)
        wording[c.name] = [(rule, msg) for _, rule, msg in checks]
    return pa.DataFrameSchema(columns, name=t.name), wording


def column_reasons(t: Table, typed: pd.DataFrame, text: pd.DataFrame, unreadable: pd.DataFrame) -> pd.DataFrame:
    """Per-row reasons (``row, rule, reason``) from unreadable values and the pandera schema."""
    pieces = []
    for c in t.columns:
        bad = unreadable[c.name]
        if bad.any():
            v = text.loc[bad, c.name]
            pieces.append(_reasons(v.index, f"type:{c.name}",
                                   "type: " + c.name + "=" + _quote(v) + f" is not {c.allowed()}"))
    schema, wording = schema_for(t)
    try:
        schema.validate(typed, lazy=True)
    except SchemaErrors as err:
        pieces.extend(_translate(err.failure_cases, t, text, unreadable, wording))
    return _stack(pieces)


def _translate(fc: pd.DataFrame, t: Table, text: pd.DataFrame, unreadable: pd.DataFrame,
               wording: dict[str, list[tuple[str, Message]]]) -> list[pd.DataFrame]:
    """pandera failure cases -> reason rows, worded by the check that failed, with the value as read."""
    pieces = []
    for (col, check, _), group in fc.groupby(["column", "check", "check_number"], sort=False, dropna=False):
        rows = pd.Index(group["index"].dropna().astype("int64").unique())
        if col not in text.columns and col not in t.names:
            raise RuntimeError(f"unexpected schema failure {check!r} on {col!r}")  # dtype drift: a bug here
        if check == "not_nullable":
            rows = rows[~unreadable.loc[rows, col].to_numpy()]  # already reported as unreadable
            c = t.column(col)
            pieces.append(_reasons(rows, f"required:{col}",
                                   pd.Series(f"required: {col} ({c.zh}) is missing", index=rows)))
            continue
        number = group["check_number"].iloc[0]
        if number is None or pd.isna(number):
            raise RuntimeError(f"schema failure {check!r} on {col!r}: {group['failure_case'].iloc[0]!r}")
        rule, message = wording[col][int(number)]
        values = text[col].reindex(rows) if col in text.columns else pd.Series("", index=rows)
        pieces.append(_reasons(rows, f"{rule}:{col}", message(values)))
    return pieces


def _reasons(rows: pd.Index, rule: str, reason: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"row": np.asarray(rows, dtype="int64"), "rule": rule,
                         "reason": np.asarray(reason, dtype=object)})


def _stack(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "rule": pd.Series(dtype=object),
                             "reason": pd.Series(dtype=object)})
    return pd.concat(pieces, ignore_index=True)


# --------------------------------------------------------------------------------------------- pass 4: rules

class _Columns:
    """A frame's columns as numpy arrays, each converted once (the rules read some columns several times,
    and on a one-household request reading a column costs more than the rule)."""

    def __init__(self, typed: pd.DataFrame, table: Table) -> None:
        self.typed, self.table, self.cache = typed, table, {}

    def num(self, name: str) -> np.ndarray:
        if ("num", name) not in self.cache:
            self.cache["num", name] = self.typed[name].to_numpy(dtype="float64", na_value=np.nan)
        return self.cache["num", name]

    def obj(self, name: str) -> np.ndarray:
        if ("obj", name) not in self.cache:
            self.cache["obj", name] = self.typed[name].to_numpy(dtype=object)
        return self.cache["obj", name]

    def valid(self, name: str) -> np.ndarray:
        """Given and of the right kind, so a cross-field rule never repeats a column-level failure."""
        if ("valid", name) not in self.cache:
            c = self.table.column(name)
            if c.type == "money":
                v = self.num(name)
                ok = (v >= 0) & (v < MONEY_MAX)  # NaN fails both
            elif c.type == "enum":
                codes = frozenset(c.codes)
                ok = np.fromiter((v in codes for v in self.obj(name)), dtype=bool, count=len(self.typed))
            else:
                ok = ~pd.isna(self.obj(name))
            self.cache["valid", name] = ok
        return self.cache["valid", name]


def _money(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def rule_reasons(t: Table, typed: pd.DataFrame, text: pd.DataFrame) -> pd.DataFrame:
    """The contract's cross-field rules of table ``t``, vectorised in numpy (the service checks every request
    with them, most of one household). Reasons are worded for the failing rows only, quoting ``text`` (the
    values as read)."""
    names = set(t.names)
    col = _Columns(typed, t)
    pieces = []

    def add(mask: np.ndarray, rule: str, reason: Callable[[Callable[[str], str], int], str]) -> None:
        for row in np.flatnonzero(mask):
            pieces.append((typed.index[row], rule, reason(lambda name: f"'{text[name].iloc[row]}'", row)))

    for c in t.columns:  # each "part of X" column is <= X
        if c.part_of:
            mask = col.valid(c.name) & col.valid(c.part_of) & (col.num(c.name) > col.num(c.part_of) + MONEY_TOLERANCE)
            add(mask, f"part_of:{c.name}", lambda q, _, c=c: f"part_of: {c.name}={q(c.name)} exceeds "
                f"{c.part_of}={q(c.part_of)} ({c.name} is part of {c.part_of})")
    if set(TRANSFER_PARTS) | {"transfer_income"} <= names:
        total = sum(col.num(p) for p in TRANSFER_PARTS)
        valid = np.logical_and.reduce([col.valid(p) for p in [*TRANSFER_PARTS, "transfer_income"]])
        mask = valid & (total > col.num("transfer_income") + MONEY_TOLERANCE)
        add(mask, "transfer_parts", lambda q, row: f"transfer_parts: {' + '.join(TRANSFER_PARTS)} = "
            f"{_money(total[row])} exceeds transfer_income={q('transfer_income')}")
    if {"is_monitored", "monitoring_type"} <= names:
        monitored, given = col.num("is_monitored"), ~pd.isna(col.obj("monitoring_type"))
        add((monitored == 1) & ~given, "monitoring_type", lambda q, _: f"monitoring_type: is_monitored="
            f"{q('is_monitored')} but monitoring_type is missing (set it exactly when is_monitored)")
        add((monitored == 0) & given, "monitoring_type", lambda q, _: f"monitoring_type: is_monitored="
            f"{q('is_monitored')} but monitoring_type={q('monitoring_type')} (set it exactly when is_monitored)")
    if {"disability_grade", "health"} <= names:
        mask = ~np.isnan(col.num("disability_grade")) & col.valid("health") & (col.obj("health") != "disabled")
        add(mask, "disability_grade", lambda q, _: f"disability_grade: disability_grade={q('disability_grade')} "
            f"but health={q('health')} (a grade only when health is disabled/残疾)")
    if {"work_months", "work_location"} <= names:
        months = col.num("work_months")
        mask = ~np.isnan(months) & col.valid("work_location") & ((col.obj("work_location") == "none") != (months == 0))
        add(mask, "work_months", lambda q, _: f"work_months: work_months={q('work_months')} with work_location="
            f"{q('work_location')} (0 months exactly when work_location is none/未务工)")
    if t.name == "outcomes":
        _outcome_rules(typed, col, add)
    rows, rules, reasons = zip(*pieces) if pieces else ((), (), ())
    return pd.DataFrame({"row": np.asarray(rows, dtype="int64"), "rule": np.asarray(rules, dtype=object),
                         "reason": np.asarray(reasons, dtype=object)})


def _outcome_rules(typed: pd.DataFrame, col: _Columns, add: Callable) -> None:
    """The outcomes table's rules: which fields go with which outcome, and the order of its dates."""
    outcome = col.obj("outcome")
    known = col.valid("outcome")

    def given(name: str) -> np.ndarray:
        v = col.obj(name)
        return ~pd.isna(v) & (v != "")

    identified = known & (outcome == "identified")
    add(identified & ~given("risk_types"), "risk_types", lambda q, _: f"risk_types: outcome={q('outcome')} "
        "but risk_types is missing (give the identified risk types exactly when outcome is identified/认定为监测对象)")
    add(known & ~identified & given("risk_types"), "risk_types", lambda q, _: f"risk_types: outcome="
        f"{q('outcome')} but risk_types={q('risk_types')} (risk types only when outcome is identified/认定为监测对象)")
    add(known & (outcome != "not_identified") & given("override_reason"), "override_reason",
        lambda q, _: f"override_reason: outcome={q('outcome')} but override_reason={q('override_reason')} "
        "(a reason for not identifying only when outcome is not_identified/经核实不纳入)")
    with_measures = np.isin(outcome, list(OUTCOMES_WITH_MEASURES))
    for name in ("measures", "measures_date"):
        add(known & ~with_measures & given(name), name, lambda q, _, name=name: f"{name}: outcome={q('outcome')} "
            f"but {name}={q(name)} (measures only when outcome is identified or already_monitored)")
    visit = typed["visit_date"]
    for name in ("decision_date", "measures_date"):
        mask = (typed[name] < visit).fillna(False).to_numpy(dtype=bool)
        add(mask, f"date_order:{name}", lambda q, _, name=name: f"date_order: {name}={q(name)} is before "
            f"visit_date={q('visit_date')} (it must be on or after the visit)")
    mask = (typed["risk_eliminated_date"] <= typed["decision_date"]).fillna(False).to_numpy(dtype=bool)
    add(mask, "date_order:risk_eliminated_date", lambda q, _: f"date_order: risk_eliminated_date="
        f"{q('risk_eliminated_date')} is not after decision_date={q('decision_date')}")


def duplicate_reasons(t: Table, typed: pd.DataFrame, scope: str = "this file") -> pd.DataFrame:
    """Every row whose key appears more than once: all copies are rejected, none is guessed right.
    Tables with history (outcomes) may repeat a key: a later row replaces the earlier as the case moves on."""
    if t.history:
        return _stack([])
    key = list(t.key)
    complete = typed[key].notna().all(axis=1)
    keys = typed.loc[complete, key]
    dup = keys.duplicated(keep=False)
    if not dup.any():
        return _stack([])
    keys = keys[dup]
    text = keys[key[0]].astype(str)
    for k in key[1:]:
        text = text + ", " + keys[k].astype(str)
    counts = text.groupby(text).transform("size").astype(str)
    reason = (f"duplicate_key: ({', '.join(key)}) = (" + text + ") appears " + counts + f" times in {scope}")
    return _reasons(keys.index, "duplicate_key", reason)


# ------------------------------------------------------------------------------------------------- the entry

def table_of(table: str | Table) -> Table:
    if isinstance(table, Table):
        return table
    if table not in TABLES:
        raise ContractError(f"unknown table {table!r}; the contract has {', '.join(TABLES)}")
    return TABLES[table]


def join_reasons(reasons: pd.DataFrame) -> pd.DataFrame:
    """One row per rejected data row: its reasons and rule names joined with '; ' (in check order)."""
    r = reasons.sort_values("row", kind="stable")
    grouped = r.groupby("row", sort=True)
    return pd.DataFrame({"reason": grouped["reason"].agg("; ".join), "rule": grouped["rule"].agg("; ".join)})


def rejected_frame(text: pd.DataFrame, reasons: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rejected rows as read, with ``reason``, ``rule``, ``source_file`` and 1-based ``source_row``."""
    joined = join_reasons(reasons)
    out = text.loc[joined.index].copy()
    out["reason"] = joined["reason"]
    out["rule"] = joined["rule"]
    out["source_file"] = source
    out["source_row"] = (joined.index.to_numpy() + 1).astype("int64")
    return out


def validate_frame(table: str, raw: pd.DataFrame, *, source: str = "", offset: int = 0,
                   duplicates: bool = True) -> ValidationResult:
    """Validate the rows of one file (read as strings or typed) against the contract table ``table``.

    A file read in batches passes each batch with ``offset`` (its first row's 0-based position in the file, so
    rows keep their file numbers) and ``duplicates=False``: repeated keys across batches are found by the
    caller (``features.data.ingest``), over the whole file's keys."""
    t = table_of(table)
    where = source or f"{t.name} data"
    raw, dropped = drop_pii_columns(raw)
    raw = raw.set_axis(pd.RangeIndex(offset, offset + len(raw)))
    known, unknown = map_headers(t, raw, where)
    if len(known) == 0 and offset == 0:
        raise ContractError(f"{where}: no data rows (table {t.name})")
    missing = [c for c in t.required if c not in known.columns]
    if missing:
        named = ", ".join(f"{n} ({t.column(n).zh})" for n in missing)
        raise ContractError(f"{where}: missing required column(s) {named} for table {t.name}; "
                            f"headers may be the English name or the Chinese label")
    text = pseudonymise_ids(as_strings(known), [c for c in ID_PREFIX if c in known.columns], source=where)
    typed, unreadable = parse(t, text)
    full_text = text.reindex(columns=t.names, fill_value="")
    reasons = _stack([column_reasons(t, typed, full_text, unreadable), rule_reasons(t, typed, full_text),
                      duplicate_reasons(t, typed) if duplicates else _stack([])])
    bad = pd.Index(reasons["row"].unique())
    good = typed.index.difference(bad)
    return ValidationResult(accepted=typed.loc[good], rejected=rejected_frame(text, reasons, source),
                            unknown_columns=unknown, dropped_pii_columns=dropped,
                            accepted_raw=text.loc[good], typed_keys=None if duplicates else _arrow_keys(t, typed))


def _arrow_keys(t: Table, typed: pd.DataFrame) -> Any:
    """The key columns of every row (canonical Arrow types) with its file position ``_row``: what a caller
    reading a file in batches needs to find keys repeated across batches."""
    import pyarrow as pa

    from features.data.canonical import arrow_schema

    key = list(t.key)
    schema = pa.schema([arrow_schema(t).field(k) for k in key])
    keys = pa.Table.from_pandas(typed[key], schema=schema, preserve_index=False)
    return keys.append_column("_row", pa.array(typed.index.to_numpy(dtype="int64")))
