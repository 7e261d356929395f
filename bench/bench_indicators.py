"""Throughput of the point-in-time indicators: N households x R rounds of history -> one row each.

Goal: 1M households x 5 rounds in under a minute on 2 cores. Default here: 200k x 5 (keeps the bench
under ~2 minutes including data generation); the rows/s figure extrapolates. Data are canonical frames drawn
with vectorised numpy (not the simulator: only shapes and dtypes matter for speed).
Run: ``.venv/bin/python -m bench.bench_indicators [N]``.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from features.data.canonical import cast
from features.data.contract import EVENT_TYPE, HOUSEHOLDS, MEMBERS

ROUND_DATES = pd.to_datetime(["2021-11-15", "2022-11-15", "2023-11-15", "2024-11-15", "2025-11-15"])


def _codes(rng: np.random.Generator, values: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def make_frames(n: int, rounds: int = 5, members_per_household: int = 4, events_per_household: float = 1.0,
                seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Canonical households, members, events for ``n`` households over ``rounds`` rounds."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("h", np.arange(n).astype(str)).astype(object)
    nr = n * rounds
    hid = np.tile(ids, rounds)
    rnd = np.repeat(np.arange(rounds), n)
    money = lambda scale: np.round(rng.gamma(2.0, scale / 2.0, nr), 0)  # noqa: E731
    transfer = money(3000)
    h = pd.DataFrame({
        "household_id": hid, "round_id": ROUND_DATES[rnd].year.astype(str).to_numpy(dtype=object),
        "survey_date": ROUND_DATES[rnd] + pd.to_timedelta(rng.integers(0, 20, nr), unit="D"),
        "province": _codes(rng, ("P1", "P2", "P3"), nr), "county": _codes(rng, ("C1", "C2"), nr),
        "township": "T", "village": _codes(rng, tuple(f"V{i}" for i in range(50)), nr),
        "household_type": _codes(rng, ("escaped", "general"), nr), "is_monitored": rng.random(nr) < 0.1,
        "risk_types": _codes(rng, ("", "", "illness", "illness;lack_labor", "unstable_work"), nr),
        "relocated": rng.random(nr) < 0.05, "household_size": rng.integers(1, 7, nr),
        "wage_income": money(30000), "operating_income": money(12000), "operating_expense": money(4000),
        "property_income": money(800), "transfer_income": transfer, "dibao_income": np.round(transfer * 0.3),
        "pension_income": np.round(transfer * 0.3), "medical_expense": money(2500), "education_expense": money(1500),
        "housing_safe": rng.random(nr) < 0.97, "water_safe": rng.random(nr) < 0.97,
        "cultivated_land_mu": np.round(rng.gamma(2.0, 2.0, nr), 1), "road_distance_km": rng.gamma(2.0, 3.0, nr),
        "assistance": _codes(rng, ("", "industry", "health;social_security", "employment;public_job"), nr),
    })
    h["monitoring_type"] = np.where(h["is_monitored"], "marginal", None)
    nm = nr * members_per_household
    m = pd.DataFrame({
        "household_id": np.repeat(hid, members_per_household),
        "round_id": np.repeat(h["round_id"].to_numpy(), members_per_household),
        "member_id": np.tile(np.arange(members_per_household).astype(str).astype(object), nr),
        "relation": _codes(rng, tuple(MEMBERS.column("relation").codes), nm), "sex": _codes(rng, ("M", "F"), nm),
        "age": rng.integers(0, 90, nm), "education": _codes(rng, tuple(MEMBERS.column("education").codes), nm),
        "school_status": _codes(rng, tuple(MEMBERS.column("school_status").codes), nm),
        "health": _codes(rng, ("healthy", "healthy", "healthy", "chronic", "serious", "disabled"), nm),
        "labor_skill": _codes(rng, tuple(MEMBERS.column("labor_skill").codes), nm),
        "work_location": _codes(rng, tuple(MEMBERS.column("work_location").codes), nm),
        "work_months": rng.integers(0, 13, nm), "basic_medical_insurance": rng.random(nm) < 0.98,
        "critical_illness_insurance": rng.random(nm) < 0.9,
    })
    ne = int(n * events_per_household * rounds)
    e = pd.DataFrame({
        "household_id": ids[rng.integers(0, n, ne)],
        "event_date": ROUND_DATES[0] + pd.to_timedelta(rng.integers(0, 365 * rounds, ne), unit="D"),
        "event_type": _codes(rng, tuple(EVENT_TYPE), ne), "amount": np.round(rng.gamma(1.5, 4000, ne)),
    })
    return cast(HOUSEHOLDS, h), cast("members", m), cast("events", e)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n: int = 200_000, rounds: int = 5) -> dict[str, float]:
    """Generate, build indicators at an as-of date after the last round, and report rows/s and peak memory."""
    from features.indicators import build_indicators, indicators_for
    from features.indicators.build import build_context

    t0 = time.perf_counter()
    h, m, e = make_frames(n, rounds)
    t_gen = time.perf_counter() - t0
    rss_data = _peak_rss_mb()
    as_of = pd.Timestamp("2026-03-01")
    t0 = time.perf_counter()
    build_context(h, m, e, None, as_of)
    t_slice = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = build_indicators(h, m, e, None, as_of)
    t_build = time.perf_counter() - t0
    assert len(out) == n
    # one household through the service path (Household JSON -> frames -> the same build)
    one = h[h["household_id"] == "h0"].sort_values("survey_date").astype(object).to_dict("records")
    item = {"record": one[-1], "members": [], "history": [{"record": r, "members": []} for r in one[:-1]],
            "as_of": as_of}
    indicators_for([item])
    t0 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        indicators_for([item])
    t_one = (time.perf_counter() - t0) / reps
    res = {
        "households": float(n), "records": float(len(h)), "member_rows": float(len(m)), "event_rows": float(len(e)),
        "generate_s": t_gen, "slice_s": t_slice, "build_s": t_build, "rows_per_s": n / t_build,
        "projected_1m_x5_s": 1_000_000 / (n / t_build), "indicators_for_one_ms": t_one * 1000,
        "peak_rss_mb": _peak_rss_mb(), "rss_after_data_mb": rss_data, "features": float(out.shape[1] - 4),
    }
    width = max(map(len, res))
    print(f"bench_indicators: {n:,} households x {rounds} rounds, as-of {as_of.date()}")
    for k, v in res.items():
        print(f"  {k:<{width}}  {v:>14,.2f}")
    return res


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
