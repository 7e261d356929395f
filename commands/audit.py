"""``povwatch audit``: the equity audit of the champion (or another alias) on one labelled round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import ALIAS, WAREHOUSE, AliasOption, WarehouseOption



def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def parse_references(text: str | None) -> dict[str, str]:
    """``head_sex=M,ethnic_minority=no`` → {attribute: group}."""
    out = {}
    for item in _split(text):
        attr, sep, group = item.partition("=")
        if not sep or not attr.strip() or not group.strip():
            raise typer.BadParameter(f"{item!r}: expected ATTRIBUTE=GROUP, e.g. head_sex=M", param_hint="--reference")
        out[attr.strip()] = group.strip()
    return out


def run(warehouse: Path, *, round_id: str | None, by: list[str] | None, budget: float | None,
        references: dict[str, str], alias: str, n_boot: int | None, mitigate: str | None) -> dict:
    """The audit dict of one model on one round (what ``--json`` prints)."""
    from models import registry
    from training.audit import run_audit
    from training.audit_data import scored_frames
    from training.audit_groups import check_attribute, present_attributes
    from training.audit_mitigation import compare_allocations
    from training.config import AuditConfig

    model = registry.load_risk_model(warehouse, alias)
    trained = (model.metadata.get("config") or {}).get("audit") or {}
    settings = {**trained, **({"budget": budget} if budget is not None else {}),
                **({"n_boot": n_boot} if n_boot is not None else {})}
    if by:
        attrs = [check_attribute(a) for a in by]
        settings["attributes"] = [a for a in attrs if "×" not in a]
        settings["intersections"] = [a for a in attrs if "×" in a]
    cfg = AuditConfig.model_validate(settings)
    frames, rid = scored_frames(warehouse, {"model": model}, round_id)
    frame = frames["model"]
    attrs, missing = present_attributes(frame, cfg.all_attributes())
    audit = run_audit(frame, cfg, attributes=attrs, references=references)
    audit = {"budget": audit.pop("budget"), "round": rid, "model_version": model.model_version, "alias": alias,
             **audit, "attributes_without_data": missing}
    if mitigate:
        audit["mitigation"] = compare_allocations(frame, check_attribute(mitigate), cfg.budget)
    return audit


def audit_cmd(
    warehouse: WarehouseOption = WAREHOUSE,
    round_id: Annotated[Optional[str], typer.Option("--round", help="Round R: its eligible households at R's "
                        "as-of date, labelled by R+1. Default: the newest labelled round.")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Comma-separated attributes (default: all): county, "
                  "township, household_type, is_monitored, ethnic_minority, head_sex, head_60_plus, "
                  "disabled_member, elderly_only, relocated, size_band; intersections as county×head_sex "
                  "or county*head_sex.")] = None,
    budget: Annotated[Optional[float], typer.Option("--budget", min=0.0001, max=0.9999, help="Share of the "
                      "round visited, top by risk (default: the model's training config, 0.10).")] = None,
    reference: Annotated[Optional[str], typer.Option("--reference", help="Reference group per attribute, "
                         "e.g. head_sex=M,is_monitored=yes (default: each attribute's largest group).")] = None,
    alias: AliasOption = ALIAS,
    n_boot: Annotated[Optional[int], typer.Option("--n-boot", min=20, help="Bootstrap replicates.")] = None,
    mitigate: Annotated[Optional[str], typer.Option("--mitigate", help="Also allocate the budget per group of "
                        "this attribute (e.g. is_monitored or county) and show its cost in overall "
                        "recall.")] = None,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log the audit as a run of experiment "
                         "povwatch-monitoring.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for audit.json, audit.html (zh) and "
                   "audit.en.html.", file_okay=False)] = None,
) -> None:
    """Equity audit at the visiting budget: per-group recall, FNR, FPR, precision and calibration with
    bootstrap intervals, ratios to a reference group, Benjamini–Hochberg, and a verdict per group."""
    from training.audit import AuditError
    from models.registry import RegistryError

    if as_json and out is not None:
        raise typer.BadParameter("choose one of --json and --out", param_hint="--json")
    try:
        result = run(warehouse, round_id=round_id, by=_split(by) or None, budget=budget,
                     references=parse_references(reference), alias=alias, n_boot=n_boot, mitigate=mitigate)
    except (AuditError, RegistryError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    except ValueError as e:  # an unknown attribute or a config value out of range
        raise typer.BadParameter(str(e)) from e
    if not no_mlflow:
        from training.audit_run import log_audit

        result["mlflow_run_id"] = log_audit(warehouse, result)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    if out is not None:
        from training.audit_report import write_pages

        out.mkdir(parents=True, exist_ok=True)
        (out / "audit.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        pages = write_pages(result, out)
        typer.echo(f"wrote {out / 'audit.json'}, " + ", ".join(str(p) for p in pages))
    typer.echo(summary(result))


def summary(audit: dict) -> str:
    """A few lines for the terminal: overall and not-yet-monitored recall, then every disparity."""
    o = audit["overall"]
    lines = [f"round {audit['round']}, model v{audit['model_version']}, budget {audit['budget']:.0%}: "
             f"{o['n']} households, {o['falls']} fell; recall {_pct(o['recall'])} {_ci(o['recall_ci'])}, "
             f"not yet monitored {_pct(audit['not_monitored_recall'])} {_ci(audit['not_monitored_recall_ci'])}"]
    shown = [g for g in audit["groups"] if g["disparity"]]
    insufficient = sum(g["insufficient"] and not g["is_reference"] for g in audit["groups"])
    for g in shown:
        lines.append(f"disparity: {g['attribute']}={g['group']} recall {_pct(g['recall'])} {_ci(g['recall_ci'])} "
                     f"vs {g['reference']}; ratio {g['recall_ratio']:.2f} {_ci(g['recall_ratio_ci'], pct=False)}")
    lines.append(f"{len(shown)} disparities; {insufficient} groups with insufficient evidence"
                 + (f"; no data for {', '.join(audit['attributes_without_data'])}"
                    if audit.get("attributes_without_data") else ""))
    return "\n".join(lines)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _ci(ci: list, pct: bool = True) -> str:
    if ci[0] is None:
        return "[—]"
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]" if pct else f"[{ci[0]:.2f}, {ci[1]:.2f}]"
