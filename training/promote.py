"""``povwatch promote``: champion ← challenger only through the gate.

The gate: on the newest labelled round (same rows for all), the challenger's ``roc_auc`` and
``recall_at_10pct`` are each not worse than the champion's, nor than the county's rule (with the rule
settings the challenger was trained with) — a model that loses to the rule it replaces never becomes the
champion, even the first one. ``--force`` skips the gate and records who
forced it, when, and what the gate said, in the version's tags.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np

GATE_METRICS = ("roc_auc", "recall_at_10pct")
TOLERANCE = 1e-9  # a calibrated rule ranks exactly like the rule; rounding must not refuse it


Outcome = Literal["promoted", "forced", "refused", "unchanged"]


@dataclass(frozen=True)
class GateFailure:
    """One reason the gate refused: ``metric`` of the challenger below ``against`` (champion or rule)."""

    metric: str
    against: str
    challenger: float
    other: float


@dataclass
class PromotionResult:
    """What ``promote`` did: ``promoted`` (passed the gate), ``forced`` (past a refusal), ``refused`` (with
    each failing metric and both values in ``failures``; the equity gate's verdict is in ``message``) or
    ``unchanged`` (the challenger already is the champion). The command's exit code follows ``outcome``."""

    outcome: Outcome
    message: str
    challenger: str
    champion_before: str | None
    comparison: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[GateFailure] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.outcome in ("promoted", "forced")


def rule_scores(challenger, rows):
    """The county's rule on the gate rows, as configured when the challenger was trained."""
    from models.baselines import RuleBaseline
    from training.candidates import RULE_RATIO, RULE_RIGID
    from training.config import TrainConfig

    cfg = TrainConfig.model_validate(challenger.metadata.get("config") or {})
    return RuleBaseline(ratio_column=RULE_RATIO, rigid_share_columns=RULE_RIGID, line_multiple=cfg.rule_line_multiple,
                        rigid_share=cfg.rule_rigid_share).score(rows)


def gate_comparison(warehouse_root: Path, champion, challenger,
                    chunk: int | None = None) -> tuple[dict[str, dict[str, float]], str]:
    """The challenger, the rule and the champion (if any) on the newest labelled round:
    metric -> {"challenger": x, "rule": y, "champion": z}."""
    from features.data.warehouse import Warehouse
    from training.metrics import metric_table
    from training.round_scores import labelled_round_scores
    from training.splits import SplitError

    wh = Warehouse(warehouse_root)
    scorers = {"challenger": challenger.predict_proba, "rule": lambda rows: rule_scores(challenger, rows)}
    if champion is not None:
        scorers["champion"] = champion.predict_proba
    scored = labelled_round_scores(wh, scorers, chunk=chunk)
    if scored is None:
        raise SplitError("no round has a next round yet: ingest at least two rounds before promoting")
    y, rid = scored.y, scored.round_id
    out: dict[str, dict[str, float]] = {}
    for name, score in scored.scores.items():
        m = metric_table(y, score, is_probability=name != "rule")
        for metric in GATE_METRICS:
            out.setdefault(metric, {})[name] = m[metric]
    return out, rid


def _equity(warehouse_root: Path, champ, chall, round_id: str, enabled: bool | None):
    from training.audit_gate import equity_gate, gate_config

    cfg = gate_config(chall)
    if not (cfg.gate if enabled is None else enabled):
        return None
    return equity_gate(warehouse_root, champ, chall, cfg, round_id)


def worse_than(comparison: dict[str, dict[str, float]], other: str) -> list[str]:
    """Gate metrics on which the challenger is below ``other`` (or not a number)."""
    return [m for m, v in comparison.items() if other in v
            and (np.isnan(v["challenger"]) or v["challenger"] < v[other] - TOLERANCE)]


def gate_failures(comparison: dict[str, dict[str, float]]) -> list[GateFailure]:
    """Every (metric, champion or rule) the challenger is worse on, with both values."""
    return [GateFailure(m, other, comparison[m]["challenger"], comparison[m][other])
            for other in ("champion", "rule") for m in worse_than(comparison, other)]


def promote(warehouse_root: Path, *, force: bool = False, equity_gate: bool | None = None) -> PromotionResult:
    """``equity_gate``: None follows the challenger's training config (``audit.gate``, on by default)."""
    from models.risk_model import ModelFeatureMismatch
    from models import registry

    client = registry.connect(warehouse_root, create=False)
    challenger = registry.resolve(client, registry.CHALLENGER)
    try:
        champion_ref = registry.resolve(client, registry.CHAMPION)
    except registry.RegistryError:
        champion_ref = None
    if champion_ref is not None and champion_ref.version == challenger.version:
        return PromotionResult("unchanged", f"version {challenger.version} is already the champion",
                               challenger.version, champion_ref.version)
    comparison: dict[str, dict[str, float]] = {}
    failures: list[GateFailure] = []
    try:
        chall = registry.load_risk_model(warehouse_root, registry.CHALLENGER)
        champ = registry.load_risk_model(warehouse_root, registry.CHAMPION) if champion_ref is not None else None
        comparison, rid = gate_comparison(warehouse_root, champ, chall)
        failures = gate_failures(comparison)
        below_champion = [f.metric for f in failures if f.against == "champion"]
        below_rule = [f.metric for f in failures if f.against == "rule"]
        passed = not failures
        detail = "; ".join(f"{m} {v['challenger']:.4f} vs " + ", ".join(
            f"{k} {x:.4f}" for k, x in v.items() if k != "challenger") for m, v in comparison.items())
        why = ([f"worse than champion v{champion_ref.version} on {', '.join(below_champion)}"] if below_champion
               else []) + ([f"worse than the rule on {', '.join(below_rule)}"] if below_rule else [])
        verdict = f"on round {rid}: {detail}" + (f" — {'; '.join(why)}" if why else "")
        if champ is not None:
            equity = _equity(warehouse_root, champ, chall, rid, equity_gate)
            if equity is not None:
                passed = passed and equity.passed
                verdict += f"; {equity.message()}"
    except ModelFeatureMismatch as e:
        passed, verdict = False, f"the champion cannot run with this code ({e})"
    if not passed and not force:
        return PromotionResult("refused", f"refused: challenger v{challenger.version} {verdict}; use --force to "
                                          "override", challenger.version,
                               champion_ref.version if champion_ref else None, comparison, failures)
    registry.set_alias(client, registry.CHAMPION, challenger.version)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "promoted_at", now)
    client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "gate", verdict[:4000])
    if force and not passed:
        who = os.environ.get("POVWATCH_USER") or getpass.getuser()
        client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "forced_by", who)
        client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "forced_at", now)
    forced = force and not passed
    how = "forced past the gate" if forced else "passed the gate"
    return PromotionResult("forced" if forced else "promoted", f"champion is now v{challenger.version} ({how}: "
                           f"{verdict})", challenger.version, champion_ref.version if champion_ref else None,
                           comparison, failures)


def first_promotion(warehouse_root: Path) -> PromotionResult | None:
    """With no champion yet, the newly registered challenger goes through the same gate as any later one
    (against the rule; there is no champion to compare with): a first model worse than the county's rule is
    not made champion without ``promote --force``. None when a champion already exists."""
    from models import registry

    if registry.has_alias(registry.connect(warehouse_root, create=False), registry.CHAMPION):
        return None
    return promote(warehouse_root, equity_gate=False)
