"""The case store's tables (SQLAlchemy 2 declarative). Their history is in ``cases/migrations``: a change
here needs a new migration (``tests/test_cases_store.py`` checks that the migrated schema matches these models).

* ``alerts``: every worklist entry ever issued, keyed by ``alert_id`` (issuing the same list again adds none);
* ``outcomes``: the contract's ``outcomes`` rows, one per state of a case. ``seq`` orders the states of an
  alert: the highest is the current state, the earlier ones are kept as history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = 64        # ids: household/alert ids, pseudonyms (h_ + 20 hex), verifier numbers
NAME = 128     # county/village names, model versions
CODES = 256    # enum codes joined by ';'


class Base(DeclarativeBase):
    pass


class Alert(Base):
    """One entry of an issued worklist: who should be visited, why, by when."""

    __tablename__ = "alerts"

    alert_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(ID), index=True)
    county: Mapped[str | None] = mapped_column(String(NAME))
    village: Mapped[str | None] = mapped_column(String(NAME), index=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    risk: Mapped[float | None] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[str | None] = mapped_column(Text, doc="JSON: the reasons and measures as issued")
    model_version: Mapped[str | None] = mapped_column(String(NAME))
    as_of: Mapped[date] = mapped_column(Date, index=True)
    check_by: Mapped[date | None] = mapped_column(Date)
    decide_by: Mapped[date | None] = mapped_column(Date)
    audit_seed: Mapped[int | None] = mapped_column(Integer, doc="seed of the random audit sample (audit channel)")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Outcome(Base):
    """One state of a case: what the visit found and what followed (contract table ``outcomes``)."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("alert_id", "seq", name="uq_outcomes_alert_seq"),
                      Index("ix_outcomes_alert_digest", "alert_id", "digest"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(ID), ForeignKey("alerts.alert_id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer, doc="1, 2, ... per alert in arrival order; the highest is current")
    household_id: Mapped[str] = mapped_column(String(ID))
    visit_date: Mapped[date] = mapped_column(Date)
    verifier_id: Mapped[str] = mapped_column(String(ID), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    risk_types: Mapped[str] = mapped_column(String(CODES), default="")
    override_reason: Mapped[str] = mapped_column(String(CODES), default="")
    decision_date: Mapped[date | None] = mapped_column(Date)
    measures: Mapped[str] = mapped_column(String(CODES), default="")
    measures_date: Mapped[date | None] = mapped_column(Date)
    risk_eliminated_date: Mapped[date | None] = mapped_column(Date)
    digest: Mapped[str] = mapped_column(String(64), doc="sha256 of the row's contract fields: re-sent rows are known")
    source: Mapped[str | None] = mapped_column(String(NAME * 2), doc="file name, or 'api'")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
