"""``povwatch promote``: champion ← challenger only through the gate.

The gate: on the newest labelled round (same rows for both), the challenger's ``roc_auc`` and
``recall_at_10pct`` are each not worse than the champion's. ``--force`` skips the gate and records who
forced it, when, and what the gate said, in the version's tags.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

GATE_METRICS = ("roc_auc", "recall_at_10pct")


@dataclass
class PromotionResult:
    promoted: bool
    message: str
    challenger: str
    champion_before: str | None
    comparison: dict[str, dict[str, float]] = field(default_factory=dict)


def gate_comparison(warehouse_root: Path, champion, challenger) -> tuple[dict[str, dict[str, float]], str]:
    """Both models on the newest labelled round: metric -> {"champion": x, "challenger": y}."""
    from features.labels import build_examples, round_as_of
    from features.warehouse import Warehouse
    from training.metrics import metric_table
    from training.splits import SplitError

    wh = Warehouse(warehouse_root)
    rounds = round_as_of(wh)
    # newest round first: usually the one before the last already has its outcomes, so one or two builds
    # instead of indicators at every round's date
    for rid in reversed(list(rounds.index)):
        examples = build_examples(wh, [rounds[rid]])
        rows = examples[(examples["round_id"] == rid) & examples["eligible"].eq(1)
                        & examples["falls_below_line"].notna()]
        if len(rows):
            break
    else:
        raise SplitError("no round has a next round yet: ingest at least two rounds before promoting")
    y = rows["falls_below_line"].to_numpy(float)
    out: dict[str, dict[str, float]] = {}
    for name, model in (("champion", champion), ("challenger", challenger)):
        m = metric_table(y, model.score(rows)["risk"].to_numpy())
        for metric in GATE_METRICS:
            out.setdefault(metric, {})[name] = m[metric]
    return out, rid


def promote(warehouse_root: Path, *, force: bool = False) -> PromotionResult:
    from models.risk_model import ModelFeatureMismatch
    from models import registry

    client = registry.connect(warehouse_root)
    challenger = registry.resolve(client, registry.CHALLENGER)
    try:
        champion_ref = registry.resolve(client, registry.CHAMPION)
    except registry.RegistryError:
        champion_ref = None
    if champion_ref is not None and champion_ref.version == challenger.version:
        return PromotionResult(False, f"version {challenger.version} is already the champion", challenger.version,
                               champion_ref.version)
    comparison: dict[str, dict[str, float]] = {}
    verdict = "no champion yet"
    passed = True
    if champion_ref is not None:
        try:
            champ = registry.load_risk_model(warehouse_root, registry.CHAMPION)
            chall = registry.load_risk_model(warehouse_root, registry.CHALLENGER)
            comparison, rid = gate_comparison(warehouse_root, champ, chall)
            worse = [m for m, v in comparison.items() if not (v["challenger"] >= v["champion"]) or np.isnan(v["challenger"])]
            passed = not worse
            detail = ", ".join(f"{m} {v['challenger']:.4f} vs {v['champion']:.4f}" for m, v in comparison.items())
            verdict = (f"on round {rid}: " + detail + ("" if passed else f" — worse on {', '.join(worse)}"))
        except ModelFeatureMismatch as e:
            passed, verdict = False, f"the champion cannot run with this code ({e})"
    if not passed and not force:
        return PromotionResult(False, f"refused: challenger v{challenger.version} is worse than champion "
                                      f"v{champion_ref.version} {verdict}; use --force to override", challenger.version,
                               champion_ref.version if champion_ref else None, comparison)
    registry.set_alias(client, registry.CHAMPION, challenger.version)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "promoted_at", now)
    client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "gate", verdict[:4000])
    if force and not passed:
        who = os.environ.get("POVWATCH_USER") or getpass.getuser()
        client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "forced_by", who)
        client.set_model_version_tag(registry.MODEL_NAME, challenger.version, "forced_at", now)
    how = "forced past the gate" if force and not passed else "passed the gate"
    return PromotionResult(True, f"champion is now v{challenger.version} ({how}: {verdict})", challenger.version,
                           champion_ref.version if champion_ref else None, comparison)
