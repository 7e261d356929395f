"""Inline SVG charts for the field reports: no external assets, no plotting library, prints crisply on A4.

Every piece of text is escaped here (the SVG is inserted into the page as markup), so a label taken from
the data cannot inject anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

RAISE = "#c0392b"   # factor raises the risk
LOWER = "#2e7d6b"   # factor lowers the risk
NEUTRAL = "#5b6770"
FONT = "font-family:inherit"


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 12, fill: str = "#222",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}" style="{FONT}">{escape(s)}</text>')


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _width(s: str) -> float:
    """Approximate rendered width in units of a 12 px font: CJK glyphs are square, Latin ones about half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in s) * 12


def wrap_label(label: str, width_px: float, lines: int = 2) -> list[str]:
    """A label in at most ``lines`` lines that fit ``width_px`` (breaking at spaces when it can); only text
    beyond the last line is cut, with an ellipsis."""
    out: list[str] = []
    rest = label
    while rest and len(out) < lines:
        if _width(rest) <= width_px:
            out.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and _width(rest[:cut]) > width_px:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > cut // 2:
            cut = space
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        last = out[-1]
        while last and _width(last + "…") > width_px:
            last = last[:-1]
        out[-1] = last + "…"
    return out


def waterfall(base: float, steps: Sequence[tuple[str, float]], final: float, *, base_label: str,
              final_label: str, axis_label: str, legend: tuple[str, str, str], value_format: str = "{:+.1f}",
              total_format: str = "{:.1f}", width: int = 760, label_width: int = 300) -> Markup:
    """Horizontal waterfall from the base value through each step to the household's value, in whatever unit
    the caller gives (the field report uses percentage points of risk). ``legend`` names the colours:
    (raises, lowers, totals); long labels wrap onto a second line instead of being cut."""
    line_h = 14
    wrapped = [wrap_label(lbl, label_width) for lbl in [base_label] + [lbl for lbl, _ in steps] + [final_label]]
    row_h = 26 if all(len(w) == 1 for w in wrapped) else 34
    top, bottom = 30, 34
    rows = [(None, base)] + [(v, None) for _, v in steps] + [(None, final)]
    height = top + bottom + row_h * len(rows)
    cum = [base]
    for _, v in steps:
        cum.append(cum[-1] + v)
    lo, hi = min(cum + [final, 0.0]), max(cum + [final, 0.0])
    pad = (hi - lo) * 0.1 or 1.0
    lo, hi = lo - pad * 0.3, hi + pad
    plot_x, plot_w = label_width + 10, width - label_width - 70
    label = escape(axis_label)

    def sx(v: float) -> float:
        return plot_x + (v - lo) / (hi - lo) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="{label}">']
    x = 10.0
    for color, text in zip((RAISE, LOWER, NEUTRAL), legend):
        parts.append(f'<rect x="{x:.1f}" y="6" width="12" height="12" fill="{color}" rx="2"/>')
        parts.append(_text(x + 16, 16, text, size=11, fill="#444"))
        x += 16 + _width(text) * 11 / 12 + 22
    parts.append(f'<line x1="{sx(0):.1f}" y1="{top}" x2="{sx(0):.1f}" y2="{height - bottom}" stroke="#bbb" '
                 'stroke-dasharray="3,3"/>')
    running = base
    for i, ((value, total), lines) in enumerate(zip(rows, wrapped)):
        y = top + i * row_h
        first = y + row_h / 2 + 4 - (len(lines) - 1) * line_h / 2
        for k, text in enumerate(lines):
            parts.append(_text(label_width, first + k * line_h, text, anchor="end", size=12))
        if value is None:
            x0, x1, color = sx(min(0.0, total)), sx(max(0.0, total)), NEUTRAL
            shown = total_format.format(total)
        else:
            start, running = running, running + value
            x0, x1 = sx(min(start, running)), sx(max(start, running))
            color, shown = (RAISE if value > 0 else LOWER), value_format.format(value)
        parts.append(f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1.5):.1f}" height="{row_h - 10}" '
                     f'fill="{color}" rx="2"/>')
        parts.append(_text(x1 + 4, y + row_h / 2 + 4, shown, size=11, fill="#444"))
    for tick in _ticks(lo, hi):
        parts.append(_text(sx(tick), height - bottom + 14, f"{tick:g}", anchor="middle", size=10, fill="#666"))
    parts.append(_text(plot_x + plot_w / 2, height - 4, axis_label, anchor="middle", size=11, fill="#444"))
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    raw = (hi - lo) / n
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 10) for k in range(int((hi - first) / step) + 1)]


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str, value_format: str = "{:.2f}",
               reference: float | None = None, reference_label: str = "", y_min: float | None = None,
               y_max: float | None = None, width: int = 280, height: int = 180, color: str = "#1f5f8b") -> Markup:
    """A small line chart of one value across rounds (missing values leave a gap), with an optional
    reference line (e.g. the monitoring line at ratio 1)."""
    left, right, top, bottom = 36, 10, 28, 30
    vals = [v for _, v in points if v is not None and not math.isnan(v)]
    lo = min(vals + ([reference] if reference is not None else []) + ([y_min] if y_min is not None else []), default=0.0)
    hi = max(vals + ([reference] if reference is not None else []) + ([y_max] if y_max is not None else []), default=1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.1
    lo, hi = (lo - pad if y_min is None else y_min), (hi + pad if y_max is None else y_max)
    pw, ph = width - left - right, height - top - bottom
    n = max(len(points), 1)

    def sx(i: int) -> float:
        return left + (pw * (i + 0.5) / n)

    def sy(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}">', _text(4, 16, title, size=13, weight="bold"),
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ddd"/>']
    for tick in _ticks(lo, hi, 4):
        if lo <= tick <= hi:
            parts.append(_text(left - 4, sy(tick) + 4, f"{tick:g}", anchor="end", size=11, fill="#555"))
    if reference is not None:
        parts.append(f'<line x1="{left}" y1="{sy(reference):.1f}" x2="{left + pw}" y2="{sy(reference):.1f}" '
                     f'stroke="{RAISE}" stroke-dasharray="4,3"/>')
        parts.append(_text(left + pw - 2, sy(reference) - 3, reference_label, anchor="end", size=11, fill=RAISE))
    path, pen = [], "M"
    for i, (label, v) in enumerate(points):
        parts.append(_text(sx(i), height - bottom + 16, label, anchor="middle", size=11, fill="#333"))
        if v is None or math.isnan(v):
            pen = "M"
            continue
        path.append(f"{pen}{sx(i):.1f},{sy(v):.1f}")
        pen = "L"
        parts.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="3" fill="{color}"/>')
        parts.append(_text(sx(i), sy(v) - 6, value_format.format(v), anchor="middle", size=11, fill=color))
    if path:
        parts.insert(3, f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
