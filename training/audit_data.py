"""The rows an equity audit reads: the labelled households of one round, scored, with their groups.

Used by ``povwatch audit``, by ``train`` (its test round) and by the promotion gate (its round), so all three
audit the same thing: the round's eligible households at its as-of date, labelled by the next round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.audit import AuditError


def labelled_examples(warehouse_root: Path, round_id: str | None = None) -> tuple[pd.DataFrame, str]:
    """Indicators and labels of a round's eligible, labelled households (default: the newest labelled round)."""
    from features.data.chunks import examples_in_chunks
    from features.indicators.labels import round_as_of
    from features.data.warehouse import Warehouse

    wh = Warehouse(warehouse_root)
    rounds = round_as_of(wh)
    if not len(rounds):
        raise AuditError(f"warehouse {wh.root} has no households: run `povwatch ingest` first")
    if round_id is not None and round_id not in rounds.index:
        raise AuditError(f"round {round_id!r} is not in the warehouse; allowed: {', '.join(rounds.index)}")
    # newest first: usually only one or two builds before a labelled round
    for rid in ([round_id] if round_id is not None else reversed(list(rounds.index))):
        examples = examples_in_chunks(wh, [rounds[rid]])  # the whole-warehouse table, range by range
        rows = examples[(examples["round_id"] == rid) & examples["eligible"].eq(1)
                        & examples["falls_below_line"].notna()]
        if len(rows):
            return rows.reset_index(drop=True), rid
    if round_id is not None:
        raise AuditError(f"round {round_id!r} has no labelled households: its next round is not ingested yet")
    raise AuditError("no round has a next round yet: ingest at least two rounds before an audit")


def with_groups(rows: pd.DataFrame, risk: np.ndarray, high: np.ndarray, warehouse_root: Path) -> pd.DataFrame:
    """``fell, risk, high`` and every audit attribute per row (joined on the row's own record)."""
    from features.data.warehouse import Warehouse
    from training.audit_groups import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, household_groups

    wh = Warehouse(warehouse_root)
    rids = sorted(set(rows["round_id"].astype(str)))
    groups = household_groups(wh.households(rounds=rids, columns=list(HOUSEHOLD_COLUMNS)),
                              wh.members(rounds=rids, columns=list(MEMBER_COLUMNS)))
    keys = rows[["household_id", "round_id"]].astype({"household_id": str, "round_id": str})
    merged = keys.merge(groups.astype({"household_id": str, "round_id": str}), on=["household_id", "round_id"],
                        how="left", validate="one_to_one")
    out = merged.drop(columns=["household_id", "round_id"])
    out.insert(0, "fell", rows["falls_below_line"].to_numpy(float))
    out.insert(1, "risk", np.asarray(risk, float))
    out.insert(2, "high", np.asarray(high, bool))
    return out


def scored_rows(model, rows: pd.DataFrame, warehouse_root: Path) -> pd.DataFrame:
    """Score the rows with a RiskModel (risk and high tier) and attach the groups."""
    from models.tiers import assign

    risk = model.predict_proba(rows)
    return with_groups(rows, risk, assign(risk, model.tier_thresholds) == "high", warehouse_root)
