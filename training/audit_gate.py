"""The equity part of the promotion gate: refuse a challenger with a disparity the champion does not have,
or a larger one, on the same labelled round, naming the group and both intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from training.config import AuditConfig


@dataclass
class EquityVerdict:
    refusals: list[str] = field(default_factory=list)
    round_id: str = ""

    @property
    def passed(self) -> bool:
        return not self.refusals

    def message(self) -> str:
        if self.passed:
            return f"equity audit on round {self.round_id}: no new or larger disparity"
        return f"equity audit on round {self.round_id}: " + "; ".join(self.refusals)


def _distance(row: Mapping, metric: str) -> float:
    """How far the ratio lies from parity, on the log scale (0 at parity)."""
    r = row.get(f"{metric}_ratio")
    return abs(math.log(r)) if r is not None and r > 0 else math.inf


def _ci(ci) -> str:
    return "[—]" if ci[0] is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def compare_audits(champion: Mapping, challenger: Mapping) -> list[str]:
    """One refusal per challenger disparity that is new, or larger than the champion's."""
    before = {(g["attribute"], g["group"]): g for g in champion["groups"]}
    refusals = []
    for g in challenger["groups"]:
        if not g["disparity"]:
            continue
        c = before.get((g["attribute"], g["group"]))
        new = c is None or not c["disparity"]
        larger = not new and max(_distance(g, m) for m in ("recall", "fnr")) > \
            max(_distance(c, m) for m in ("recall", "fnr"))
        if not (new or larger):
            continue
        champ = "—" if c is None else f"{c['recall_ratio']:.2f} {_ci(c['recall_ratio_ci'])}" \
            if c["recall_ratio"] is not None else "—"
        refusals.append(f"{'new' if new else 'larger'} disparity for {g['attribute']}={g['group']} "
                        f"(reference {g['reference']}): recall ratio challenger {g['recall_ratio']:.2f} "
                        f"{_ci(g['recall_ratio_ci'])} vs champion {champ}")
    return refusals


def equity_gate(warehouse_root: Path, champion, challenger, cfg: AuditConfig,
                round_id: str | None = None) -> EquityVerdict:
    """Audit both models on the same rows of the newest labelled round (or ``round_id``) and compare."""
    from training.audit import run_audit
    from training.audit_data import scored_frames
    from training.audit_groups import present_attributes

    frames, rid = scored_frames(warehouse_root, {"champion": champion, "challenger": challenger}, round_id)
    audits = []
    for frame in frames.values():  # champion first
        attrs, _ = present_attributes(frame, cfg.all_attributes())
        audits.append(run_audit(frame, cfg, attributes=attrs))
    return EquityVerdict(compare_audits(*audits), rid)


def gate_config(challenger) -> AuditConfig:
    """The audit settings the challenger was trained with (its run's config), else the defaults."""
    return AuditConfig.model_validate(((challenger.metadata or {}).get("config") or {}).get("audit") or {})
