"""Printable worklist pages: one per village (channels as sections, deadlines, a blank 核实结论 column) and an
index of villages. Household pages, when given, are linked from the 报告 column."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from features.indicators.catalogue import RISK_GROUPS
from models.tiers import TIER_LABELS
from models.worklist import CHANNEL_LABELS, CHANNELS, STALE, Worklist

Lang = Literal["zh", "en"]
TEXT: dict[str, tuple[str, str]] = {
    "title": ("防止返贫监测 · 村级入户核实清单", "Return-to-poverty monitoring · village visit list"),
    "index_title": ("防止返贫监测 · 入户核实清单（按村）", "Return-to-poverty monitoring · visit lists by village"),
    "area": ("地区", "Area"), "as_of": ("评估日期", "Assessed as of"), "issued": ("下发日期", "Issued"),
    "model_version": ("模型版本", "Model version"), "seed": ("抽查随机种子", "Audit seed"),
    "check_by": ("入户核实期限", "Home check by"), "decide_by": ("认定期限", "Decision by"),
    "rank": ("序号", "#"), "household_id": ("户编号", "Household"), "risk": ("风险", "Risk"),
    "basis": ("列入依据", "Why listed"), "reasons": ("主要风险提示", "Reasons"), "measures": ("建议帮扶措施", "Suggested assistance"),
    "deadlines": ("期限", "Deadlines"), "check_short": ("核实", "check"), "decide_short": ("认定", "decide"),
    "finding": ("核实结论", "Finding (fill in)"), "report": ("报告", "Report"), "open": ("查看", "open"),
    "none": ("无", "none"),
    "loop": ("已发清单的入户核实结果与预警效果（按渠道，含 95% 区间）",
             "What the visits of the lists issued found, per channel (with 95% intervals)"),
    "disclaimer": ("清单由监测模型和预警条件自动生成，仅供排查参考；是否纳入监测以入户核实、民主评议和审定结果为准。公示时不得公开身份证号、电话和健康信息。",
                   "Generated from the model and the statutory triggers to decide whom to visit. Whether a household "
                   "is enrolled depends on the home check, the village review and the county's decision. Never "
                   "publish ID numbers, phone numbers or health details."),
}
NOTES: dict[str, tuple[str, str]] = {
    "below_line": ("已低于监测标准，应及时核实纳入帮扶；不按返贫风险排序。",
                   "Already below the line: verify and enrol for assistance now; not ranked by risk."),
    "trigger": ("满足预警条件的农户，不论模型风险高低均须核实。", "Households meeting a statutory trigger, whatever their model risk."),
    "model": ("模型预测下一轮可能低于监测标准的农户，按风险从高到低，限本村核实能力。",
              "Households the model expects to fall below the line by next round, highest risk first, up to the village's capacity."),
    "follow_up": ("已纳入监测、风险上升或新报告风险事件的农户。", "Monitored households whose risk rose or who reported a new shock."),
    "audit": ("未被任何渠道列入的随机抽查户，用于评估清单遗漏。", "A random sample of unlisted households, to measure what the list misses."),
    STALE: ("最近一次采集早于本轮，需重新采集后再评估，不按当前风险处理。",
            "Records older than the round scored: re-survey first; not scored as current."),
}
PAGE_MEASURES = 3  # the printed list shows the first measures; the household page and the CSV have all
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def page_name(village: str, county: str) -> str:
    """A file name for a village page: readable where possible, always unique by a short hash."""
    digest = hashlib.sha256(f"{county}\x1f{village}".encode()).hexdigest()[:8]
    return f"{_SAFE.sub('_', village).strip('._')[:40] or 'village'}-{digest}.html"


def _texts(lang: Lang) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in TEXT.items()}


def _rows(part, lang: Lang, links: dict[str, str]) -> list[dict[str, Any]]:
    from serving.worklist_output import measure_text

    out = []
    for _, r in part.iterrows():
        out.append({"rank": int(r["rank"]), "household_id": r["household_id"],
                    "risk": "" if r["risk"] != r["risk"] else f"{float(r['risk']) * 100:.1f}%",
                    "tier": r["tier"], "tier_label": TIER_LABELS[r["tier"]][0 if lang == "zh" else 1] if r["tier"] else "",
                    "basis": r["basis_zh"] if lang == "zh" else r["basis_en"],
                    "reasons": [{"text": x.text_zh if lang == "zh" else x.text_en,
                                 "group": RISK_GROUPS[x.group][0 if lang == "zh" else 1] if x.group else ""}
                                for x in r["reasons"]],
                    "measures": ("；" if lang == "zh" else "; ").join(
                        measure_text(m, lang) for m in r["measures"][:PAGE_MEASURES]),
                    "check_by": r["check_by"], "decide_by": r["decide_by"], "link": links.get(r["household_id"])})
    return out


def render_village(worklist: Worklist, village: str, county: str, *, lang: Lang = "zh",
                   links: dict[str, str] | None = None, loop_link: str | None = None) -> str:
    from serving.reports import _env

    t = _texts(lang)
    e = worklist.entries
    part = e[(e["village"] == village) & (e["county"] == county)]
    i = 0 if lang == "zh" else 1
    sections = [{"code": c, "label": CHANNEL_LABELS[c][i], "note": NOTES[c][i],
                 "show_risk": c not in ("below_line", STALE), "rows": _rows(part[part["channel"] == c], lang, links or {})}
                for c in (*CHANNELS, STALE)]
    check_by, decide_by = (e["check_by"].iloc[0], e["decide_by"].iloc[0]) if len(e) else ("—", "—")
    return _env().get_template("worklist_village.html").render(
        t=t, lang=lang, village=village, county=county, as_of=worklist.as_of, issued=worklist.issued,
        model_version=worklist.model_version or "—", check_by=check_by, decide_by=decide_by, sections=sections,
        loop_link=loop_link)


def render_index(worklist: Worklist, pages: dict[tuple[str, str], str], *, lang: Lang = "zh",
                 loop_link: str | None = None) -> str:
    from serving.reports import _env

    t = _texts(lang)
    i = 0 if lang == "zh" else 1
    e = worklist.entries
    villages = [{"county": county, "village": village, "link": link,
                 "counts": [int(((e["village"] == village) & (e["county"] == county) & (e["channel"] == c)).sum())
                            for c in (*CHANNELS, STALE)]}
                for (county, village), link in sorted(pages.items())]
    return _env().get_template("worklist_index.html").render(
        t=t, lang=lang, as_of=worklist.as_of, issued=worklist.issued, model_version=worklist.model_version or "—",
        seed=worklist.seed, channels=[CHANNEL_LABELS[c][i] for c in (*CHANNELS, STALE)], villages=villages,
        loop_link=loop_link)


def write_pages(worklist: Worklist, out: Path, *, lang: Lang = "zh", household_pages: dict[str, str],
                loop_link: str | None = None) -> Path:
    """``out/index.html``, one page per village, and ``out/households/<id>.html`` for the pages given
    (household id -> HTML); ``loop_link``: the loop report page beside them, linked from the index."""
    from serving.reports import safe_file_name

    out.mkdir(parents=True, exist_ok=True)
    links: dict[str, str] = {}
    if household_pages:
        (out / "households").mkdir(exist_ok=True)
        for hid, html in household_pages.items():
            name = safe_file_name(hid)
            (out / "households" / name).write_text(html, encoding="utf-8")
            links[hid] = f"households/{name}"
    pages: dict[tuple[str, str], str] = {}
    for (county, village), _ in worklist.entries.groupby(["county", "village"], sort=True):
        name = page_name(village, county)
        (out / name).write_text(render_village(worklist, village, county, lang=lang, links=links), encoding="utf-8")
        pages[(county, village)] = name
    (out / "index.html").write_text(render_index(worklist, pages, lang=lang, loop_link=loop_link), encoding="utf-8")
    return out
