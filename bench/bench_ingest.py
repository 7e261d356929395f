"""How fast files go through ``povwatch ingest``: 100k households (and their ~300k members) as CSV.

The rows are generated here with vectorised numpy from the contract's enums, with ~1% broken on purpose,
so the quarantine path is measured too. Run: ``.venv/bin/python -m bench.bench_ingest``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features.data.contract import HOUSEHOLDS
from features.data.ingest import ingest
from features.data.validate import validate_frame
from features.data.warehouse import Warehouse

N_HOUSEHOLDS = 100_000
BROKEN_SHARE = 0.01


def make_households(n: int, seed: int = 0, round_id: str = "2023") -> pd.DataFrame:
    """``n`` households of one round, Chinese headers and labels, ~1% with a negative wage."""
    rng = np.random.default_rng(seed)
    zh = {c.name: c.zh for c in HOUSEHOLDS.columns}
    label = {c.name: np.array(list(c.values.values())) for c in HOUSEHOLDS.columns if c.values}
    monitored = rng.random(n) < 0.1
    wage = rng.gamma(2.0, 8000.0, n).round(2)
    wage[rng.random(n) < BROKEN_SHARE] = -5
    transfer = rng.gamma(1.5, 2000.0, n).round(2)
    df = pd.DataFrame({
        "household_id": [f"H{i:07d}" for i in range(n)],
        "round_id": round_id,
        "survey_date": pd.Timestamp(f"{round_id}-03-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "province": "甘肃省", "county": "会宁县", "township": rng.choice(["甲镇", "乙镇", "丙镇"], n),
        "village": rng.choice([f"村{i}" for i in range(50)], n),
        "household_type": rng.choice(label["household_type"], n),
        "is_monitored": np.where(monitored, "是", "否"),
        "monitoring_type": np.where(monitored, rng.choice(label["monitoring_type"], n), ""),
        "risk_types": np.where(monitored, rng.choice(label["risk_types"], n) + "；" + rng.choice(label["risk_types"], n), ""),
        "relocated": rng.choice(["是", "否"], n, p=[0.05, 0.95]),
        "household_size": 3,
        "wage_income": wage, "operating_income": rng.gamma(2.0, 5000.0, n).round(2),
        "operating_expense": rng.gamma(2.0, 1000.0, n).round(2),
        "property_income": rng.gamma(1.0, 300.0, n).round(2), "transfer_income": transfer,
        "dibao_income": (transfer * 0.3).round(2),
        "medical_expense": rng.gamma(1.0, 2000.0, n).round(2), "education_expense": rng.gamma(1.0, 1000.0, n).round(2),
        "housing_safe": "是", "water_safe": rng.choice(["是", "否"], n, p=[0.97, 0.03]),
        "cultivated_land_mu": rng.gamma(2.0, 3.0, n).round(1),
        "assistance": rng.choice(label["assistance"], n),
    })
    return df.rename(columns=zh)


def make_members(n_households: int, seed: int = 0, round_id: str = "2023") -> pd.DataFrame:
    """Three members per household (head, spouse, child), English headers and codes."""
    rng = np.random.default_rng(seed + 1)
    m = n_households * 3
    hh = np.repeat(np.arange(n_households), 3)
    relation = np.tile(["head", "spouse", "child"], n_households)
    location = rng.choice(["none", "in_county", "out_of_province"], m)
    health = rng.choice(["healthy", "chronic", "serious", "disabled"], m, p=[0.8, 0.12, 0.05, 0.03])
    return pd.DataFrame({
        "household_id": np.char.add("H", np.char.zfill(hh.astype(str), 7)),
        "round_id": round_id,
        "member_id": np.char.add("M", np.char.zfill(np.arange(m).astype(str), 8)),
        "relation": relation, "sex": rng.choice(["M", "F"], m),
        "age": np.where(relation == "child", rng.integers(0, 18, m), rng.integers(25, 80, m)),
        "education": rng.choice(["none", "primary", "junior", "senior", "college"], m),
        "school_status": "not_in_school", "health": health,
        "disability_grade": np.where(health == "disabled", rng.integers(1, 5, m).astype(str), ""),
        "labor_skill": rng.choice(["skilled", "ordinary", "weak", "none"], m),
        "work_location": location,
        "work_months": np.where(location == "none", 0, rng.integers(1, 13, m)),
        "basic_medical_insurance": rng.choice(["true", "false"], m, p=[0.98, 0.02]),
    })


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> dict[str, float]:
    """Validate and ingest 100k households + 300k members from CSV; print and return rows/s."""
    households = make_households(N_HOUSEHOLDS)
    members = make_members(N_HOUSEHOLDS)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hh_csv, mem_csv = root / "households_2023.csv", root / "members_2023.csv"
        households.to_csv(hh_csv, index=False, encoding="utf-8-sig")
        members.to_csv(mem_csv, index=False)
        raw = pd.read_csv(hh_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        t_validate, result = _timed(lambda: validate_frame("households", raw, source=hh_csv.name))
        warehouse = Warehouse(root / "warehouse")
        t_first, summary = _timed(lambda: ingest([hh_csv, mem_csv], warehouse))
        t_again, _ = _timed(lambda: ingest([hh_csv, mem_csv], warehouse))
    rows = len(households) + len(members)
    figures = {
        "households_rows": float(len(households)),
        "members_rows": float(len(members)),
        "validate_households_s": t_validate,
        "validate_households_rows_per_s": len(households) / t_validate,
        "ingest_both_s": t_first,
        "ingest_both_rows_per_s": rows / t_first,
        "reingest_same_files_s": t_again,
        "households_rejected": float(summary.tables["households"].rejected),
        "members_rejected": float(summary.tables["members"].rejected),
    }
    print(f"{'measure':<34}{'value':>14}")
    for name, value in figures.items():
        print(f"{name:<34}{value:>14,.2f}")
    assert len(result.rejected) > 0  # the broken rows were found (sanity of the bench itself)
    return figures


if __name__ == "__main__":
    main()
