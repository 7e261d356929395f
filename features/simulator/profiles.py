"""What the simulated survey records. ``full``: every contract column and the reported events. ``sparse``: a
thin panel as many counties (and public household-income panels) have it — only the contract's required
columns plus ``monitoring_type`` for monitored households, no events, and incomes rounded as a hurried survey
writes them down (to 500 yuan; spending to 100 yuan)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from features.data.contract import TABLES, Table

Profile = Literal["full", "sparse"]
PROFILES: tuple[str, ...] = ("full", "sparse")
SPARSE_EXTRA = {"households": ("monitoring_type",)}
INCOME_STEP = 500.0    # yuan: wage, operating, property and transfer income, operating expense
SPENDING_STEP = 100.0  # yuan: medical and education spending
SPENDING = ("medical_expense", "education_expense")


def table_of(name: str, profile: Profile) -> Table | None:
    """The contract table as the profile writes it (fewer columns), or None when it is not written."""
    t = TABLES[name]
    if profile == "full":
        return t
    if name == "events":
        return None
    keep = set(t.required) | set(SPARSE_EXTRA.get(name, ()))
    return replace(t, columns=tuple(c for c in t.columns if c.name in keep))


def recorded(name: str, frame: pd.DataFrame, profile: Profile) -> pd.DataFrame | None:
    """The rows and columns of one simulated table that the profile's survey records."""
    t = table_of(name, profile)
    if t is None:
        return None
    out = frame[t.names].copy()
    if profile == "sparse":
        for c in t.columns:
            if c.type == "money":
                step = SPENDING_STEP if c.name in SPENDING else INCOME_STEP
                out[c.name] = np.round(out[c.name].astype("float64") / step) * step
    return out
