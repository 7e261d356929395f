"""The feature catalogue: the one list of model indicators, with what each means and which risk it speaks to.

Reports, explanations, the model and the service read it; nothing else lists features. The order of
``FEATURES`` is the column order of the indicator matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Family = Literal["income_structure", "subsidy_dependence", "illness", "labour", "education", "living",
                 "dynamics", "shocks", "profile"]

# Risk groups an explanation is summed into: code -> (zh, en). Contract risk types map onto them.
RISK_GROUPS: dict[str, tuple[str, str]] = {
    "illness": ("因病", "illness"),
    "education": ("因学", "education costs"),
    "disability": ("因残", "disability"),
    "disaster": ("因灾", "natural disaster"),
    "accident": ("因意外事故", "accident"),
    "business": ("产业经营", "farm or business failure"),
    "unstable_work": ("务工就业不稳", "unstable employment"),
    "lack_labor": ("缺劳动力", "lack of labour"),
    "housing": ("住房", "housing safety"),
    "water": ("饮水", "drinking-water safety"),
    "income_structure": ("收入结构", "income structure"),
    "subsidy_dependence": ("补贴依赖", "dependence on subsidies"),
}


@dataclass(frozen=True)
class Feature:
    """One indicator: the column name is the feature; the rest is how people read it."""

    name: str
    zh: str                      # Chinese description, as a cadre would say it
    en: str                      # English description
    unit: str                    # "yuan", "ratio", "share", "count", "days", "flag", "years", "mu", "km", "code"
    family: Family
    risk_group: str              # a key of RISK_GROUPS
    direction: Literal[1, -1, 0]  # +1: higher raises risk; -1: higher lowers risk; 0: no fixed direction
    categorical: bool = False
    vocabulary: tuple[str, ...] = field(default_factory=tuple)  # integer code i <-> vocabulary[i]; -1 unknown
