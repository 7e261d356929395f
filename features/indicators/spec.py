"""What an indicator is: its function and what people need to read it, declared together where it is computed.

Each family module creates ``indicator = Indicators("<family>")`` and decorates its functions::

    @indicator("停止政策支持即低于监测标准", "would fall below the line if policy transfers stopped",
               unit="flag", group="subsidy_dependence", direction=1, reason={True: (...), False: (...)})
    def cliff_below_line(ctx: Context) -> np.ndarray: ...

The function name is the column; ``features.indicators.catalogue`` lists the family modules explicitly and
derives the catalogue (and the matrix column order) from them, so nothing is registered by importing a module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from features.indicators.context import Context

FeatureFn = Callable[["Context"], np.ndarray]
Family = Literal["income_structure", "subsidy_dependence", "illness", "labour", "education", "living",
                 "dynamics", "shocks", "profile"]
Direction = Literal[1, -1, 0]
# A reason sentence: a (zh, en) pair of format strings over the indicator row (``{medical_expense:yuan}``), or
# for a flag one pair for "yes" (True) and one for "no" (False). See ``models.reasons``.
Pair = tuple[str, str]
Template = Pair | dict[bool, Pair]

# The family order is the order of the matrix columns (a saved model refuses any other order).
FAMILIES: tuple[str, ...] = ("profile", "income_structure", "subsidy_dependence", "illness", "labour", "education",
                             "living", "dynamics", "shocks")
UNITS: tuple[str, ...] = ("yuan", "yuan/person", "ratio", "share", "count", "persons", "months", "days", "flag",
                          "years", "mu", "mu/person", "km", "code", "level")
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
    unit: str                    # one of UNITS
    family: Family
    risk_group: str              # a key of RISK_GROUPS
    direction: Direction         # +1: higher raises risk; -1: higher lowers risk; 0: no fixed direction
    categorical: bool = False
    vocabulary: tuple[str, ...] = field(default_factory=tuple)  # integer code i <-> vocabulary[i]; -1 unknown
    reason: Template | None = field(default=None, compare=False, hash=False)  # None: a generic sentence
    compute: FeatureFn | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def concept(self) -> str:
        """The one fact this indicator states; a reason list names each concept once (see ``CONCEPTS``)."""
        from features.indicators.catalogue import concept_of

        return concept_of(self.name)


class Indicators:
    """The indicators of one family module, in definition order: a decorator for hand-written functions and
    ``add`` for generated ones (one per contract code or event group)."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.features: list[Feature] = []

    def __call__(self, zh: str, en: str, *, unit: str, group: str, direction: Direction,
                 reason: Template | None = None, vocabulary: tuple[str, ...] = (),
                 family: Family | None = None) -> Callable[[FeatureFn], FeatureFn]:
        """Declare the decorated function as the indicator named like it; the function is returned unchanged."""
        def declare(fn: FeatureFn) -> FeatureFn:
            self.add(fn.__name__, fn, zh, en, unit=unit, group=group, direction=direction, reason=reason,
                     vocabulary=vocabulary, family=family)
            return fn

        return declare

    def add(self, name: str, fn: FeatureFn, zh: str, en: str, *, unit: str, group: str, direction: Direction,
            reason: Template | None = None, vocabulary: tuple[str, ...] = (), family: Family | None = None) -> None:
        """Declare ``fn`` as the indicator ``name`` (checked here, so a typo fails at import with its name)."""
        family = family or self.family
        checks = {f"unit {unit!r} not in {UNITS}": unit in UNITS,
                  f"risk group {group!r} not in {tuple(RISK_GROUPS)}": group in RISK_GROUPS,
                  f"family {family!r} not in {FAMILIES}": family in FAMILIES,
                  f"direction {direction!r} not -1, 0 or 1": direction in (-1, 0, 1),
                  "declared twice": all(f.name != name for f in self.features)}
        problems = [message for message, ok in checks.items() if not ok]
        if problems:
            raise ValueError(f"indicator {name!r}: {'; '.join(problems)}")
        self.features.append(Feature(name, zh, en, unit, family, group, direction, categorical=bool(vocabulary),
                                     vocabulary=tuple(vocabulary), reason=reason, compute=fn))
