"""The groups an equity audit compares, derived from a round's household and member records.

One place for the attribute names, their zh/en labels and how each is computed. ``ethnic_minority`` is read
here and nowhere else on the scoring path: it is an audit column (contract ``AUDIT_ONLY_COLUMNS``), never an
indicator, never shown on a field page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

INTERSECTION = "×"
ELDERLY_AGE = 60
SIZE_BANDS = ((1, "1"), (2, "2"), (4, "3-4"), (10_000, "5+"))  # (largest size in band, label)


@dataclass(frozen=True)
class Attribute:
    name: str
    zh: str
    en: str


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("county", "县", "county"),
    Attribute("township", "乡镇", "township"),
    Attribute("household_type", "户类型", "household type"),
    Attribute("is_monitored", "是否已是监测对象", "already monitored"),
    Attribute("ethnic_minority", "少数民族户", "ethnic-minority household"),
    Attribute("head_sex", "户主性别", "sex of the household head"),
    Attribute("head_60_plus", "户主60岁及以上", "head aged 60+"),
    Attribute("disabled_member", "有残疾成员", "a disabled member"),
    Attribute("elderly_only", "纯老年户", "elderly-only household"),
    Attribute("relocated", "易地扶贫搬迁户", "relocated household"),
    Attribute("size_band", "家庭人口", "household size"),
)
BY_NAME = {a.name: a for a in ATTRIBUTES}
DEFAULT_ATTRIBUTES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
def _value_labels() -> dict[str, tuple[str, str]]:
    from features.data.contract import HOUSEHOLD_TYPE

    return {"yes": ("是", "yes"), "no": ("否", "no"), "M": ("男", "male"), "F": ("女", "female"),
            "(missing)": ("缺失", "missing"), **{code: (zh, code) for code, zh in HOUSEHOLD_TYPE.items()}}


def check_attribute(name: str) -> str:
    """A single or intersected attribute name (``county×head_sex`` or ``county*head_sex``), normalised."""
    parts = [p.strip() for p in name.replace("*", INTERSECTION).split(INTERSECTION)]
    unknown = [p for p in parts if p not in BY_NAME]
    if unknown or not all(parts):
        raise ValueError(f"unknown audit attribute {name!r}; allowed: {', '.join(DEFAULT_ATTRIBUTES)}, "
                         f"and intersections such as county{INTERSECTION}head_sex")
    return INTERSECTION.join(parts)


def label(attribute: str, lang: str) -> str:
    i = 0 if lang == "zh" else 1
    return INTERSECTION.join((BY_NAME[p].zh, BY_NAME[p].en)[i] for p in attribute.split(INTERSECTION))


def value_label(value: str, lang: str) -> str:
    i = 0 if lang == "zh" else 1
    labels = _value_labels()
    return INTERSECTION.join(labels.get(v, (v, v))[i] for v in value.split(INTERSECTION))


def _yes_no(values: pd.Series) -> pd.Series:
    b = values.astype("boolean")
    return pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), "yes", "no")), index=values.index,
                     dtype="object")


def size_band(size: pd.Series) -> pd.Series:
    s = pd.to_numeric(size, errors="coerce")
    out = pd.Series(None, index=size.index, dtype="object")
    low = 0
    for high, name in SIZE_BANDS:
        out[(s > low) & (s <= high)] = name
        low = high
    return out


# The columns the groups are made of: an audit reads only these of a round (a province's members are millions).
HOUSEHOLD_COLUMNS = ("household_id", "round_id", "county", "township", "household_type", "is_monitored",
                     "relocated", "ethnic_minority", "household_size")
MEMBER_COLUMNS = ("household_id", "round_id", "relation", "sex", "age", "health")


def member_groups(members: pd.DataFrame) -> pd.DataFrame:
    """Per (household_id, round_id): head sex, head 60+, any disabled member, all members 60+."""
    key = ["household_id", "round_id"]
    if members.empty:
        return pd.DataFrame(columns=[*key, "head_sex", "head_60_plus", "disabled_member", "elderly_only"])
    m = members[list(MEMBER_COLUMNS)]
    head = m[m["relation"].eq("head")].drop_duplicates(key)[[*key, "sex", "age"]]
    head = head.rename(columns={"sex": "head_sex", "age": "head_age"})
    agg = m.assign(disabled=m["health"].eq("disabled"), elderly=pd.to_numeric(m["age"]) >= ELDERLY_AGE)
    agg = agg.groupby(key, sort=False)[["disabled", "elderly"]].agg({"disabled": "any", "elderly": "all"})
    out = agg.reset_index().merge(head, on=key, how="left")
    out["head_60_plus"] = _yes_no(pd.to_numeric(out["head_age"]) >= ELDERLY_AGE).where(out["head_age"].notna(), None)
    out["disabled_member"] = _yes_no(out["disabled"])
    out["elderly_only"] = _yes_no(out["elderly"])
    return out[[*key, "head_sex", "head_60_plus", "disabled_member", "elderly_only"]]


def household_groups(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Every audit attribute per (household_id, round_id) record (values as strings; None where unknown)."""
    key = ["household_id", "round_id"]
    h = households
    out = h[key].copy()
    for col in ("county", "township", "household_type"):
        out[col] = h[col].astype("object")
    for col in ("is_monitored", "relocated"):
        out[col] = _yes_no(h[col])
    out["ethnic_minority"] = (_yes_no(h["ethnic_minority"]) if "ethnic_minority" in h.columns
                              else pd.Series(None, index=h.index, dtype="object"))
    out["size_band"] = size_band(h["household_size"])
    out = out.merge(member_groups(members), on=key, how="left")
    return out


def present_attributes(groups: pd.DataFrame, wanted: Sequence[str]) -> tuple[list[str], list[str]]:
    """The attributes with at least one known value, and those left out (wholly missing in the data)."""
    kept, dropped = [], []
    for attr in wanted:
        parts = attr.split(INTERSECTION)
        if all(p in groups.columns and groups[p].notna().any() for p in parts):
            kept.append(attr)
        else:
            dropped.append(attr)
    return kept, dropped
