"""A worklist written out: CSV (UTF-8 with BOM, one row per entry, reasons as ``reason_k_*`` columns), JSON
(structured reasons and measures, stale households apart, the options and seed recorded), or a folder of
printable HTML pages, one per village, plus an index."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from models.worklist import CHANNEL_LABELS, CHANNELS, STALE, Worklist

Lang = Literal["zh", "en"]
TOP_REASONS = 3
CSV_BLOCK = 20_000   # entries per block of a written CSV
CSV_COLUMNS = ["alert_id", "household_id", "county", "village", "channel", "rank", "risk", "tier",
               *[f"reason_{k}_{p}" for k in range(1, TOP_REASONS + 1) for p in ("indicator", "value", "text")],
               "basis", "measures", "check_by", "decide_by", "as_of", "round_id", "model_version", "audit_seed"]


def _nan_none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def measure_text(m: Any, lang: Lang) -> str:
    return f"{m.category_zh}：{m.zh}" if lang == "zh" else f"{m.category_en}: {m.en}"


def table(worklist: Worklist, lang: Lang = "zh") -> pd.DataFrame:
    """The flat form (``CSV_COLUMNS``): reasons in ``reason_k_indicator/value/text``, measures joined."""
    e = worklist.entries
    rows = []
    for _, r in e.iterrows():
        row = {c: r[c] for c in ("alert_id", "household_id", "county", "village", "channel", "rank", "risk", "tier",
                                 "check_by", "decide_by", "as_of", "round_id", "model_version", "audit_seed")}
        row["risk"] = None if pd.isna(r["risk"]) else round(float(r["risk"]), 4)
        row["basis"] = r["basis_zh"] if lang == "zh" else r["basis_en"]
        row["measures"] = ("；" if lang == "zh" else "; ").join(measure_text(m, lang) for m in r["measures"])
        for k in range(1, TOP_REASONS + 1):
            reason = r["reasons"][k - 1] if k <= len(r["reasons"]) else None
            row[f"reason_{k}_indicator"] = (reason.indicator or "") if reason else ""
            row[f"reason_{k}_value"] = _nan_none(reason.value) if reason else None
            row[f"reason_{k}_text"] = (reason.text_zh if lang == "zh" else reason.text_en) if reason else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def store_table(worklist: Worklist) -> pd.DataFrame:
    """What the case store records (``cases.store.WORKLIST_COLUMNS``): the entries' keys, places, channel and
    rank, the risk as the CSV shows it, and ``reasons`` as JSON text of the structured reasons. Built column by
    column from the entries, without the CSV's text columns: a province's list has hundreds of thousands."""
    e = worklist.entries
    out = e[["alert_id", "household_id", "county", "village", "channel", "rank", "tier", "model_version", "as_of",
             "check_by", "decide_by", "audit_seed"]].reset_index(drop=True)
    out["risk"] = [None if pd.isna(v) else round(float(v), 4) for v in e["risk"]]
    out["reasons"] = [json.dumps([x.public() for x in rs], ensure_ascii=False) for rs in e["reasons"]]
    return out


def to_records(worklist: Worklist) -> dict[str, Any]:
    """JSON-ready: ``entries`` (channels in order) and ``stale`` apart, both with structured reasons."""
    def entry(r: pd.Series) -> dict[str, Any]:
        return {"alert_id": r["alert_id"], "household_id": r["household_id"], "county": r["county"],
                "village": r["village"], "channel": r["channel"], "rank": int(r["rank"]),
                "risk": None if pd.isna(r["risk"]) else float(r["risk"]), "tier": r["tier"] or None,
                "triggers": [t for t in str(r["triggers"]).split(";") if t],
                "basis_zh": r["basis_zh"], "basis_en": r["basis_en"],
                "reasons": [x.public() for x in r["reasons"]], "measures": [m.to_dict() for m in r["measures"]],
                "check_by": r["check_by"], "decide_by": r["decide_by"], "as_of": r["as_of"],
                "round_id": r["round_id"], "survey_date": r["survey_date"], "model_version": r["model_version"],
                "audit_seed": None if pd.isna(r["audit_seed"]) else int(r["audit_seed"])}

    return {"as_of": worklist.as_of, "issued": worklist.issued, "model_version": worklist.model_version,
            "seed": worklist.seed, "options": worklist.options.model_dump(), "triggers": worklist.triggers.model_dump(),
            "counts": {c: int((worklist.entries["channel"] == c).sum()) for c in (*CHANNELS, STALE)},
            "entries": [entry(r) for _, r in worklist.active.iterrows()],
            "stale": [entry(r) for _, r in worklist.stale.iterrows()]}


def write(worklist: Worklist, out: Path, *, lang: Lang = "zh", household_pages: dict[str, str] | None = None,
          loop_link: str | None = None) -> Path:
    """By ``out``: ``.csv`` (BOM), ``.json``, or a folder (no suffix) of HTML pages (``loop_link``: the loop
    report page in that folder, linked from the index)."""
    suffix = out.suffix.lower()
    if suffix == ".csv":
        write_csv(worklist, out, lang)
    elif suffix == ".json":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(to_records(worklist), ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == "":
        from serving.worklist_pages import write_pages

        write_pages(worklist, out, lang=lang, household_pages=household_pages or {}, loop_link=loop_link)
    else:
        raise ValueError(f"--out must end in .csv or .json, or be a folder (no suffix) for HTML pages; got {out.name!r}")
    return out


def write_csv(worklist: Worklist, out: Path, lang: Lang = "zh", block: int = CSV_BLOCK) -> Path:
    """``table`` written ``block`` entries at a time into one UTF-8 (BOM) file: the same bytes as the whole
    table at once, without a province's list as one frame of Python rows. ``audit_seed`` is a number column
    with blanks, as the whole table's type inference makes it whatever a block holds."""
    from features.data.tables import check_table_path

    out = check_table_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    e = worklist.entries
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        for start in range(0, max(len(e), 1), block):
            part = table(dataclasses.replace(worklist, entries=e.iloc[start:start + block]), lang)
            part["audit_seed"] = part["audit_seed"].astype("float64")
            part.to_csv(f, index=False, header=start == 0, date_format="%Y-%m-%d")
    return out


def channel_label(channel: str, lang: Lang) -> str:
    return CHANNEL_LABELS[channel][0 if lang == "zh" else 1]
