"""The drift report as an HTML page (zh and en): verdict and reasons, the score, segments, and the top
movers as small multiples (reference vs round share per quantile bin, inline SVG, no external assets)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from markupsafe import Markup

REF_COLOUR, ROUND_COLOUR = "#9aa5ad", "#c0392b"
METRICS = {"positive_rate": ("预期返贫率（落入监测线以下的比例）", "expected positive rate (share falling below the line)"),
           "recall_at_10pct": ("预期召回率@10%", "expected recall@10%"),
           "precision_at_10pct": ("预期精确率@10%", "expected precision@10%")}
SEGMENT_BY = {"county": ("县", "county"), "household_type": ("户类型", "household type"),
              "source": ("信息来源/县", "source/county")}


def _segment_value(segment: dict, lang: str) -> str:
    """The segment's value as the page's language shows it: contract labels for codes on the zh page."""
    from features.data.contract import TABLES

    value = str(segment["value"])
    if lang != "zh":
        return value.replace("_", " ") if segment["by"] != "county" else value
    if segment["by"] == "household_type":
        return TABLES["households"].column("household_type").values.get(value, value)
    if segment["by"] == "source":
        source, _, county = value.partition("/")
        return f"{TABLES['events'].column('source').values.get(source, source)}/{county}"
    return value


def small_multiple(ref: list[float], cur: list[float], width: int = 220, height: int = 90) -> Markup:
    """Paired bars per bin (reference grey, round red); the last bin is "missing"."""
    n = max(len(ref), 1)
    top = max(ref + cur + [1e-9])
    slot = width / n
    bars = []
    for i, (a, b) in enumerate(zip(ref, cur)):
        for k, (v, colour) in enumerate(((a, REF_COLOUR), (b, ROUND_COLOUR))):
            h = (height - 14) * v / top
            x = i * slot + 1 + k * (slot - 2) / 2
            bars.append(f'<rect x="{x:.1f}" y="{height - 12 - h:.1f}" width="{(slot - 2) / 2:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"/>')
    axis = f'<line x1="0" y1="{height - 12}" x2="{width}" y2="{height - 12}" stroke="#555" stroke-width="0.5"/>'
    label = (f'<text x="{width - 2}" y="{height - 1}" font-size="9" text-anchor="end" fill="#555">'
             f'{escape("NA")}</text>')
    return Markup(f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
                  f'{"".join(bars)}{axis}{label}</svg>')


def render(report: dict, lang: str) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from features.indicators.catalogue import by_name

    env = Environment(loader=PackageLoader("serving", "templates"), autoescape=True, undefined=StrictUndefined)
    movers = [dict(d, label=(by_name(d["name"]).zh if lang == "zh" else by_name(d["name"]).en),
                   chart=small_multiple(d["shares_reference"], d["shares_round"]))
              for d in report["indicators"] if "shares_reference" in d]
    k = 0 if lang == "zh" else 1
    segments = [dict(s, by_label=SEGMENT_BY.get(s["by"], (s["by"],) * 2)[k], value_label=_segment_value(s, lang))
                for s in report["segments"]]
    return env.get_template("drift.html").render(r=report, lang=lang, movers=movers, segments=segments,
                                                 metric_labels={m: v[k] for m, v in METRICS.items()},
                                                 ref_colour=REF_COLOUR, round_colour=ROUND_COLOUR)


def write_pages(report: dict, out: Path) -> list[Path]:
    """``drift-<round>.zh.html`` and ``drift-<round>.en.html`` in ``out``."""
    paths = []
    for lang in ("zh", "en"):
        path = Path(out) / f"drift-{report['round']}.{lang}.html"
        path.write_text(render(report, lang), encoding="utf-8")
        paths.append(path)
    return paths
