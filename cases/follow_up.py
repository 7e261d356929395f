"""The state of each alert at a date: open or closed, and overdue against its deadlines.

An alert is **open** while nobody got in (no outcome yet, or ``not_reached``) or while an identified household
waits for its decision (no ``decision_date``); it is closed once the visit found it not at risk, already
monitored, gone, or once the decision is made. It is **overdue** when it was not visited by ``check_by`` (5
working days by default, set by the worklist) or an identified case was not decided by ``decide_by`` (15 days).
"""

from __future__ import annotations

import pandas as pd

VISITED = ("identified", "not_identified", "already_monitored")  # somebody got in and checked the household


def case_states(alerts: pd.DataFrame, current: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """One row per alert: the alert's columns, its current outcome columns, ``status``, ``overdue``,
    ``overdue_check``, ``overdue_decision`` and ``days_overdue`` at ``at``."""
    cols = ["alert_id", "outcome", "visit_date", "decision_date", "verifier_id", "seq"]
    df = alerts.merge(current[cols], on="alert_id", how="left")
    at = pd.Timestamp(at).normalize()
    visited = df["outcome"].isin(VISITED)
    identified = df["outcome"].eq("identified")
    undecided = identified & df["decision_date"].isna()
    df["status"] = "closed"
    df.loc[~visited & ~df["outcome"].eq("gone"), "status"] = "open"
    df.loc[undecided, "status"] = "awaiting_decision"
    visit_late = visited & (df["visit_date"] > df["check_by"])
    never_visited = ~visited & ~df["outcome"].eq("gone") & (df["check_by"] < at)
    decision_late = identified & ((df["decision_date"] > df["decide_by"])
                                  | (df["decision_date"].isna() & (df["decide_by"] < at)))
    df["overdue_check"] = (visit_late | never_visited).fillna(False).astype(bool)
    df["overdue_decision"] = decision_late.fillna(False).astype(bool)
    df["overdue"] = df["overdue_check"] | df["overdue_decision"]
    late_check = (at - df["check_by"]).dt.days.where(never_visited, 0)
    late_decision = (at - df["decide_by"]).dt.days.where(undecided & (df["decide_by"] < at), 0)
    df["days_overdue"] = pd.concat([late_check, late_decision], axis=1).max(axis=1).fillna(0).astype("int64")
    return df


def open_cases(states: pd.DataFrame, *, overdue_only: bool = False, village: str | None = None) -> pd.DataFrame:
    """Open alerts (or, with ``overdue_only``, overdue ones, open or not) sorted by village, lateness, rank."""
    keep = states["overdue"] if overdue_only else states["status"].ne("closed")
    if village is not None:
        keep &= states["village"].eq(village)
    out = states[keep].copy()
    return out.sort_values(["village", "days_overdue", "rank"], ascending=[True, False, True], kind="stable")


def summary_by(states: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per ``key`` (village or verifier_id): alerts, open, overdue."""
    g = states.assign(open=states["status"].ne("closed")).groupby(states[key].fillna("—"))
    return pd.DataFrame({"alerts": g.size(), "open": g["open"].sum(), "overdue": g["overdue"].sum()}).astype("int64")
