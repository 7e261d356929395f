"""Load survey files into the warehouse: validate by the contract, apply the cross-table rules, upsert the
accepted rows, quarantine the rest with their reasons.

Policies (also in the README, section *ingest*):

* every file of the call is read and validated before anything is written; a file that cannot be read at
  all (encoding, no rows, missing required column, an id number without ``POVWATCH_ID_KEY``) stops the
  whole call with a ``ContractError`` and nothing is written;
* a household's round is stored whole or not at all: when its households row or any of its member rows in
  this call is rejected, or ``household_size`` differs from its number of member rows, the households row
  and all its member rows of this call go to quarantine, each with the reason;
* upsert: a households row replaces the stored row with its key; the member rows of a (household, round)
  in this call replace all stored member rows of that (household, round); events and monitoring lines
  replace rows with the same key. Unchanged files are not rewritten, so the same call twice changes no byte;
* every event keeps the date it first entered the warehouse (``ingested_on``: the call's ``ingest_date``,
  default today in UTC); a re-delivered event keeps its first date, so late arrivals can be told apart;
* the same key twice in one call (one file or several) rejects every copy: none is guessed right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.data.arrow_parquet import CanonicalRows, canonical_table, key_strings, read_canonical
from features.data.canonical import arrow_schema, cast, empty_frame, from_arrow
from features.data.contract import CASE_TABLES, TABLES, Table, table_for_file
from features.data.validate import REJECTED_EXTRA, ContractError, duplicate_reasons, table_of, validate_frame
from features.data.ingest_read import DEFAULT_BATCH_ROWS, file_digest, read_batches
from features.data.warehouse import INGESTED_ON, Warehouse

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet")
TABLE_ORDER = ("monitoring_lines", "households", "members", "events")  # members are checked against households
HOUSEHOLD_ROUND = ["household_id", "round_id"]


@dataclass(kw_only=True)
class IntakeCounts:
    """What an intake of files did to their rows: read, rejected (and why, and where they were kept), and the
    columns it did not take. Shared by survey tables and home-visit outcomes."""

    files: list[str] = field(default_factory=list)
    read: int = 0
    rejected: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    dropped_pii_columns: list[str] = field(default_factory=list)
    quarantine_files: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class TableSummary(IntakeCounts):
    """What happened to one table's rows in one ingest call."""

    table: str
    accepted: int = 0


@dataclass
class IngestSummary:
    """Per table counts and reasons; ``skipped_files`` are folder entries no table name matched."""

    tables: dict[str, TableSummary] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{table: {"read": n, "accepted": n, "rejected": n}}`` — the ``--json`` output."""
        return {name: {"read": s.read, "accepted": s.accepted, "rejected": s.rejected}
                for name, s in self.tables.items()}


# ------------------------------------------------------------------------------------------------ reading

def read_table_file(path: Path) -> tuple[pd.DataFrame, str]:
    """The rows of a CSV (UTF-8, BOM or not; all cells as text) or Parquet file, and the file's digest."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ContractError(f"{path}: cannot read the file ({e.strerror})") from e
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".parquet":
        try:
            return pd.read_parquet(io.BytesIO(data)), digest
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise ContractError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e
    if path.suffix.lower() != ".csv":
        raise ContractError(f"{path}: unsupported file type {path.suffix!r}; use .csv (UTF-8) or .parquet")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ContractError(
            f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save the file as "
            f"UTF-8 (with or without BOM) — GBK/GB18030 exports must be converted first") from e
    if not text.strip():
        raise ContractError(f"{path}: empty file (no header, no rows)")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise ContractError(f"{path}: not a readable CSV table ({e})") from e
    return df, digest


def resolve_table(name: str) -> Table:
    """A table by English name or Chinese name (``家庭成员表``)."""
    for t in TABLES.values():
        if name in (t.name, t.zh):
            return t
    return table_of(name)  # raises with the list of tables


def collect_files(paths: list[Path], table: str | None) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per table (folders searched recursively) and the folder entries no table claims."""
    forced = resolve_table(table) if table else None
    by_table: dict[str, list[Path]] = {}
    skipped: list[str] = []
    for given in paths:
        if not given.exists():
            raise ContractError(f"{given}: no such file or folder")
        explicit = given.is_file()
        files = [given] if explicit else sorted(
            p for p in given.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(given).parts))
        for f in files:
            t = forced or table_for_file(f.stem)
            if t is not None and t.name in CASE_TABLES and explicit:
                raise ContractError(f"{f}: {t.name} ({t.zh}) is case data, not a survey table; "
                                    f"load it with `povwatch {t.name} ingest`")
            if t is None or t.name in CASE_TABLES:  # case data in a folder (simulated visits): left to its command
                if explicit:
                    raise ContractError(
                        f"{f}: cannot tell its table from the file name; name it after a table "
                        f"({', '.join(TABLES)}, or the Chinese table names) or pass --table")
                skipped.append(str(f))
                continue
            by_table.setdefault(t.name, []).append(f)
    return by_table, skipped


# ------------------------------------------------------------------------------------------------ a batch

RULE_COLUMNS = ("household_id", "round_id", "survey_date", "household_size")  # what the cross-table rules read


@dataclass
class _Batch:
    """One table's rows of this call. The accepted rows live in Arrow (``rows``: canonical, with ``_file``
    and ``_pos``; ``raw``: their text as read, same order), compact next to pandas objects; ``accepted`` holds
    only the columns the cross-table rules read, of the rows still accepted, indexed by position in ``rows``.
    Rejected rows (as read) are pandas frames: they are few, and quarantine writes them."""

    table: Table
    sources: list[str]
    digests: list[str]
    rows: pa.Table
    raw: pa.Table
    accepted: pd.DataFrame
    rejected: list[pd.DataFrame]
    read: int

    def reject(self, mask: pd.Series, reason: pd.Series | str, rule: str) -> None:
        """Move the accepted rows under ``mask`` to the rejected rows with ``reason``."""
        mask = mask.reindex(self.accepted.index, fill_value=False).astype(bool)
        if not mask.any():
            return
        where = self.accepted.index[mask.to_numpy()].to_numpy()
        out = _as_read(self.raw.take(where))
        out["reason"] = (reason.reindex(mask.index[mask.to_numpy()]).to_numpy() if isinstance(reason, pd.Series)
                         else reason)
        out["rule"] = rule
        files = self.rows.column("_file").take(where).to_numpy()
        out["source_file"] = [self.sources[i] for i in files]
        out["source_row"] = (self.rows.column("_pos").take(where).to_numpy() + 1).astype("int64")
        out["_file"] = files
        self.rejected.append(out)
        self.accepted = self.accepted.loc[~mask]

    def accepted_frame(self) -> pd.DataFrame:
        """Every column of the rows still accepted, canonical (for writing)."""
        return from_arrow(self.table, self.accepted_rows())

    def accepted_rows(self) -> pa.Table:
        """The rows still accepted in Arrow, text dictionary-encoded (for writing without a pandas frame)."""
        return self.rows.take(self.accepted.index.to_numpy()).select(self.table.names)

    def rejected_frame(self) -> pd.DataFrame:
        frames = [f for f in self.rejected if len(f)]
        if not frames:
            return pd.DataFrame(columns=[*self.table.names, *REJECTED_EXTRA, "_file"])
        return pd.concat(frames, ignore_index=True)


def _as_read(raw: pa.Table) -> pd.DataFrame:
    """Rows of text as read; a column some file of the call lacks is empty text in the others' rows."""
    return pd.DataFrame({n: pd.Series(raw.column(n).to_pylist(), dtype=object).fillna("") for n in raw.column_names})


@dataclass
class _FileRows:
    """One file's rows after validation, batch by batch: accepted in Arrow, rejected as read, keys of all."""

    accepted: list[pa.Table] = field(default_factory=list)
    raw: list[pa.Table] = field(default_factory=list)
    rejected: list[pd.DataFrame] = field(default_factory=list)
    keys: list[pa.Table] = field(default_factory=list)


def _validate_file(t: Table, f: Path, i: int, summary: TableSummary, batch_rows: int) -> _FileRows:
    """Validate ``f`` a batch at a time; its repeated keys (across batches too) reject every copy, as a
    whole-file validation does."""
    out = _FileRows()
    schema = arrow_schema(t)
    key = list(t.key)
    offset = 0
    for frame in read_batches(f, batch_rows):
        r = validate_frame(t.name, frame, source=str(f), offset=offset, duplicates=False)
        n = len(frame)
        del frame
        summary.read += n
        summary.unknown_columns += [c for c in r.unknown_columns if c not in summary.unknown_columns]
        summary.dropped_pii_columns += [c for c in r.dropped_pii_columns if c not in summary.dropped_pii_columns]
        pos = pa.array(r.accepted.index.to_numpy(dtype="int64"))
        out.accepted.append(_compact(pa.Table.from_pandas(r.accepted[t.names], schema=schema, preserve_index=False))
                            .append_column("_file", pa.array(np.full(len(pos), i, dtype="int64")))
                            .append_column("_pos", pos))
        out.raw.append(_compact(pa.Table.from_pandas(r.accepted_raw, preserve_index=False)))
        out.rejected.append(r.rejected)
        if not t.history:
            out.keys.append(_compact(r.typed_keys))
        offset += n
    _reject_duplicates(t, out, str(f), key)
    return out


def _compact(table: pa.Table) -> pa.Table:
    """Text columns dictionary-encoded: ids repeat per member, enums and rounds per row."""
    return pa.table({n: pc.dictionary_encode(c) if pa.types.is_string(c.type) else c
                     for n, c in zip(table.column_names, table.columns)})


def _duplicates(t: Table, keys: pa.Table, scope: str) -> pd.DataFrame:
    """``duplicate_reasons`` over Arrow keys (key columns and ``_row``): only the rows of repeated keys are
    turned into pandas."""
    key = list(t.key)
    # grouped on dictionary codes, not text: a round's member keys are millions of strings, and a hash table of
    # them was the largest thing ingest held
    keys = keys.unify_dictionaries().combine_chunks()
    if t.history or keys.num_rows == 0:
        return duplicate_reasons(t, pd.DataFrame(columns=key))
    complete = np.logical_and.reduce([pc.is_valid(keys.column(k)).to_numpy(zero_copy_only=False) for k in key])
    keys = keys.filter(pa.array(complete))
    counts = keys.group_by(key).aggregate([("_row", "count")])
    repeated = counts.filter(pc.greater(counts.column("_row_count"), 1)).select(key)
    if repeated.num_rows == 0:
        return duplicate_reasons(t, pd.DataFrame(columns=key))
    hit = keys.join(repeated, keys=key, join_type="inner").sort_by("_row")
    frame = from_arrow(t, hit.select(key), columns=key).set_axis(pd.Index(hit.column("_row").to_numpy()))
    return duplicate_reasons(t, frame, scope=scope)


def _reject_duplicates(t: Table, rows: _FileRows, source: str, key: list[str]) -> None:
    """Repeated keys within one file: accepted copies become rejected, rejected ones get the reason too."""
    if t.history or not rows.keys:
        return
    keys = pa.concat_tables(rows.keys)
    rows.keys = []
    dup = _duplicates(t, keys, "this file")
    if dup.empty:
        return
    reason = pd.Series(dup["reason"].to_numpy(), index=dup["row"].to_numpy())
    fixed = []
    for frame in rows.rejected:
        frame = frame.copy()
        again = (frame["source_row"] - 1).isin(reason.index).to_numpy()
        if again.any():
            extra = reason.reindex(frame.loc[again, "source_row"] - 1).to_numpy()
            frame.loc[again, "reason"] = frame.loc[again, "reason"] + "; " + extra
            frame.loc[again, "rule"] = frame.loc[again, "rule"] + "; duplicate_key"
        fixed.append(frame)
    for b, (acc, raw) in enumerate(zip(rows.accepted, rows.raw)):
        hit = pc.is_in(acc.column("_pos"), value_set=pa.array(reason.index.to_numpy(dtype="int64"))).to_numpy(
            zero_copy_only=False)
        if not hit.any():
            continue
        out = _as_read(raw.filter(pa.array(hit)))
        pos = acc.column("_pos").filter(pa.array(hit)).to_numpy()
        out = out.set_axis(pd.Index(pos))
        out["reason"] = reason.reindex(pos).to_numpy()
        out["rule"] = "duplicate_key"
        out["source_file"] = source
        out["source_row"] = (pos + 1).astype("int64")
        fixed.append(out)
        rows.accepted[b], rows.raw[b] = acc.filter(pa.array(~hit)), raw.filter(pa.array(~hit))
    frames = [f for f in fixed if len(f)]
    merged = pd.concat(frames) if frames else fixed[0]
    rows.rejected = [merged.sort_values("source_row", kind="stable")]


def _batch(t: Table, files: list[Path], batch_rows: int = DEFAULT_BATCH_ROWS) -> tuple[_Batch, TableSummary]:
    summary = TableSummary(table=t.name, files=[str(f) for f in files])
    digests, accepted, raw, rejected = [], [], [], []
    for i, f in enumerate(files):
        digests.append(file_digest(f))
        rows = _validate_file(t, f, i, summary, batch_rows)
        accepted += rows.accepted
        raw += rows.raw
        rejected += [r.assign(_file=i) for r in rows.rejected]
    table = pa.concat_tables(accepted)
    text = pa.concat_tables(raw, promote_options="default") if raw else pa.table({})
    names = [c for c in RULE_COLUMNS if c in t.names]
    keys = from_arrow(t, table.select(names), columns=names) if names else pd.DataFrame(index=pd.RangeIndex(len(table)))
    batch = _Batch(t, [str(f) for f in files], digests, table, text, keys, rejected, summary.read)
    if len(files) > 1 and not t.history:
        dup = _duplicates(t, table.select(list(t.key)).append_column("_row", pa.array(np.arange(len(table)))),
                          "this ingest (several files)")
        if len(dup):
            batch.reject(pd.Series(True, index=dup["row"].to_numpy()),
                         pd.Series(dup["reason"].to_numpy(), index=dup["row"].to_numpy()), "duplicate_key")
    return batch, summary


# -------------------------------------------------------------------------------------- cross-table rules

def _keys(df: pd.DataFrame, cols: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(df[cols].astype(str))


def _key_text(df: pd.DataFrame) -> pd.Series:
    return "household_id=" + df["household_id"].astype(str) + ", round_id=" + df["round_id"].astype(str)


def check_survey_order(hb: _Batch, wh: Warehouse) -> None:
    """A round's survey_date must be after the household's previous round (warehouse + this call).

    Rounds are ordered by their median survey date; the batch row of a violating pair is rejected. Worked on
    integer codes (household, round rank, date in ns), a stored round at a time: the warehouse's rounds are
    millions of rows, and only the batch's households' rows are kept; text is written for violations only.
    """
    batch = hb.accepted
    if batch.empty:
        return
    ids, id_values = pd.factorize(batch["household_id"].astype(str), sort=True)  # codes in text order
    batch_rounds = batch["round_id"].astype(str).to_numpy()
    batch_days = _ns(batch["survey_date"])
    id_set = pa.array(np.asarray(id_values, dtype=object), type=pa.string())
    names = list(pd.unique(batch_rounds))  # round i of the codes below is names[i]
    dates_of: dict[str, list[np.ndarray]] = {r: [batch_days[batch_rounds == r]] for r in names}
    codes, rounds, dates, rows = [ids], [pd.Index(names).get_indexer(batch_rounds)], [batch_days], \
        [batch.index.to_numpy(dtype="int64")]
    for rid, table in wh.stored_rounds("households", ["household_id", "survey_date"]):
        code = pc.index_in(table.column("household_id"), value_set=id_set).to_numpy(zero_copy_only=False)
        day = _ns(table.column("survey_date").to_pandas())
        in_batch = ~np.isnan(code)
        replaced = np.zeros(len(code), dtype=bool)
        same_round = batch_rounds == rid
        if same_round.any():  # stored rows of this round that the batch replaces drop out
            replaced[in_batch] = np.isin(code[in_batch].astype("int64"), ids[same_round])
        if rid not in dates_of:
            names.append(rid)
        dates_of.setdefault(rid, []).append(day[~replaced])
        keep = in_batch & ~replaced
        codes.append(code[keep].astype("int64"))
        rounds.append(np.full(int(keep.sum()), names.index(rid), dtype="int64"))
        dates.append(day[keep])
        rows.append(np.full(int(keep.sum()), -1, dtype="int64"))
        del table, code, day
    median = pd.DataFrame({"round_id": names, "survey_date": [_median(dates_of[r]) for r in names]})
    rank_of_round = np.empty(len(names), dtype="int64")
    rank_of_round[median.sort_values(["survey_date", "round_id"]).index.to_numpy()] = np.arange(len(names))
    code, day, row = np.concatenate(codes), np.concatenate(dates), np.concatenate(rows)
    rnd = np.concatenate(rounds)
    sort = np.lexsort((rank_of_round[rnd], code))
    code, day, row, rnd = code[sort], day[sort], row[sort], rnd[sort]
    same = np.r_[False, code[1:] == code[:-1]] & (day != NAT) & (np.r_[NAT, day[:-1]] != NAT)
    bad = np.flatnonzero(same)
    bad = bad[day[bad] <= day[bad - 1]]
    if not len(bad):
        return
    prev = bad - 1
    when = pd.to_datetime(day[bad]).strftime("%Y-%m-%d")
    before = pd.to_datetime(day[prev]).strftime("%Y-%m-%d")
    name = np.asarray(names, dtype=object)
    text = pd.Series([f"survey_date_order: survey_date={w} of round {r} is not after {b} of household {h}'s "
                      f"previous round {p}" for w, r, b, h, p in
                      zip(when, name[rnd[bad]], before, np.asarray(id_values)[code[bad]], name[rnd[prev]])])
    in_batch = row[bad] >= 0  # the later row came in this call: reject it
    idx = row[bad][in_batch]
    hb.reject(pd.Series(True, index=idx), pd.Series(text[in_batch].to_numpy(), index=idx), "survey_date_order")
    earlier = ~in_batch & (row[prev] >= 0)  # a back-filled earlier round dated after a stored later one
    idx = row[prev][earlier]
    hb.reject(pd.Series(True, index=idx), pd.Series(text[earlier].to_numpy(), index=idx), "survey_date_order")


NAT = np.iinfo("int64").min  # NaT as int64 nanoseconds


def _ns(dates: pd.Series) -> np.ndarray:
    """Dates as int64 nanoseconds (NaT: ``NAT``)."""
    return pd.to_datetime(dates).to_numpy(dtype="datetime64[ns]").view("int64")


def _median(parts: list[np.ndarray]) -> float:
    """Median date (ns) of a round's rows, NaT left out as pandas does; NaN for a round without dates."""
    days = np.concatenate(parts)
    days = days[days != NAT]
    return float(np.median(days)) if len(days) else float("nan")


def _rejected_keys(batch: _Batch | None) -> pd.MultiIndex:
    """(household_id, round_id) of the rows of this call already rejected (as read)."""
    rej = batch.rejected_frame() if batch is not None else pd.DataFrame()
    if rej.empty or not set(HOUSEHOLD_ROUND) <= set(rej.columns):
        return pd.MultiIndex.from_arrays([[], []], names=HOUSEHOLD_ROUND)
    rej = rej[(rej["household_id"].fillna("") != "") & (rej["round_id"].fillna("") != "")]
    return _keys(rej, HOUSEHOLD_ROUND).unique()


def check_household_rounds(hb: _Batch | None, mb: _Batch, wh: Warehouse) -> None:
    """Members need a households row; a household's round (row + members) is stored whole or not at all;
    household_size equals the number of member rows."""
    members = mb.accepted
    rounds = sorted(set(members["round_id"]) | (set(hb.accepted["round_id"]) if hb is not None else set()))
    stored = wh.households(rounds=rounds, columns=["household_id", "round_id", "household_size"])
    batch_hh = hb.accepted[["household_id", "round_id", "household_size"]] if hb is not None else stored.iloc[:0]
    hh_rejected = _rejected_keys(hb)
    both = pd.concat([stored, batch_hh], ignore_index=True)
    size = pd.Series(both["household_size"].to_numpy(), index=_keys(both, HOUSEHOLD_ROUND))
    size = size[~size.index.duplicated(keep="last")]  # the row of this call wins over the stored one

    m_rej = mb.rejected_frame()
    m_rej_keys = _keys(m_rej, HOUSEHOLD_ROUND) if len(m_rej) and "round_id" in m_rej else _rejected_keys(None)
    mk = _keys(members, HOUSEHOLD_ROUND)
    n_rows = pd.Series(1, index=mk).groupby(level=[0, 1]).size()
    n_rows = n_rows.add(pd.Series(1, index=m_rej_keys).groupby(level=[0, 1]).size() if len(m_rej_keys) else 0,
                        fill_value=0)
    n_bad = pd.Series(1, index=m_rej_keys).groupby(level=[0, 1]).size() if len(m_rej_keys) else pd.Series(dtype="int64")

    # 1. no households row anywhere (reasons are written for the rejected rows only: a round has millions)
    known = mk.isin(size.index)
    was_rejected = pd.Series(mk.isin(hh_rejected), index=members.index)
    orphan = pd.Series(~known, index=members.index) & ~was_rejected
    del mk, known
    mb.reject(orphan, "household_exists: no households row for " + _key_text(members[orphan])
              + " in this ingest or the warehouse", "household_exists")
    mb.reject(was_rejected, "household_rejected: the households row of " + _key_text(members[was_rejected])
              + " in this ingest was rejected (see quarantine/households); a household's round is stored whole "
              "or not at all", "household_rejected")
    # 2. some member rows of the household's round rejected -> the rest of the round too
    reasons = _round_reasons(size, n_rows, n_bad)
    for rule, bad_rounds in reasons.items():
        for batch in (mb, hb) if hb is not None else (mb,):
            keys = _keys(batch.accepted, HOUSEHOLD_ROUND)
            hit = keys.isin(bad_rounds.index)
            where = batch.accepted.index[hit]
            batch.reject(pd.Series(True, index=where), pd.Series(bad_rounds.reindex(keys[hit]).to_numpy(), index=where),
                         rule)


def _round_reasons(size: pd.Series, n_rows: pd.Series, n_bad: pd.Series) -> dict[str, pd.Series]:
    """(household, round) -> reason, for incomplete rounds and size mismatches among rounds with members."""
    def label(idx: pd.MultiIndex) -> pd.Series:
        return pd.Series("household_id=" + idx.get_level_values(0) + ", round_id=" + idx.get_level_values(1),
                         index=idx)
    out = {}
    if len(n_bad):
        lab = label(n_bad.index)
        out["household_incomplete"] = ("household_incomplete: " + n_bad.astype(str) + " member row(s) of "
                                       + lab + " were rejected; a household's round is stored whole or not at all")
    common = n_rows.index.intersection(size.index)
    mismatch = common[(size.reindex(common).astype("int64") != n_rows.reindex(common).astype("int64")).to_numpy()]
    mismatch = mismatch.difference(n_bad.index) if len(n_bad) else mismatch
    if len(mismatch):
        out["household_size"] = ("household_size: household_size=" + size.reindex(mismatch).astype(str)
                                 + " but this ingest has " + n_rows.reindex(mismatch).astype("int64").astype(str)
                                 + " member rows for " + label(mismatch))
    return out


def check_size_against_stored_members(hb: _Batch, mb: _Batch | None, wh: Warehouse) -> None:
    """A households row whose members are not in this call is checked against the stored members."""
    batch = hb.accepted
    if batch.empty:
        return
    stored = wh.members(rounds=sorted(set(batch["round_id"])), columns=["household_id", "round_id"])
    if stored.empty:
        return
    count = pd.Series(1, index=_keys(stored, HOUSEHOLD_ROUND)).groupby(level=[0, 1]).size()
    hk = _keys(batch, HOUSEHOLD_ROUND)
    in_call = _keys(mb.accepted, HOUSEHOLD_ROUND).union(_rejected_keys(mb)) if mb is not None else hk[:0]
    n = pd.Series(count.reindex(hk).to_numpy(), index=batch.index)
    bad = n.notna() & ~pd.Series(hk.isin(in_call), index=batch.index) & (n != batch["household_size"].astype("float64"))
    if not bad.any():
        return
    rows, n = batch[bad], n[bad]
    hb.reject(bad, "household_size: household_size=" + rows["household_size"].astype(str) + " but the warehouse "
              "holds " + n.astype("Int64").astype(str) + " member rows for " + _key_text(rows), "household_size")


# ------------------------------------------------------------------------------------------------ writing

def _upsert(wh: Warehouse, t: Table, new: pd.DataFrame, path: Path, replace_by: list[str]) -> pd.DataFrame | None:
    """Stored rows of ``path`` whose ``replace_by`` values are not in ``new``, plus ``new``, sorted by key;
    None when that equals what is stored."""
    stored = wh.read_file(t.name, path)
    keep = stored[~_keys(stored, replace_by).isin(_keys(new, replace_by))]
    out = pd.concat([keep, new[t.names]], ignore_index=True) if len(keep) else new[t.names]
    out = cast(t, out.sort_values(list(t.key), kind="stable").reset_index(drop=True))[t.names]
    return None if stored.equals(out) else out


def _upsert_events(new: pd.DataFrame, path: Path, day: dt.date) -> pd.DataFrame | None:
    """Like ``_upsert``, keeping each event's ``ingested_on``: the stored date for an event already stored
    (unknown, in a warehouse written before it was recorded, stays unknown), ``day`` for a new one."""
    t = TABLES["events"]
    key = list(t.key)
    raw = pd.read_parquet(path) if path.is_file() else None
    stored = cast(t, raw) if raw is not None else empty_frame("events")
    first = (pd.to_datetime(raw[INGESTED_ON]) if raw is not None and INGESTED_ON in raw
             else pd.Series(pd.NaT, index=stored.index)).astype("datetime64[ns]")
    known = pd.Series(first.to_numpy(), index=_keys(stored, key))
    new_keys = _keys(new, key)
    again = new_keys.isin(known.index)
    on = pd.Series(pd.Timestamp(day), index=new.index, dtype="datetime64[ns]")
    on[again] = known.reindex(new_keys[again]).to_numpy()
    keep = ~_keys(stored, key).isin(new_keys)
    out = pd.concat([stored[keep].assign(**{INGESTED_ON: first[keep]}), new[t.names].assign(**{INGESTED_ON: on})],
                    ignore_index=True).sort_values(key, kind="stable").reset_index(drop=True)
    out = cast(t, out).assign(**{INGESTED_ON: out[INGESTED_ON].astype("datetime64[ns]")})
    if raw is not None and INGESTED_ON in raw and stored.equals(out[t.names]) and first.equals(out[INGESTED_ON]):
        return None
    return out


def _upsert_rows(t: Table, new: pa.Table, path: Path, replace_by: list[str]) -> CanonicalRows | None:
    """``_upsert`` in Arrow (the round partitions: households, members): stored rows of ``path`` whose
    ``replace_by`` values are not in ``new``, plus ``new``, sorted by key; None when that equals what is
    stored. The key is unique in the result, so the order is the one ``_upsert``'s stable sort gives."""
    stored = read_canonical(t, path)
    out = new
    if stored is not None and stored.num_rows:
        given = key_strings(new, replace_by).group_by(replace_by).aggregate([])
        index = key_strings(stored, replace_by).append_column("_i", pa.array(np.arange(stored.num_rows)))
        kept = index.join(given, keys=replace_by, join_type="left anti").column("_i")
        out = pa.concat_tables([stored.take(pc.take(kept, pc.sort_indices(kept))), canonical_table(t, new)])
    key = list(t.key)
    out = out.take(pc.sort_indices(key_strings(out, key), sort_keys=[(k, "ascending") for k in key]))
    if stored is not None and canonical_table(t, out).equals(stored):
        return None
    return CanonicalRows(t, out)


def planned_writes(wh: Warehouse, batch: _Batch,
                   ingest_date: dt.date | None = None) -> Iterator[tuple[Path, pd.DataFrame | CanonicalRows]]:
    """The files this batch changes, with their new content (events stamped with ``ingest_date``), one at a
    time: the caller stages each before the next is built. A round partition (households, members: the
    largest files) is built and written from Arrow, never as a pandas frame."""
    t = batch.table
    if len(batch.accepted) == 0:
        return
    if t.name in ("households", "members"):
        yield from _round_writes(wh, batch)
        return
    df = batch.accepted_frame()
    if t.name == "monitoring_lines":
        groups = [(wh.lines_path(), df, list(t.key))]
    else:
        year = df["event_date"].dt.year
        groups = [(wh.partition_path("events", "year", y), g, list(t.key)) for y, g in df.groupby(year)]
    del df
    day = ingest_date or dt.datetime.now(dt.timezone.utc).date()
    while groups:
        path, rows, replace_by = groups.pop(0)
        content = (_upsert_events(rows, path, day) if t.name == "events"
                   else _upsert(wh, t, rows, path, replace_by))
        del rows
        if content is not None:
            yield path, content
        del content  # before the next group is built


def _round_writes(wh: Warehouse, batch: _Batch) -> Iterator[tuple[Path, CanonicalRows]]:
    """One partition per round of the batch, in round order; a delivery is usually one round, whose rows are
    the partition's as they are (no copy per round)."""
    t = batch.table
    replace_by = list(t.key) if t.name == "households" else HOUSEHOLD_ROUND
    rows = batch.accepted_rows()
    round_of = key_strings(rows, ["round_id"]).column("round_id")
    rounds = sorted(pc.unique(round_of).to_pylist())
    for r in rounds:
        part = rows if len(rounds) == 1 else rows.filter(pc.equal(round_of, r))
        path = wh.partition_path(t.name, "round_id", r)
        content = _upsert_rows(t, part, path, replace_by)
        del part
        if content is not None:
            yield path, content
        del content


def _safe_stem(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", Path(name).stem)[:80] or "file"


def quarantine_writes(wh: Warehouse, batch: _Batch) -> tuple[dict[Path, pd.DataFrame], list[str]]:
    """One quarantine file per source file with rejected rows, named by the source's content digest."""
    rej = batch.rejected_frame()
    out, names = {}, []
    for i, rows in rej.groupby("_file"):
        i = int(i)
        frame = rows.reindex(columns=[*batch.table.names, *REJECTED_EXTRA])
        for col in batch.table.names:
            frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
        frame = frame.sort_values("source_row", kind="stable").reset_index(drop=True)
        frame["source_row"] = frame["source_row"].astype("int64")
        path = wh.quarantine_dir(batch.table.name) / f"{_safe_stem(batch.sources[i])}-{batch.digests[i][:12]}.parquet"
        names.append(str(path))
        if not (path.is_file() and pd.read_parquet(path).astype("object").equals(frame.astype("object"))):
            out[path] = frame
    return out, names


def _finish_summary(summary: TableSummary, batch: _Batch) -> None:
    rej = batch.rejected_frame()
    summary.accepted, summary.rejected = len(batch.accepted), len(rej)
    if summary.accepted + summary.rejected != summary.read:  # nothing may vanish
        raise RuntimeError(f"{batch.table.name}: read {summary.read} rows but accounted for "
                           f"{summary.accepted + summary.rejected}")
    if len(rej):
        counts = rej["rule"].str.split("; ").explode().value_counts()
        summary.top_reasons = [(str(k), int(v)) for k, v in counts.head(5).items()]


# ------------------------------------------------------------------------------------------------ the entry

def ingest(paths: list[Path], warehouse: Warehouse, table: str | None = None,
           ingest_date: dt.date | None = None, batch_rows: int = DEFAULT_BATCH_ROWS) -> IngestSummary:
    """Validate and load files or folders into ``warehouse``; see the module docstring for the policies. Holds
    the warehouse's writer lock throughout: a second ingest into the same warehouse waits for this one.
    ``ingest_date`` (default: today, UTC) is recorded with each new event: set it when back-filling or
    replaying deliveries. Files are read ``batch_rows`` rows at a time (the result does not depend on it)."""
    with warehouse.lock():
        return _ingest(paths, warehouse, table, ingest_date, batch_rows)


def _ingest(paths: list[Path], warehouse: Warehouse, table: str | None,
            ingest_date: dt.date | None = None, batch_rows: int = DEFAULT_BATCH_ROWS) -> IngestSummary:
    by_table, skipped = collect_files([Path(p) for p in paths], table)
    if not by_table:
        raise ContractError(f"no table files found in {', '.join(map(str, paths))} (expected .csv or .parquet "
                            f"named after a table: {', '.join(TABLES)})")
    batches: dict[str, _Batch] = {}
    summary = IngestSummary(skipped_files=skipped)
    for name in TABLE_ORDER:
        if name in by_table:
            batches[name], summary.tables[name] = _batch(TABLES[name], by_table[name], batch_rows)
    hb, mb = batches.get("households"), batches.get("members")
    if hb is not None:
        check_survey_order(hb, warehouse)
    if mb is not None:
        check_household_rounds(hb, mb, warehouse)
    if hb is not None:
        check_size_against_stored_members(hb, mb, warehouse)
    del hb, mb  # the loop below drops each table's batch once its files are staged
    # each file is staged (written hidden) as soon as it is built and its frame dropped; all become visible
    # together at the end, or none if anything fails
    with warehouse.staged() as staged:
        for name in list(batches):
            batch = batches.pop(name)
            for path, content in planned_writes(warehouse, batch, ingest_date):
                staged.add(path, content)
                del content
            quarantine, summary.tables[name].quarantine_files = quarantine_writes(warehouse, batch)
            for path, content in quarantine.items():
                staged.add(path, content)
            _finish_summary(summary.tables[name], batch)
            del batch, quarantine
    for name, s in summary.tables.items():
        log.info("ingest %s: read %d, accepted %d, rejected %d", name, s.read, s.accepted, s.rejected)
    return summary
