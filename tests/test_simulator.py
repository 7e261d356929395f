"""The survey simulator: determinism, calibration, shock directions on the step function, truth, contract.

Small seeded runs (2,000 households x 3 rounds; calibration on 6,000 households, i.e. a few counties, since
one county's wage level and prices move its composition); the calibration measures are those of
features/simulator/CALIBRATION.md, computed by the same code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.data.contract import table_for_file
from features.simulator import codes as K
from features.simulator.calibration import TARGETS, label_pairs, measures
from features.simulator.run import RoundOutput, simulate
from features.simulator.state import State, per_household
from features.simulator.step import step
from features.simulator.writer import TRUTH_FILE
from features.data.validate import validate_frame
from tests.conftest import invoke

N, ROUNDS, SEED = 2000, 3, 5


@pytest.fixture(scope="module")
def run() -> list[RoundOutput]:
    return list(simulate(N, ROUNDS, SEED))


def test_same_seed_same_frames_and_other_seed_differs(run: list[RoundOutput]) -> None:
    again = list(simulate(N, ROUNDS, SEED))
    for a, b in zip(run, again):
        for name in ("households", "members", "events", "truth"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    other = next(iter(simulate(N, 1, SEED + 1)))
    assert not other.households["wage_income"].equals(run[0].households["wage_income"])


@pytest.fixture(scope="module")
def calibration() -> dict[str, float]:
    return measures(r.households for r in simulate(6000, ROUNDS, SEED, replicates=2))


@pytest.mark.parametrize("name", list(TARGETS))
def test_calibration_target_within_tolerance(calibration: dict[str, float], name: str) -> None:
    value = calibration[name]
    target, tol, source = TARGETS[name]
    assert abs(value - target) <= tol, f"{name}={value:.4f}, target {target} ± {tol} ({source})"


def test_label_base_rate_in_band(run: list[RoundOutput], calibration: dict[str, float]) -> None:
    for rate in (measures(r.households for r in run)["label_rate"], calibration["label_rate"]):
        assert 0.02 <= rate <= 0.08


def _treated_pair(s: State, members: np.ndarray, field: str, seed: int) -> tuple[State, State]:
    """The same next year twice from the same state and random stream, differing only in one latent
    propensity of ``members`` (+20 makes the shock certain, -20 rules it out)."""
    hi, lo = s.copy(), s.copy()
    hi.mem[field][members] = 20.0
    lo.mem[field][members] = -20.0
    a, _ = step(hi, np.random.default_rng(seed))
    b, _ = step(lo, np.random.default_rng(seed))
    return a, b


def _find(s: State, hh: np.ndarray, mid: np.ndarray) -> np.ndarray:
    """Positions of members (household index, member number) after a step (-1: died or left)."""
    keys = s.mem["hh"] * 1000 + s.mem["mid"]
    order = np.argsort(keys)
    want = hh * 1000 + mid
    pos = np.clip(np.searchsorted(keys[order], want), 0, len(keys) - 1)
    return np.where(keys[order][pos] == want, order[pos], -1)


def _followed(a: State, b: State, s: State, members: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The treated members still present after both steps: their household and positions in a and b."""
    hh, mid = s.mem["hh"][members], s.mem["mid"][members]
    ia, ib = _find(a, hh, mid), _find(b, hh, mid)
    ok = (ia >= 0) & (ib >= 0)
    return hh[ok], ia[ok], ib[ok]


def test_new_serious_illness_raises_medical_spending(run: list[RoundOutput]) -> None:
    s = run[0].state.copy()
    m = s.mem
    adult = (m["age"] >= 25) & (m["age"] <= 50) & (m["ill"] == 0)
    first = np.flatnonzero(adult)[np.unique(m["hh"][adult], return_index=True)[1]][:300]
    s.mem["ill"][first] = 0
    ill, well = _treated_pair(s, first, "frailty", 1)
    hh, ia, ib = _followed(ill, well, s, first)
    assert len(hh) > 250
    assert ill.mem["new_serious"][ia].all() and not well.mem["new_serious"][ib].any()
    rise = ill.hh["medical"][hh] - well.hh["medical"][hh]
    assert np.mean(rise > 0) > 0.95 and np.median(rise) > 3000


def test_job_loss_cuts_wages(run: list[RoundOutput]) -> None:
    s = run[0].state.copy()
    m = s.mem
    migrant = (m["loc"] == K.WORK["out_of_province"]) & ~m["public_job"] & (m["age"] <= 50) & (m["ill"] == 0)
    first = np.flatnonzero(migrant)[np.unique(m["hh"][migrant], return_index=True)[1]][:300]
    lost, kept = _treated_pair(s, first, "precarity", 2)
    hh, ia, ib = _followed(lost, kept, s, first)
    away = (lost.mem["loc"][ia] != K.WORK["none"]) & ~lost.mem["public_job"][ia]
    assert away.sum() > 100
    assert lost.mem["lost_job"][ia][away].all() and not kept.mem["lost_job"][ib].any()
    hh = hh[away]
    cut = per_household(kept, kept.mem["wage"])[hh] - per_household(lost, lost.mem["wage"])[hh]
    assert np.mean(cut >= 0) > 0.95 and np.median(cut) > 1000
    assert np.median(kept.hh["wage_income"][hh] - lost.hh["wage_income"][hh]) > 1000


def test_truth_is_a_probability_and_higher_for_those_who_fall(run: list[RoundOutput]) -> None:
    pos, neg = [], []
    for a, b in zip(run, run[1:]):
        assert a.truth["true_risk"].between(0, 1).all()
        lab = label_pairs(a.households, b.households).merge(a.truth, on="household_id")
        pos.append(lab.loc[lab["falls_below_line"], "true_risk"])
        neg.append(lab.loc[~lab["falls_below_line"], "true_risk"])
    p, n = pd.concat(pos), pd.concat(neg)
    assert len(p) > 20 and p.mean() > 2 * n.mean()


def test_output_passes_contract_validation(run: list[RoundOutput]) -> None:
    for r in run:
        for table in ("households", "members", "events"):
            frame = getattr(r, table)
            if frame.empty:  # the first round has no events before it
                continue
            result = validate_frame(table, frame)
            assert len(result.rejected) == 0, result.rejected.head().to_dict("records")
            assert len(result.accepted) == len(frame)


def test_survey_dates_ordered_and_events_between(run: list[RoundOutput]) -> None:
    dates = pd.concat([r.households[["household_id", "survey_date"]] for r in run])
    assert not dates.duplicated().any()
    for a, b in zip(run, run[1:]):
        j = a.households[["household_id", "survey_date"]].merge(
            b.households[["household_id", "survey_date"]], on="household_id", suffixes=("_0", "_1"))
        assert (j["survey_date_1"] > j["survey_date_0"]).all()
        ev = b.events.merge(j, on="household_id", how="left")
        assert ev["survey_date_0"].notna().all()
        assert ((ev["event_date"] > ev["survey_date_0"]) & (ev["event_date"] < ev["survey_date_1"])).all()
    assert len(run[1].events) > 0 and not run[1].events.duplicated(["household_id", "event_date", "event_type"]).any()


def test_household_size_matches_members_and_some_leave(run: list[RoundOutput]) -> None:
    for r in run:
        counts = r.members.groupby("household_id").size()
        sizes = r.households.set_index("household_id")["household_size"]
        assert (counts.reindex(sizes.index) == sizes).all()
    assert len(run[-1].households) < len(run[0].households)


def test_truth_file_is_not_a_contract_table() -> None:
    assert table_for_file(Path(TRUTH_FILE).stem) is None


@pytest.mark.parametrize("fmt,zh", [("csv", False), ("csv", True), ("parquet", True)])
def test_cli_output_ingests_with_zero_rejections(tmp_path: Path, fmt: str, zh: bool) -> None:
    out = tmp_path / "sim"
    invoke(["simulate", "--households", "400", "--rounds", "2", "--seed", "3", "--out", str(out),
            "--format", fmt] + (["--zh"] if zh else []))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"events.{fmt}", f"households.{fmt}", f"members.{fmt}", TRUTH_FILE])
    truth = pd.read_parquet(out / TRUTH_FILE)
    assert list(truth.columns) == ["household_id", "round_id", "true_risk"]
    text = invoke(["ingest", str(out), "--warehouse", str(tmp_path / "wh"), "--json"])
    counts = json.loads(text[text.index("{"):])
    assert set(counts) == {"households", "members", "events"}
    for table, c in counts.items():
        assert c["rejected"] == 0 and c["accepted"] == c["read"] > 0, (table, c)
