"""``povwatch drift``: data, score and expected-performance drift of a round; department-feed health."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import ALIAS, WAREHOUSE, AliasOption, WarehouseOption



def drift_cmd(
    round_id: Annotated[Optional[str], typer.Option("--round", help="Round to check (default: the newest).")] = None,
    reference: Annotated[Optional[list[str]], typer.Option("--reference", help="Reference round(s), repeatable or "
                         "comma-separated. Default: the rounds the model was trained on.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON only.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for drift-<round>.json and the HTML "
                   "pages (zh and en).")] = None,
    events: Annotated[bool, typer.Option("--events", help="Check the department feeds week by week instead "
                      "of a round.")] = False,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=104, help="With --events: weeks to check.")] = 12,
    warehouse: WarehouseOption = WAREHOUSE,
    alias: AliasOption = ALIAS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log the check as an MLflow run.")] = False,
) -> None:
    """Is the new round like the data the model learned from? Verdict: stable, data problem suspected, or
    retrain recommended, with reasons (zh and en)."""
    from features.data.warehouse import Warehouse

    if json_out and out is not None:
        raise typer.BadParameter("give --json or --out, not both", param_hint="--json")
    wh = Warehouse(warehouse)
    if not wh.round_ids():
        typer.echo(f"error: warehouse {wh.root} has no rounds; run `povwatch ingest` first", err=True)
        raise typer.Exit(2)
    if events:
        from training.monitoring.weekly import feed_weeks, format_weeks

        report = feed_weeks(wh, weeks)
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1) if json_out else format_weeks(report))
        return
    from training.monitoring.report import check_round
    from models.registry import RegistryError, load_risk_model

    refs = [r.strip() for x in reference or [] for r in x.split(",") if r.strip()] or None
    rid = round_id or wh.round_ids()[-1]
    try:
        model = load_risk_model(warehouse, alias)
        report = check_round(wh, model, rid, refs, seed=seed)
    except (RegistryError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    if not no_mlflow:
        from training.monitoring.tracking import log_drift

        report["mlflow_run_id"] = log_drift(warehouse, report)
    if json_out:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1, default=_plain))
        return
    if out is not None:
        from serving.drift_page import write_pages

        out.mkdir(parents=True, exist_ok=True)
        (out / f"drift-{rid}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=_plain),
                                               encoding="utf-8")
        written = write_pages(report, out)
        typer.echo(f"wrote {out / f'drift-{rid}.json'}, {', '.join(str(p) for p in written)}")
    typer.echo(summary(report))


def _plain(x: object) -> object:
    """numpy scalars as Python numbers for JSON."""
    return x.item() if hasattr(x, "item") else str(x)


def summary(report: dict) -> str:
    """The verdict, its reasons and the headline figures, as the terminal shows them."""
    ex, sc = report["expected"], report["score"]
    lines = [f"round {report['round']} against {', '.join(report['reference'])}: {report['verdict']} "
             f"({report['verdict_zh']})"]
    lines += [f"  - {r['zh']} / {r['en']}" for r in report["reasons"]]
    lines += [f"  note: {r['zh']} / {r['en']}" for r in report.get("notes") or []]
    lines.append(f"  score PSI since round {sc['previous_round']} {sc['step_psi']:.3f} (threshold {sc['step_threshold']:.3f}),"
                 f" against the reference {sc['psi']:.3f}; tiers "
                 + ", ".join(f"{k} {v:.1%}" for k, v in sc["tier_shares"].items()))
    lo, hi = ex["interval"]["recall_at_10pct"]
    lines.append(f"  expected recall@10% {ex['recall_at_10pct']:.3f} (reference rounds' range {lo:.3f}-{hi:.3f}), "
                 f"precision@10% {ex['precision_at_10pct']:.3f}, positive rate {ex['positive_rate']:.3f}"
                 + (f"; recalibrated by the labelled rounds {ex['recall_at_10pct_recalibrated']:.3f}"
                    if ex.get("recall_at_10pct_recalibrated") is not None else ""))
    if report.get("realised"):
        rz = report["realised"]
        ci = rz["interval"].get("recall_at_10pct", [float("nan")] * 2)
        lines.append(f"  realised recall@10% {rz['recall_at_10pct']:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}), "
                     f"precision@10% {rz['precision_at_10pct']:.3f}, positive rate {rz['positive_rate']:.3f}")
    for d in report.get("decay") or []:
        lo, hi = d["interval"].get("recall_at_10pct", [float("nan")] * 2)
        lines.append(f"  round {d['round']} (+{d['rounds_since_training']} since training): recall@10% expected "
                     f"{d['expected']['recall_at_10pct']:.3f}"
                     + (f" (recalibrated {d['expected']['recall_at_10pct_recalibrated']:.3f})"
                        if d["expected"].get("recall_at_10pct_recalibrated") is not None else "")
                     + f", realised {d['realised']['recall_at_10pct']:.3f} (95% CI {lo:.3f}-{hi:.3f})")
    moved = [d["name"] for d in report["indicators"] if d["drifted"]][:8]
    if moved:
        lines.append(f"  indicators beyond their round-to-round range: {', '.join(moved)}")
    return "\n".join(lines)
