"""Integer codes the simulator computes with, derived from the contract's enum codes (never re-typed labels).

Arrays hold the position of a code in its contract enum; the writer turns positions back into codes/labels.
"""

from __future__ import annotations

from features.data import contract as c


def _index(values: dict[str, str]) -> dict[str, int]:
    return {code: i for i, code in enumerate(values)}


RELATION = _index(c.RELATION)
SEX = _index(c.SEX)
EDUCATION = _index(c.EDUCATION)
SCHOOL = _index(c.SCHOOL_STATUS)
HEALTH = _index(c.HEALTH)
SKILL = _index(c.LABOR_SKILL)
WORK = _index(c.WORK_LOCATION)
HOUSEHOLD_TYPE = _index(c.HOUSEHOLD_TYPE)
MONITORING_TYPE = _index(c.MONITORING_TYPE)
EVENT = _index(c.EVENT_TYPE)
SOURCE = _index(c.EVENT_SOURCE)

# Enum-lists are bit masks: bit i is the i-th code of the contract enum.
RISK_BIT = {code: 1 << i for i, code in enumerate(c.RISK_TYPE)}
ASSIST_BIT = {code: 1 << i for i, code in enumerate(c.ASSISTANCE)}

# Risk types in the order a county records them when more than MAX_RISK_TYPES apply.
RISK_PRIORITY = ("illness", "disability", "lack_labor", "education", "unstable_work", "disaster",
                 "accident", "business_failure", "unsafe_housing", "unsafe_water", "other")
