"""The rows an equity audit reads: the labelled households of one round, scored, with their groups.

Used by ``povwatch audit``, by ``train`` (its test round) and by the promotion gate (its round), so all three
audit the same thing: the round's eligible households at its as-of date, labelled by the next round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.audit import AuditError


def scored_frames(warehouse_root: Path, models: dict,
                  round_id: str | None = None) -> tuple[dict[str, pd.DataFrame], str]:
    """Each model's audit frame (``fell, risk, high`` and the groups) on the same rows: a round's eligible,
    labelled households (default: the newest labelled round), built and scored one household-id range at a
    time, so only the labels and the scores of the whole round are held."""
    from features.data.warehouse import Warehouse
    from features.indicators.labels import round_as_of
    from models.tiers import assign
    from training.round_scores import labelled_round_scores

    wh = Warehouse(warehouse_root)
    rounds = round_as_of(wh)
    if not len(rounds):
        raise AuditError(f"warehouse {wh.root} has no households: run `povwatch ingest` first")
    if round_id is not None and round_id not in rounds.index:
        raise AuditError(f"round {round_id!r} is not in the warehouse; allowed: {', '.join(rounds.index)}")
    scored = labelled_round_scores(wh, {name: m.predict_proba for name, m in models.items()}, round_id)
    if scored is None and round_id is not None:
        raise AuditError(f"round {round_id!r} has no labelled households: its next round is not ingested yet")
    if scored is None:
        raise AuditError("no round has a next round yet: ingest at least two rounds before an audit")
    groups = groups_of(scored.labels, warehouse_root)
    frames = {name: audit_frame(scored.labels, risk, assign(risk, models[name].tier_thresholds) == "high", groups)
              for name, risk in scored.scores.items()}
    return frames, scored.round_id


def groups_of(rows: pd.DataFrame, warehouse_root: Path, chunk: int | None = None) -> pd.DataFrame:
    """Every audit attribute of each row (``household_id, round_id``), joined on the row's own record. Read one
    household-id range at a time (a province's round has millions of members), keeping only the rows' groups."""
    from features.data.chunks import DEFAULT_CHUNK, id_ranges
    from features.data.warehouse import Warehouse
    from training.audit_groups import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, household_groups

    wh = Warehouse(warehouse_root)
    key = ["household_id", "round_id"]
    rids = sorted(set(rows["round_id"].astype(str)))
    keys = rows[key].astype({"household_id": str, "round_id": str})
    ids = np.sort(keys["household_id"].to_numpy(dtype=str))
    parts = []
    for lo, hi in id_ranges(wh, chunk or DEFAULT_CHUNK, rounds=rids):
        if np.searchsorted(ids, lo) == np.searchsorted(ids, hi, side="right"):
            continue  # no row of the audit in this range
        groups = household_groups(wh.households(rounds=rids, columns=list(HOUSEHOLD_COLUMNS), id_range=(lo, hi)),
                                  wh.members(rounds=rids, columns=list(MEMBER_COLUMNS), id_range=(lo, hi)))
        groups = groups.astype({"household_id": str, "round_id": str})
        in_range = keys[(keys["household_id"] >= lo) & (keys["household_id"] <= hi)]
        parts.append(groups.merge(in_range, on=key, how="inner"))
    groups = pd.concat(parts, ignore_index=True) if parts else household_groups(
        wh.households(rounds=rids, columns=list(HOUSEHOLD_COLUMNS)), wh.members(rounds=rids, columns=list(MEMBER_COLUMNS)))
    merged = keys.merge(groups, on=key, how="left", validate="one_to_one")
    return merged.drop(columns=key)


def audit_frame(rows: pd.DataFrame, risk: np.ndarray, high: np.ndarray, groups: pd.DataFrame) -> pd.DataFrame:
    """``fell, risk, high`` then the groups, per row."""
    out = groups.copy()
    out.insert(0, "fell", rows["falls_below_line"].to_numpy(float))
    out.insert(1, "risk", np.asarray(risk, float))
    out.insert(2, "high", np.asarray(high, bool))
    return out


def with_groups(rows: pd.DataFrame, risk: np.ndarray, high: np.ndarray, warehouse_root: Path) -> pd.DataFrame:
    """``fell, risk, high`` and every audit attribute per row (joined on the row's own record)."""
    return audit_frame(rows, risk, high, groups_of(rows, warehouse_root))
