"""The case store: what worklists issued (``alerts``) and what the visits found (``outcomes``, with history).

Every write is one database transaction: a worklist is recorded whole or not at all, a batch of outcomes too;
a process killed mid-write leaves the store as it was before the write began (``tests/test_cases_store.py``
kills one). Writes are idempotent: an ``alert_id`` already recorded is not recorded again; an outcome row equal
to a state already stored for its alert is not stored again, so the same file or request twice changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from cases import migrate
from cases.db import database_url, ensure_parent, make_engine
from cases.models import Alert, Outcome
from features.data.contract import OUTCOMES

log = logging.getLogger(__name__)

WORKLIST_COLUMNS = ("alert_id", "household_id", "county", "village", "channel", "rank", "risk", "tier",
                    "reasons", "model_version", "as_of", "check_by", "decide_by", "audit_seed")
WORKLIST_REQUIRED = ("alert_id", "household_id", "channel", "as_of")
_DATES = ("as_of", "check_by", "decide_by")
OUTCOME_FIELDS = tuple(OUTCOMES.names)
_OUTCOME_DATES = tuple(c.name for c in OUTCOMES.columns if c.type == "date")
CHUNK = 5_000  # ids per IN (...) query and rows per INSERT batch: well inside SQLite's variable limit


class StoreError(ValueError):
    """A write the store refuses as a whole (missing columns, unusable values); nothing was written."""


@dataclass
class OutcomeWrite:
    """What one ``record_outcomes`` call did: rows stored, rows already known, rows refused with reasons
    (``row`` is the caller's index label)."""

    new: int = 0
    unchanged: int = 0
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "rule", "reason"]))


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _dates(s: pd.Series) -> list[date | None]:
    d = pd.to_datetime(s, errors="raise", format="mixed") if not pd.api.types.is_datetime64_any_dtype(s) else s
    return [None if pd.isna(v) else v.date() for v in d]


def _plain(s: pd.Series, kind: type) -> list:
    """Python values for the driver: NaN/NA/None -> None, numpy scalars -> int/float/str."""
    out = []
    for v in s.astype("object"):
        out.append(None if v is None or (not isinstance(v, str) and pd.isna(v)) else kind(v))
    return out


def _limits(model: type, names: Iterable[str]) -> dict[str, int]:
    """Column name -> maximum length, for the string columns of ``model`` among ``names``."""
    columns = model.__table__.c
    return {n: columns[n].type.length for n in names
            if n in columns and getattr(columns[n].type, "length", None)}


def outcome_digest(rows: pd.DataFrame) -> list[str]:
    """sha256 of each row's contract fields in canonical text (dates ``YYYY-MM-DD``, missing ``""``)."""
    parts = []
    for name in OUTCOME_FIELDS:
        s = rows[name] if name in rows else pd.Series("", index=rows.index)
        if name in _OUTCOME_DATES:
            s = pd.to_datetime(s).dt.strftime("%Y-%m-%d")
        parts.append(s.astype("object").where(s.notna(), "").astype(str))
    text = parts[0].str.cat(parts[1:], sep="\x1f")
    return [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in text]


class CaseStore:
    """One case database (SQLite file or PostgreSQL), migrated to the newest schema when opened."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> Connection:
        return self.engine.connect().execution_options(write=True)

    # ------------------------------------------------------------------------------------------ alerts
    def record_worklist(self, entries: pd.DataFrame) -> int:
        """Record worklist entries (columns ``WORKLIST_COLUMNS``; ``reasons`` as JSON text); returns how many
        alerts were new. Entries whose ``alert_id`` is already stored (or repeated in ``entries``) are skipped."""
        missing = [c for c in WORKLIST_REQUIRED if c not in entries.columns]
        if missing:
            raise StoreError(f"worklist entries lack column(s) {', '.join(missing)}; "
                             f"expected {', '.join(WORKLIST_COLUMNS)}")
        df = entries.reindex(columns=list(WORKLIST_COLUMNS))
        blank = [c for c in WORKLIST_REQUIRED if df[c].isna().any()]
        if blank:
            raise StoreError(f"worklist entries with an empty {', '.join(blank)}; every entry needs them")
        for name, limit in _limits(Alert, WORKLIST_COLUMNS).items():
            too_long = df[name].dropna().astype(str).str.len() > limit
            if too_long.any():
                raise StoreError(f"worklist entries: {name} longer than {limit} characters in "
                                 f"{int(too_long.sum())} entr(ies); nothing was recorded")
        df = df.drop_duplicates("alert_id", keep="first")
        values = {
            "alert_id": _plain(df["alert_id"], str), "household_id": _plain(df["household_id"], str),
            "county": _plain(df["county"], str), "village": _plain(df["village"], str),
            "channel": _plain(df["channel"], str), "rank": _plain(df["rank"], int), "risk": _plain(df["risk"], float),
            "tier": _plain(df["tier"], str), "reasons": _plain(df["reasons"], str),
            "model_version": _plain(df["model_version"], str), "audit_seed": _plain(df["audit_seed"], int),
        }
        try:
            for name in _DATES:
                values[name] = _dates(df[name])
        except (ValueError, TypeError) as e:
            raise StoreError(f"worklist entries: unreadable date ({e})") from e
        rows = [dict(zip(values, r)) for r in zip(*values.values())]
        with self._write() as conn, conn.begin():
            known = self._existing_alerts(conn, [r["alert_id"] for r in rows])
            new = [r for r in rows if r["alert_id"] not in known]
            for chunk in _chunks(new):
                conn.execute(insert(Alert), chunk)
        log.info("case store: %d new alert(s), %d already recorded", len(new), len(rows) - len(new))
        return len(new)

    @staticmethod
    def _existing_alerts(conn: Connection, ids: list[str]) -> dict[str, str]:
        """alert_id -> household_id of the given ids that are stored."""
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(ids))):
            out.update(conn.execute(select(Alert.alert_id, Alert.household_id)
                                    .where(Alert.alert_id.in_(chunk))).tuples().all())
        return out

    def alerts(self, *, since: date | None = None, village: str | None = None,
               channels: Iterable[str] | None = None) -> pd.DataFrame:
        """Issued alerts (one row each), optionally from ``since`` (as-of date) on, of one village or channels."""
        q = select(*[getattr(Alert, c) for c in WORKLIST_COLUMNS])
        if since is not None:
            q = q.where(Alert.as_of >= since)
        if village is not None:
            q = q.where(Alert.village == village)
        if channels is not None:
            q = q.where(Alert.channel.in_(list(channels)))
        with self.engine.connect() as conn:
            df = pd.read_sql(q.order_by(Alert.as_of, Alert.alert_id), conn)
        for name in _DATES:
            df[name] = pd.to_datetime(df[name])
        return df

    # ---------------------------------------------------------------------------------------- outcomes
    def record_outcomes(self, rows: pd.DataFrame, *, source: str | list[str],
                        all_or_nothing: bool = False) -> OutcomeWrite:
        """Store validated outcome rows (canonical contract form), in order: a later row of an alert becomes
        its current state. Rows for an alert never issued, or naming another household than the alert, are
        refused with the reason; with ``all_or_nothing`` any refusal writes nothing. ``source``: where the rows
        came from (one name, or one per row)."""
        result = OutcomeWrite()
        if rows.empty:
            return result
        digests = outcome_digest(rows)
        sources = [source] * len(rows) if isinstance(source, str) else list(source)
        with self._write() as conn, conn.begin():
            alerts = self._existing_alerts(conn, list(rows["alert_id"].astype(str)))
            refused = self._refusals(rows, alerts)
            result.rejected = refused
            if all_or_nothing and len(refused):
                conn.rollback()
                return result
            ok = ~rows.index.isin(refused["row"])
            ids = sorted(set(rows.loc[ok, "alert_id"].astype(str)))
            stored, next_seq = self._stored_states(conn, ids)
            values = self._outcome_values(rows.loc[ok])
            new_rows = []
            kept = zip(np.asarray(digests, dtype=object)[ok], values["alert_id"], np.asarray(sources, dtype=object)[ok])
            for i, (digest, alert_id, where) in enumerate(kept):
                if (alert_id, digest) in stored:
                    result.unchanged += 1
                    continue
                stored.add((alert_id, digest))
                next_seq[alert_id] = next_seq.get(alert_id, 0) + 1
                new_rows.append({**{k: v[i] for k, v in values.items()}, "seq": next_seq[alert_id],
                                 "digest": digest, "source": str(where)[:256]})
            for chunk in _chunks(new_rows):
                conn.execute(insert(Outcome), chunk)
            result.new = len(new_rows)
        log.info("case store: %d outcome row(s) stored, %d already known, %d refused",
                 result.new, result.unchanged, len(result.rejected))
        return result

    @staticmethod
    def _refusals(rows: pd.DataFrame, alerts: dict[str, str]) -> pd.DataFrame:
        """Rows the store cannot take: an alert never issued, another household than the alert's, a value
        longer than its column (PostgreSQL would refuse the whole transaction; SQLite would not check)."""
        long = []
        for name, limit in _limits(Outcome, OUTCOME_FIELDS).items():
            text = rows[name].astype("object").where(rows[name].notna(), "").astype(str)
            over = text.str.len() > limit
            long.append(pd.DataFrame({"row": rows.index[over], "rule": f"too_long:{name}",
                                      "reason": (f"too_long: {name} has " + text[over].str.len().astype(str)
                                                 + f" characters; at most {limit}").to_numpy()}))
        alert = rows["alert_id"].astype(str)
        expected = alert.map(alerts)
        unknown = expected.isna()
        other = ~unknown & (expected != rows["household_id"].astype(str))
        reasons = pd.concat([
            pd.DataFrame({"row": rows.index[unknown], "rule": "alert_exists",
                          "reason": ("alert_exists: alert_id='" + alert[unknown] + "' was never issued by a "
                                     "worklist recorded in the case store").to_numpy()}),
            pd.DataFrame({"row": rows.index[other], "rule": "alert_household",
                          "reason": ("alert_household: household_id='" + rows.loc[other, "household_id"].astype(str)
                                     + "' but alert " + alert[other] + " was issued for household '"
                                     + expected[other] + "'").to_numpy()}),
            *long,
        ], ignore_index=True)
        return reasons

    @staticmethod
    def _stored_states(conn: Connection, ids: list[str]) -> tuple[set[tuple[str, str]], dict[str, int]]:
        """(alert_id, digest) of every stored state of these alerts, and each alert's highest seq."""
        stored: set[tuple[str, str]] = set()
        top: dict[str, int] = {}
        for chunk in _chunks(ids):
            stored.update(conn.execute(select(Outcome.alert_id, Outcome.digest)
                                       .where(Outcome.alert_id.in_(chunk))).tuples().all())
            top.update(conn.execute(select(Outcome.alert_id, func.max(Outcome.seq))
                                    .where(Outcome.alert_id.in_(chunk)).group_by(Outcome.alert_id)).tuples().all())
        return stored, top

    @staticmethod
    def _outcome_values(rows: pd.DataFrame) -> dict[str, list]:
        """The contract fields as Python lists for the driver (dates as ``date``, empty lists as ``""``)."""
        out: dict[str, list] = {}
        for name in OUTCOME_FIELDS:
            if name in _OUTCOME_DATES:
                out[name] = _dates(rows[name])
            elif name in ("risk_types", "override_reason", "measures"):
                out[name] = [v or "" for v in _plain(rows[name], str)]
            else:
                out[name] = _plain(rows[name], str)
        return out

    def outcomes(self, *, current: bool = True) -> pd.DataFrame:
        """Outcome rows with ``seq``: only each alert's current state (default) or its whole history."""
        cols = [Outcome.alert_id, Outcome.seq, *[getattr(Outcome, c) for c in OUTCOME_FIELDS if c != "alert_id"],
                Outcome.source, Outcome.recorded_at]
        q = select(*cols)
        if current:
            top = (select(Outcome.alert_id.label("a"), func.max(Outcome.seq).label("s"))
                   .group_by(Outcome.alert_id).subquery())
            q = q.join(top, (Outcome.alert_id == top.c.a) & (Outcome.seq == top.c.s))
        with self.engine.connect() as conn:
            df = pd.read_sql(q.order_by(Outcome.alert_id, Outcome.seq), conn)
        for name in _OUTCOME_DATES:
            df[name] = pd.to_datetime(df[name])
        return df


def open_store(warehouse: Path | str, url: str | None = None, *, upgrade: bool = True) -> CaseStore:
    """The case store of ``warehouse`` (or at ``url``), its schema migrated to the newest revision."""
    url = url or database_url(warehouse)
    ensure_parent(url)
    engine = make_engine(url)
    if upgrade:
        migrate.upgrade(engine)
    return CaseStore(engine)
