"""The audit as an HTML page, Chinese first and English too: one dot-and-interval chart per attribute (inline
SVG, no external assets), one sentence per attribute saying what was found, and the audit's limits.

Jinja2 autoescapes every value from the data; the chart escapes its own labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from html import escape
from pathlib import Path

from markupsafe import Markup

from training.audit_groups import label, value_label

TEXT = {
    "title": ("公平性审计：名单是否同样找到各类群体中将要返贫的农户", "Equity audit: does the list find households "
              "about to fall equally well in every group?"),
    "round": ("测试轮次", "Round"), "model": ("模型版本", "Model version"), "budget": ("走访比例", "Visiting budget"),
    "households": ("户数", "Households"), "falls": ("返贫(跌破监测线)户", "Fell below the line"),
    "recall": ("识别率(召回率)", "Recall"), "not_monitored": ("其中尚未纳入监测的农户的识别率",
                                                   "Recall among households not yet monitored"),
    "findings": ("结论", "Findings"), "chart_axis": ("识别率(95%区间)；竖线为参照组", "recall (95% interval); "
                                                  "the vertical line is the reference group"),
    "group": ("组", "Group"), "ratio": ("与参照组之比", "Ratio to reference"), "verdict": ("判断", "Verdict"),
    "precision": ("精确率", "Precision"), "fpr": ("误报率", "FPR"), "ece": ("校准误差", "ECE"),
    "mean_vs_obs": ("预测/实际返贫率", "Predicted / observed rate"),
    "limits": ("局限", "Limits"), "mitigation": ("缓解方案：按组分配走访名额", "Mitigation: the budget allocated per group"),
    "strategy_global": ("全县统一排序", "one list for the round"), "strategy_per_group": ("各组按同一比例",
                                                                                   "the same share of each group"),
    "overall_recall": ("总体识别率", "Overall recall"), "cost": ("总体识别率的代价", "Cost in overall recall"),
    "reference": ("参照组", "reference"), "insufficient evidence": ("证据不足", "insufficient evidence"),
    "disparity": ("存在差距", "disparity"), "no disparity found": ("未发现差距", "no disparity found"),
    "inconclusive": ("无法确定", "inconclusive"),
    "high_tier": ("高风险等级", "high tier"),
}
LIMITS = (
    ("只审计被调查的农户：未被抽中或未能入户的农户不在其中，名单对他们的表现无从得知。",
     "Only surveyed households are audited: those never sampled or not reached are not in it."),
    ("标签是下一轮调查的收入是否跌破监测线；未如实申报的收入或冲击同样影响各组。",
     "The label is next round's surveyed income against the line; under-reported income or shocks affect it."),
    ("返贫户少于 {min_falls} 户或总户数少于 {min_households} 户的组判为“证据不足”，而不是“公平”。",
     "A group with fewer than {min_falls} falls or {min_households} households is 'insufficient evidence', "
     "never 'fair'."),
    ("判断规则：识别率（或漏报率）与参照组之比的 95% 区间完全落在 [{lo}, {hi}] 之外即为“存在差距”；"
     "同时给出 Benjamini–Hochberg 校正后的 q 值。",
     "Rule: a disparity when the 95% interval of the recall (or FNR) ratio to the reference lies wholly outside "
     "[{lo}, {hi}]; Benjamini–Hochberg q-values are shown beside it."),
    ("少数民族户信息仅用于本审计：不是模型输入，不出现在任何名单或公示中。",
     "The ethnic-minority flag is used for this audit only: never a model input, never on a list or a notice."),
)


def _t(lang: str) -> dict[str, str]:
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in TEXT.items()}


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _ci(ci: Sequence, pct: bool = True) -> str:
    if not ci or ci[0] is None:
        return "—"
    return f"{_pct(ci[0])}–{_pct(ci[1])}" if pct else f"{ci[0]:.2f}–{ci[1]:.2f}"


COLOR = {"disparity": "#c0392b", "insufficient evidence": "#9aa3a8", "reference": "#1f4e79",
         "no disparity found": "#2e7d6b", "inconclusive": "#d68910"}


def interval_chart(rows: Sequence[Mapping], lang: str, *, width: int = 720, label_width: int = 220) -> Markup:
    """Dot-and-interval chart of recall per group, with the reference group's recall as a vertical line."""
    t = _t(lang)
    row_h, top, bottom = 22, 10, 34
    height = top + bottom + row_h * len(rows)
    plot_x, plot_w = label_width + 10, width - label_width - 30

    def sx(v: float) -> float:
        return plot_x + max(0.0, min(1.0, v)) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(t["chart_axis"])}">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = sx(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle" '
                     f'fill="#555">{tick:.0%}</text>')
    ref = next((r for r in rows if r["is_reference"]), None)
    if ref is not None and ref["recall"] is not None:
        x = sx(ref["recall"])
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#1f4e79" '
                     'stroke-dasharray="4,3"/>')
    for i, r in enumerate(rows):
        y = top + i * row_h + row_h / 2
        color = COLOR[r["verdict"]]
        name = value_label(r["group"], lang)
        name = name if len(name) <= 28 else name[:27] + "…"
        parts.append(f'<text x="{label_width:.1f}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
                     f'fill="#222">{escape(name)} (n={r["n"]}, {r["falls"]})</text>')
        lo, hi = r["recall_ci"]
        if lo is not None:
            parts.append(f'<line x1="{sx(lo):.1f}" y1="{y:.1f}" x2="{sx(hi):.1f}" y2="{y:.1f}" stroke="{color}" '
                         'stroke-width="2"/>')
        if r["recall"] is not None:
            parts.append(f'<circle cx="{sx(r["recall"]):.1f}" cy="{y:.1f}" r="4.5" fill="{color}"/>')
    parts.append(f'<text x="{plot_x + plot_w / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" '
                 f'fill="#555">{escape(t["chart_axis"])}</text></svg>')
    return Markup("".join(parts))


def verdict_sentence(attribute: str, rows: Sequence[Mapping], lang: str,
                     band: Sequence[float] = (0.8, 1.25)) -> str:
    """One sentence per attribute: the disparities found, else whether the evidence sufficed."""
    name = label(attribute, lang)
    edges = f"[{band[0]:g}, {band[1]:g}]"
    found = [r for r in rows if r["disparity"]]
    others = [r for r in rows if not r["is_reference"]]
    short = [r for r in others if r["insufficient"]]
    if found:
        parts = []
        for r in found:
            g, ref = value_label(r["group"], lang), value_label(r["reference"], lang)
            if lang == "zh":
                parts.append(f"“{g}”识别率 {_pct(r['recall'])}（{_ci(r['recall_ci'])}），为参照组“{ref}”的 "
                             f"{r['recall_ratio']:.2f} 倍（{_ci(r['recall_ratio_ci'], pct=False)}）")
            else:
                parts.append(f"'{g}' recall {_pct(r['recall'])} ({_ci(r['recall_ci'])}), "
                             f"{r['recall_ratio']:.2f}× the reference '{ref}' ({_ci(r['recall_ratio_ci'], pct=False)})")
        return (f"按{name}：存在差距——" + "；".join(parts) + "。") if lang == "zh" else \
            (f"By {name}: disparity — " + "; ".join(parts) + ".")
    if others and len(short) == len(others):
        return f"按{name}：证据不足，无法判断。" if lang == "zh" else f"By {name}: insufficient evidence to judge."
    unsure = [r for r in others if r["verdict"] == "inconclusive"]
    if unsure:
        sep = "、" if lang == "zh" else ", "
        g = sep.join(f"“{value_label(r['group'], lang)}” {r['recall_ratio']:.2f}（{_ci(r['recall_ratio_ci'], pct=False)}）"
                     if lang == "zh" else
                     f"'{value_label(r['group'], lang)}' {r['recall_ratio']:.2f} ({_ci(r['recall_ratio_ci'], pct=False)})"
                     for r in unsure)
        return (f"按{name}：识别率与参照组之比 {g} 的区间跨越 {edges} 的边界，无法确定是否存在差距，需更多数据。"
                if lang == "zh" else f"By {name}: recall ratio to the reference {g} — the interval straddles the "
                f"edge of {edges}: inconclusive, more data needed.")
    tail_zh = f"（{len(short)} 个组证据不足）" if short else ""
    tail_en = f" ({len(short)} groups with insufficient evidence)" if short else ""
    return (f"按{name}：证据充足的组之间未发现差距（比值区间均在 {edges} 内）{tail_zh}。" if lang == "zh"
            else f"By {name}: no disparity found among groups with enough evidence (ratio intervals within "
                 f"{edges}){tail_en}.")


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("training", "templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def render_audit(audit: Mapping, lang: str = "zh") -> str:
    """The audit page in one language."""
    t = _t(lang)
    attributes = []
    for attr in dict.fromkeys(g["attribute"] for g in audit["groups"]):
        rows = [g for g in audit["groups"] if g["attribute"] == attr]
        attributes.append({
            "name": label(attr, lang), "sentence": verdict_sentence(attr, rows, lang, audit["fair_band"]),
            "chart": interval_chart(rows, lang),
            "rows": [{"group": value_label(r["group"], lang), "n": r["n"], "falls": r["falls"],
                      "recall": f"{_pct(r['recall'])} ({_ci(r['recall_ci'])})",
                      "ratio": "—" if r["recall_ratio"] is None else
                      f"{r['recall_ratio']:.2f} ({_ci(r['recall_ratio_ci'], pct=False)})",
                      "precision": _pct(r["precision"]), "fpr": _pct(r["fpr"]), "ece": _pct(r["ece"]),
                      "mean_vs_obs": f"{_pct(r['mean_predicted'])} / {_pct(r['observed_rate'])}",
                      "high_recall": _pct(r["high_tier"]["recall"]) if "high_tier" in r else "—",
                      "verdict": t[r["verdict"]], "css": r["verdict"].replace(" ", "-")} for r in rows],
        })
    i = 0 if lang == "zh" else 1
    fmt = {"min_falls": audit["min_falls"], "min_households": audit["min_households"],
           "lo": audit["fair_band"][0], "hi": audit["fair_band"][1]}
    limits = [pair[i].format(**fmt) for pair in LIMITS]
    o = audit["overall"]
    return _env().get_template("audit.html").render(
        lang=lang, t=t, audit=audit, attributes=attributes, limits=limits,
        overall_recall=f"{_pct(o['recall'])} ({_ci(o['recall_ci'])})",
        not_monitored=f"{_pct(audit['not_monitored_recall'])} ({_ci(audit['not_monitored_recall_ci'])})",
        mitigation=_mitigation(audit.get("mitigation"), lang))


def _mitigation(m: Mapping | None, lang: str) -> dict | None:
    if not m:
        return None
    t = _t(lang)
    groups = [g["group"] for g in m["strategies"][0]["groups"]]
    return {"attribute": label(m["attribute"], lang),
            "groups": [value_label(g, lang) for g in groups],
            "rows": [{"name": t[f"strategy_{s['strategy']}"],
                      "overall": f"{_pct(s['overall_recall'])} ({_ci(s['overall_recall_ci'])})",
                      "groups": [f"{_pct(g['recall'])} ({_ci(g['recall_ci'])})" for g in s["groups"]]}
                     for s in m["strategies"]],
            "cost": f"{m['overall_recall_cost']:+.1%} ({_ci(m['overall_recall_cost_ci'])})"}


def write_pages(audit: Mapping, folder: Path) -> list[Path]:
    """``audit.html`` (zh) and ``audit.en.html`` in ``folder``."""
    folder = Path(folder)
    paths = [folder / "audit.html", folder / "audit.en.html"]
    for path, lang in zip(paths, ("zh", "en")):
        path.write_text(render_audit(audit, lang), encoding="utf-8")
    return paths
