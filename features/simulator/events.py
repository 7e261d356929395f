"""The year's shocks as the events table: dated strictly between a household's two surveys, with about a
quarter never reported (as in reality: self-declaration and cadre visits miss some)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.simulator import codes as K

REPORTED_SHARE = 0.75
# Ethnic-minority households of remote villages report fewer shocks (language, distance to the township):
# the kind of gap an equity audit exists to find. Chosen for the simulator, not measured.
MINORITY_REPORTED_SHARE = 0.45
# Medical events reach the county mostly through the medical-insurance system's alerts (行业部门预警).
_SOURCE_P_MEDICAL = np.array([0.3, 0.2, 0.5])  # self_report, cadre_visit, department_alert
_SOURCE_P_OTHER = np.array([0.45, 0.4, 0.15])
_MEDICAL = (K.EVENT["serious_illness"], K.EVENT["hospitalization"], K.EVENT["accident"])


def event_rows(events: list[dict[str, np.ndarray]], prev_day: np.ndarray, next_day: np.ndarray,
               keep: np.ndarray, rng: np.random.Generator,
               minority: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Reported events of the households in ``keep`` as arrays: household index, member number (-1: none),
    type code, day (days since epoch), amount and source code. ``prev_day``/``next_day`` are each household's
    survey days; an event's day is placed by its fraction of the year strictly between them."""
    cat = {k: np.concatenate([e[k] for e in events]) if events else np.zeros(0) for k in
           ("hh", "mid", "type", "frac", "amount")}
    hh = cat["hh"].astype(np.int64)
    n = len(hh)
    u = rng.random((2, n))
    share = REPORTED_SHARE if minority is None else np.where(minority[hh], MINORITY_REPORTED_SHARE, REPORTED_SHARE)
    ok = keep[hh] & (u[0] < share)
    gap = next_day[hh] - prev_day[hh]
    day = prev_day[hh] + 1 + np.floor(np.clip(cat["frac"], 0, 0.999999) * (gap - 1)).astype(np.int64)
    medical = np.isin(cat["type"], _MEDICAL)
    cum = np.where(medical[:, None], np.cumsum(_SOURCE_P_MEDICAL), np.cumsum(_SOURCE_P_OTHER))
    source = (u[1][:, None] >= cum).sum(axis=1)
    out = {"hh": hh, "mid": cat["mid"].astype(np.int64), "type": cat["type"].astype(np.int64), "day": day,
           "amount": np.clip(np.rint(cat["amount"]), 0, 9_999_999), "source": np.minimum(source, 2)}
    out = {k: v[ok] for k, v in out.items()}
    # The key is (household, date, type): two members' same-day events of a kind are one report.
    frame = pd.DataFrame(out).drop_duplicates(["hh", "day", "type"]).sort_values(["hh", "day", "type"])
    return {k: frame[k].to_numpy() for k in frame.columns}
