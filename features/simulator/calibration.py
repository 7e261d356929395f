"""The calibration measures of CALIBRATION.md, computed from the simulator's contract output only (the same
functions serve the tests, the doc's table and the bench), so a target is checked the way it is reported."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features.data.derived import hardship_income_pc, monitoring_line, net_income

# target name -> (value aimed at, tolerance the tests allow, source)
TARGETS: dict[str, tuple[float, float, str]] = {
    "wage_share": (0.353, 0.06, "NBS, poverty-stricken areas 2019: wage 35.3% of disposable income"),
    "operating_share": (0.360, 0.06, "NBS, poverty-stricken areas 2019: net operating 36.0%"),
    "property_share": (0.014, 0.01, "NBS, poverty-stricken areas 2019: property 1.4%"),
    "transfer_share": (0.273, 0.06, "NBS, poverty-stricken areas 2019: transfer 27.3%"),
    "income_pc_first_year": (14051.0, 1700.0, "NBS: per-capita disposable income of 脱贫县 2021, 14,051 yuan"),
    "income_growth": (0.065, 0.035, "NBS: 脱贫县 income growth ~6-7% a year 2022-2024 (nominal)"),
    "below_line_share": (0.11, 0.04, "Yunnan county 2020 screening: marginal + monitored = 11.18% of "
                                     "registered poor population (the monitoring range ≈ 1.5x the poverty line)"),
    "illness_share_of_monitored": (0.42, 0.12, "42.4% (2013) / 44.1% (2015) of registered poor households poor "
                                               "through illness (NHFPC); illness the leading risk type"),
    "label_rate": (0.05, 0.03, "re-poverty of escaped households: a few percent a year (Henan county 1.13% "
                               "risk; panels ~15% within 3-5 years); label base rate 2-8%"),
}


def _line(h: pd.DataFrame) -> np.ndarray:
    return monitoring_line(h["province"], h["survey_date"].dt.year).to_numpy()


def round_measures(h: pd.DataFrame) -> dict[str, float]:
    """Composition of net income (aggregate shares), income per capita, share below the line, illness share."""
    net = net_income(h).sum()
    hp = hardship_income_pc(h).to_numpy()
    monitored = h[h["is_monitored"].astype(bool)]
    ill = monitored["risk_types"].str.split(";").map(lambda xs: "illness" in xs)
    return {
        "wage_share": float(h["wage_income"].sum() / net),
        "operating_share": float((h["operating_income"] - h["operating_expense"]).sum() / net),
        "property_share": float(h["property_income"].sum() / net),
        "transfer_share": float(h["transfer_income"].sum() / net),
        "income_pc": float(net / h["household_size"].sum()),
        "below_line_share": float(np.mean(hp < _line(h))),
        "below_1_5_line_share": float(np.mean(hp < 1.5 * _line(h))),
        "monitored_share": float(h["is_monitored"].astype(bool).mean()),
        "illness_share_of_monitored": float(ill.mean()) if len(monitored) else float("nan"),
    }


def label_pairs(h0: pd.DataFrame, h1: pd.DataFrame) -> pd.DataFrame:
    """The contract's label between two consecutive rounds: households at or above the line at t, positive
    when below the line of t+1 at t+1. Columns: household_id, falls_below_line."""
    a = pd.DataFrame({"household_id": h0["household_id"], "hp0": hardship_income_pc(h0), "l0": _line(h0)})
    b = pd.DataFrame({"household_id": h1["household_id"], "hp1": hardship_income_pc(h1), "l1": _line(h1)})
    j = a[a["hp0"] >= a["l0"]].merge(b, on="household_id")
    return pd.DataFrame({"household_id": j["household_id"], "falls_below_line": (j["hp1"] < j["l1"]).to_numpy()})


def measures(households: Iterable[pd.DataFrame]) -> dict[str, float]:
    """All measures over a run: first-round composition and level, mean yearly growth of income per capita,
    shares averaged over rounds, the pooled label rate."""
    rounds = list(households)
    per = [round_measures(h) for h in rounds]
    out = {k: per[0][k] for k in ("wage_share", "operating_share", "property_share", "transfer_share")}
    out["income_pc_first_year"] = per[0]["income_pc"]
    years = len(per) - 1
    out["income_growth"] = (per[-1]["income_pc"] / per[0]["income_pc"]) ** (1 / years) - 1 if years else float("nan")
    for k in ("below_line_share", "below_1_5_line_share", "monitored_share", "illness_share_of_monitored"):
        out[k] = float(np.nanmean([p[k] for p in per]))
    labels = [label_pairs(a, b)["falls_below_line"] for a, b in zip(rounds, rounds[1:])]
    out["label_rate"] = float(pd.concat(labels).mean()) if labels else float("nan")
    return out
