"""Recent shocks: events reported before the as-of date, by kind — what lets a household be re-scored
between rounds.

Two windows: the 365 days before the as-of date, and since the latest survey (events up to the survey are
already in that record's 12-month money fields; later ones are news). An event dated on the as-of date is
known; one a day later is not (``build.py`` drops it). Missing amounts count as 0 yuan.
"""

from __future__ import annotations

import numpy as np

from features.indicators.catalogue import SHOCK_GROUPS
from features.indicators.context import Context, map_values, register

WINDOW_DAYS = 365
_GROUP_OF_TYPE = {t: i for i, (types, *_rest) in enumerate(SHOCK_GROUPS.values()) for t in types}


def _event_arrays(ctx: Context) -> dict[str, np.ndarray]:
    """Per event: shock group index (-1 unknown type), household row, days before as-of, amount, and
    whether it happened after the latest survey."""
    if "_events" not in ctx.memo:
        ev = ctx.events
        ctx.memo["_events"] = {
            "group": map_values(ev["event_type"], _GROUP_OF_TYPE, -1).astype("int64"),
            "row": ev["row"].to_numpy(dtype="int64"),
            "days": ev["days_before"].to_numpy(dtype="float64"),
            "amount": ev["amount"].to_numpy(dtype="float64", na_value=np.nan),
            "after_survey": ev["after_survey"].to_numpy(dtype=bool),
        }
    return ctx.memo["_events"]


def _per_group(ctx: Context, group: int, mask_name: str, amount: bool) -> np.ndarray:
    e = _event_arrays(ctx)
    keep = e["group"] == group
    keep &= (e["days"] < WINDOW_DAYS) if mask_name == "365d" else e["after_survey"]
    weights = np.nan_to_num(e["amount"][keep], nan=0.0) if amount else None
    return np.bincount(e["row"][keep], weights=weights, minlength=ctx.n).astype("float64")


def _days_since(ctx: Context, group: int) -> np.ndarray:
    e = _event_arrays(ctx)
    keep = e["group"] == group
    out = np.full(ctx.n, np.inf)
    np.minimum.at(out, e["row"][keep], e["days"][keep])
    out[np.isinf(out)] = np.nan
    return out


def _make(group: int, name: str, kind: str):
    if kind == "days":
        def fn(ctx: Context) -> np.ndarray:
            return _days_since(ctx, group)
        fn.__doc__ = f"Days since the latest {name} event known at as-of (NaN: none)."
    else:
        window, amount = kind.split(":")
        def fn(ctx: Context) -> np.ndarray:
            return _per_group(ctx, group, window, amount == "amount")
        fn.__doc__ = f"{name} events: {amount} within window {window}."
    return fn


for _i, _g in enumerate(SHOCK_GROUPS):
    register(f"shock_{_g}_count_365d", _make(_i, _g, "365d:count"))
    register(f"shock_{_g}_amount_365d", _make(_i, _g, "365d:amount"))
    register(f"shock_{_g}_count_since_survey", _make(_i, _g, "since_survey:count"))
    register(f"shock_{_g}_amount_since_survey", _make(_i, _g, "since_survey:amount"))
    register(f"shock_{_g}_days_since", _make(_i, _g, "days"))
