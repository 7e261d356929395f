"""The stored indicator reference: a small seeded county's canonical tables and its indicator table, so any
change to how indicators are computed (speed-ups, a new engine) is checked bit for bit against what they were.

Inputs and outputs are both stored (``tests/data/indicator_reference/``): the test does not depend on the
simulator staying the same, only on the indicator code. Regenerate deliberately, when an indicator's meaning
changes, with ``python -m tests.indicator_reference`` — and say why in the commit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "data" / "indicator_reference"
HOUSEHOLDS, ROUNDS, SEED = 400, 4, 7
TABLES = ("households", "members", "events")


def as_of_cases(households: pd.DataFrame) -> dict[str, pd.Timestamp | pd.Series]:
    """The as-of dates the reference covers: each round's last survey day, a date between two rounds (events
    after the survey are news), the day before the first survey (nothing known), and one date per household
    (a Series: the service's form)."""
    last = households.groupby("round_id")["survey_date"].max().sort_values()
    cases: dict[str, pd.Timestamp | pd.Series] = {f"round_{r}": d for r, d in last.items()}
    cases["between_rounds"] = last.iloc[-2] + pd.Timedelta(days=200)
    cases["before_first"] = households["survey_date"].min() - pd.Timedelta(days=1)
    ids = np.sort(households["household_id"].unique())
    spread = last.iloc[0] + pd.to_timedelta(np.arange(len(ids)) * 3 % 1200, unit="D")
    cases["per_household"] = pd.Series(spread.to_numpy(), index=pd.Index(ids, dtype="object"))
    return cases


def load_inputs() -> dict[str, pd.DataFrame]:
    """The stored canonical tables (households, members, events, monitoring_lines)."""
    from features.data.canonical import cast

    return {t: cast(t, pd.read_parquet(REFERENCE_DIR / f"{t}.parquet")) for t in (*TABLES, "monitoring_lines")}


def build_all(inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every as-of case's indicator table, one under the other, with a ``case`` column first."""
    from features.indicators import build_indicators

    parts = []
    for name, as_of in as_of_cases(inputs["households"]).items():
        frame = build_indicators(inputs["households"], inputs["members"], inputs["events"],
                                 inputs["monitoring_lines"], as_of)
        frame.insert(0, "case", name)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _simulate_inputs() -> dict[str, pd.DataFrame]:
    """Simulate and ingest through the real commands; read the canonical tables back from the warehouse."""
    from features.data.warehouse import Warehouse
    from tests.conftest import invoke

    with tempfile.TemporaryDirectory(prefix="indicator-reference-") as tmp:
        raw, wh = Path(tmp) / "raw", Path(tmp) / "wh"
        invoke(["simulate", "--households", str(HOUSEHOLDS), "--rounds", str(ROUNDS), "--seed", str(SEED),
                "--out", str(raw)])
        invoke(["ingest", str(raw), "--warehouse", str(wh)])
        w = Warehouse(wh)
        return {"households": w.households(), "members": w.members(), "events": w.events(),
                "monitoring_lines": w.lines()}


def write() -> None:
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    inputs = _simulate_inputs()
    for table, frame in inputs.items():
        frame.to_parquet(REFERENCE_DIR / f"{table}.parquet", index=False)
    expected = build_all(load_inputs())
    expected.to_parquet(REFERENCE_DIR / "indicators.parquet", index=False)
    print(f"wrote {len(expected)} indicator rows ({expected['case'].nunique()} as-of cases) to {REFERENCE_DIR}")


if __name__ == "__main__":
    write()
