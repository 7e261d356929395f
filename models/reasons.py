"""Reason sentences (zh + en) that quote the household's own indicator values.

Each indicator declares its template beside its function (``reason=`` of ``@indicator``, read here as
``Feature.reason``). A template is a pair of format strings over the indicator row: ``{medical_expense:yuan}``
is the value of the ``medical_expense`` indicator written as money in the sentence's language. Flags have one pair for "yes" and
one for "no". Features without a template get a generic sentence from the catalogue description, value and
unit, so a new indicator is explained the day it is added.

Format specs: ``yuan`` money, ``pct`` share as percent, ``x`` ratio (two decimals), ``n`` whole number,
``d1`` one decimal. A missing value reads "未知" / "unknown".
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from features.data.contract import MONITORING_TYPE
from features.indicators.catalogue import by_name
from features.indicators.spec import Feature, Pair

Lang = Literal["zh", "en"]

UNKNOWN = {"zh": "未知", "en": "unknown"}


def _num(v: float, spec: str, lang: Lang) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return UNKNOWN[lang]
    if spec == "yuan":
        return f"{v:,.0f} 元" if lang == "zh" else f"{v:,.0f} yuan"
    if spec == "pct":
        return f"{v * 100:.0f}%" if v < 10 else ("1000% 以上" if lang == "zh" else "over 1000%")
    if spec == "x":
        return f"{v:.2f}"
    if spec == "n":
        return f"{v:.0f}"
    if spec == "d1":
        return f"{v:.1f}"
    if spec in _SIGNED:
        words, inner = _SIGNED[spec]
        up, down = words[lang]
        return (up if v >= 0 else down).format(_num(abs(v), inner, lang))
    return format(v, spec)


# Signed specs: the sign becomes a word ("减少 1,000 元", "fell by 1,000 yuan") instead of a minus.
_SIGNED: dict[str, tuple[dict[str, tuple[str, str]], str]] = {
    "delta": ({"zh": ("增加 {}", "减少 {}"), "en": ("rose by {}", "fell by {}")}, "yuan"),
    "pct_delta": ({"zh": ("增长 {}", "下降 {}"), "en": ("rose by {}", "fell by {}")}, "pct"),
    "x_delta": ({"zh": ("上升 {}", "下降 {}"), "en": ("rose by {}", "fell by {}")}, "x"),
    "gap": ({"zh": ("高于监测标准 {}", "低于监测标准 {}"), "en": ("{} above the line", "{} below the line")}, "yuan"),
}


@lru_cache(maxsize=None)
def _compiled(fmt: str) -> tuple[tuple[str, str | None, str], ...]:
    """A template parsed once into (literal, indicator name, spec) pieces (``string.Formatter`` syntax)."""
    return tuple((lit, name or None, spec or "") for lit, name, spec, _ in string.Formatter().parse(fmt))


def _render(fmt: str, row: Mapping[str, float], lang: Lang) -> str:
    out = []
    for lit, name, spec in _compiled(fmt):
        out.append(lit)
        if name is not None:
            value = row.get(name)
            out.append(_num(float("nan") if value is None else float(value), spec, lang))
    return "".join(out)


UNIT_WORDS: dict[str, Pair] = {
    "yuan": ("", ""), "yuan/person": ("", ""), "persons": ("人", "persons"), "count": ("", ""),
    "months": ("个月", "months"), "days": ("天", "days"), "years": ("年", "years"), "mu": ("亩", "mu"),
    "mu/person": ("亩/人", "mu per person"), "km": ("公里", "km"),
}
_CODE_LABELS = {"monitoring_type": {c: (z, c.replace("_", " ")) for c, z in MONITORING_TYPE.items()}}


def format_value(feature: Feature, value: float | None, lang: Lang) -> str:
    """A value in the feature's unit, as a reader of ``lang`` expects it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN[lang]
    if feature.categorical:
        i = int(value)
        if not 0 <= i < len(feature.vocabulary):
            return UNKNOWN[lang]
        code = feature.vocabulary[i]
        zh, en = _CODE_LABELS.get(feature.name, {}).get(code, (code, code))
        return zh if lang == "zh" else en
    if feature.unit == "flag":
        return ("是" if value >= 0.5 else "否") if lang == "zh" else ("yes" if value >= 0.5 else "no")
    if feature.unit in ("yuan", "yuan/person"):
        return _num(value, "yuan", lang) + ("/人" if feature.unit == "yuan/person" and lang == "zh" else
                                            " per person" if feature.unit == "yuan/person" else "")
    if feature.unit == "share":
        return _num(value, "pct", lang)
    if feature.unit in ("ratio", "level"):
        return _num(value, "x", lang)
    word = UNIT_WORDS.get(feature.unit, ("", ""))[0 if lang == "zh" else 1]
    number = _num(value, "n" if float(value).is_integer() else "d1", lang)
    return f"{number} {word}".strip()


def _generic(feature: Feature, value: float | None, lang: Lang) -> str:
    if lang == "zh":
        return f"{feature.zh}：{format_value(feature, value, 'zh')}"
    return f"{feature.en[:1].upper()}{feature.en[1:]}: {format_value(feature, value, 'en')}"


def sentence(name: str, row: Mapping[str, float], lang: Lang = "zh") -> str:
    """One reason sentence for indicator ``name`` of a household's indicator ``row``."""
    feature = by_name(name)
    template = feature.reason
    value = row.get(name)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if template is None or missing:
        return _generic(feature, value, lang)
    if isinstance(template, dict):
        template = template[bool(value >= 0.5)]
    fmt = template[0] if lang == "zh" else template[1]
    return _render(fmt, row, lang)



# ---- many households at once (the batch path; ``sentence`` is the reference it is held to, see the tests)

def _each(fn, values: np.ndarray) -> np.ndarray:
    """``fn(float(v))`` for every value as an object array of str, called once per distinct value (by bit
    pattern, so 0.0 and -0.0 stay apart): counts, flags and codes repeat across a county."""
    codes, distinct = pd.factorize(np.ascontiguousarray(values, dtype="float64").view(np.int64))
    return np.array([fn(float(v)) for v in distinct.view(np.float64)], dtype=object)[codes]


def _column(values: np.ndarray, row_index: Mapping[str, int], name: str) -> np.ndarray:
    """Indicator ``name`` of every row of ``values`` (laid out by ``row_index``); NaN when the table lacks it."""
    j = row_index.get(name)
    return values[:, j] if j is not None else np.full(len(values), np.nan)


def _render_many(fmt: str, values: np.ndarray, row_index: Mapping[str, int], lang: Lang) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    for lit, name, spec in _compiled(fmt):
        if lit:
            out = out + lit
        if name is not None:
            out = out + _each(lambda v, spec=spec: _num(v, spec, lang), _column(values, row_index, name))
    return out


def sentences(name: str, values: np.ndarray, row_index: Mapping[str, int], lang: Lang = "zh") -> np.ndarray:
    """``sentence(name, row, lang)`` for every row of ``values`` (households' indicator values laid out by
    ``row_index``), as an object array of str: one template applied to a column at a time."""
    feature = by_name(name)
    template = feature.reason
    own = _column(values, row_index, name)
    out = np.empty(len(values), dtype=object)
    generic = np.isnan(own) if template is not None else np.ones(len(values), dtype=bool)
    if generic.any():
        out[generic] = _each(lambda v: _generic(feature, v, lang), own[generic])
    variants = template.items() if isinstance(template, dict) else [(None, template)] if template else []
    for flag, pair in variants:
        rows = ~generic if flag is None else ~generic & ((own >= 0.5) == flag)
        if rows.any():
            out[rows] = _render_many(pair[0] if lang == "zh" else pair[1], values[rows], row_index, lang)
    return out
