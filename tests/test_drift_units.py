"""Seeded unit tests of the drift statistics, on arrays small enough to read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.simulator.shocks import Shock
from training.monitoring import null as N
from training.monitoring.expected import expected_metrics
from training.monitoring.stats import (bin_codes, chi_square_p, ks_statistic, psi_from_counts, quantile_edges,
                                       total_variation)


def test_quantile_edges_collapse_for_flags_and_constants():
    assert list(quantile_edges(np.array([0.0, 0, 0, 1, 1]))) == [0.0, 1.0]
    assert len(quantile_edges(np.full(50, 3.0))) == 1
    assert len(quantile_edges(np.array([np.nan, np.nan]))) == 0


def test_missing_values_get_their_own_bin():
    edges = np.array([1.0, 2.0])
    codes = bin_codes(np.array([0.5, 1.0, 1.5, 2.5, np.nan]), edges)
    assert list(codes) == [0, 0, 1, 2, 3]


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    ref = np.array([[25.0, 25, 25, 25]])
    assert psi_from_counts(ref, ref)[0] == pytest.approx(0.0)
    small = psi_from_counts(ref, np.array([[30.0, 25, 25, 20]]))[0]
    large = psi_from_counts(ref, np.array([[70.0, 20, 5, 5]]))[0]
    assert 0 < small < large


def test_psi_ignores_bins_empty_on_both_sides():
    a = psi_from_counts(np.array([[50.0, 50, 0]]), np.array([[40.0, 60, 0]]))[0]
    b = psi_from_counts(np.array([[50.0, 50]]), np.array([[40.0, 60]]))[0]
    assert a == pytest.approx(b, rel=0.05)


def test_ks_and_total_variation():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 2000)
    assert ks_statistic(x, x) == 0.0
    assert ks_statistic(x, x + 1) > 0.3
    assert ks_statistic(x, np.array([np.nan])) == 0.0
    assert total_variation(np.array([50.0, 50]), np.array([20.0, 80])) == pytest.approx(0.3)
    assert chi_square_p(np.array([500.0, 500]), np.array([200.0, 800])) < 1e-6
    assert chi_square_p(np.array([10.0, 0]), np.array([10.0, 0])) == 1.0


def test_expected_metrics_follow_cbpe_by_hand():
    # 20 households: 2 in the top 10%, risks 0.9 and 0.5; the other 18 at 0.1
    risk = np.array([0.9, 0.5] + [0.1] * 18)
    m = expected_metrics(risk)
    assert m["positive_rate"] == pytest.approx((1.4 + 1.8) / 20)
    assert m["recall_at_10pct"] == pytest.approx(1.4 / 3.2)
    assert m["precision_at_10pct"] == pytest.approx(0.7)


def test_thresholds_hold_a_stable_sample_below_and_flag_a_shift():
    rng = np.random.default_rng(1)
    rounds = np.repeat(["a", "b", "c"], 1000)
    ref = rng.normal(0, 1, (3000, 3))
    stable = rng.normal(0, 1, (1000, 3))
    shifted = stable + np.array([0.0, 0.0, 0.6])
    bref, bst, bsh = N.bin_by_reference(ref, stable, shifted)
    null = N.null_psi(bref, rounds, 1000, 60, rng)
    thr = N.upper(null)
    assert (psi_from_counts(bref.counts(), bst.counts()) <= thr * 1.5).all()
    flagged = psi_from_counts(bref.counts(), bsh.counts()) > thr
    assert list(flagged) == [False, False, True]


def test_shock_parsing_names_what_is_allowed():
    assert Shock.parse("wage:2024:长坝县") == Shock("wage", 2024, "长坝县")
    assert Shock.parse("silent:2023") == Shock("silent", 2023, None)
    assert Shock.parse("late:2025:甲县") == Shock("late", 2025, "甲县")
    with pytest.raises(ValueError, match="disaster, wage, survey, silent"):
        Shock.parse("flood:2024")
    with pytest.raises(ValueError, match="KIND:YEAR"):
        Shock.parse("wage:last")


def test_late_means_missing_the_sources_previous_delivery_and_a_backfill_is_not_late():
    from training.monitoring.late import late_arrivals

    d = pd.Timestamp
    rows = [("H1", "2023-01-05", "department_alert", "2023-06-01")] * 6 + [  # back-fill: first delivery
        ("H1", "2023-06-20", "department_alert", "2023-07-01"),                 # within a week of the last one
        ("H2", "2023-05-20", "department_alert", "2023-07-01")] + [             # missed the 06-01 delivery
        ("H2", "2023-02-01", "department_alert", "2023-07-01")] * 5 + [
        ("H2", "2023-02-01", "cadre_visit", "2023-07-01"),                     # the cadres' first delivery
        ("H3", "2023-03-01", "self_report", None)]                              # stored before dates were kept
    arrivals = pd.DataFrame(rows, columns=["household_id", "event_date", "source", "ingested_on"])
    arrivals = arrivals.assign(event_date=pd.to_datetime(arrivals["event_date"]),
                               ingested_on=pd.to_datetime(arrivals["ingested_on"]))
    out = late_arrivals(arrivals, pd.Series({"H1": "甲县", "H2": "乙县", "H3": "甲县"}), weeks=12)
    feeds = {(f["source"], f["county"]): f for f in out["feeds"]}
    assert set(feeds) == {("department_alert", "甲县"), ("department_alert", "乙县")}
    calm = feeds[("department_alert", "甲县")]
    assert (calm["late"], calm["drifted"]) == (0, False)
    assert feeds[("department_alert", "乙县")]["late"] == 6 and feeds[("department_alert", "乙县")]["drifted"]
    assert out["unknown_arrival"] == 1 and out["until"] == str(d("2023-07-01").date())


def _risks(rng: np.random.Generator, shift: float, n: int = 3000) -> np.ndarray:
    """Risks of one round: a logit-normal whose centre moves by ``shift`` (incomes outgrowing the line)."""
    return 1 / (1 + np.exp(-(rng.normal(-3.0 - shift, 1.2, n))))


def _score(rng: np.random.Generator, per_round: float, jump: float = 0.0) -> dict:
    from training.monitoring.expected import score_drift

    ref = np.concatenate([_risks(rng, 0.0), _risks(rng, per_round)])
    rounds = np.repeat(["2021", "2022"], 3000)
    prev, cur = _risks(rng, 3 * per_round), _risks(rng, 4 * per_round + jump)   # checked two rounds after
    return score_drift(ref, rounds, cur, {"high": 0.3, "medium": 0.1}, rng, 60, prev_risk=prev,
                       prev_round="2024", ref_order=["2021", "2022"], rounds_since=3)


def test_a_steady_drift_of_the_score_is_no_alarm_and_a_sudden_one_is_a_note():
    from training.monitoring.report import STABLE, notes_of, verdict_of

    rng = np.random.default_rng(5)
    steady = _score(rng, per_round=0.08)
    # Against the whole reference the score moved well beyond its one-round range; round to round it did not.
    assert steady["score"]["psi"] > 2 * steady["score"]["step_psi"]
    assert not steady["score"]["drifted"] and notes_of(steady) == []
    assert verdict_of([], [], [], steady) == ([], STABLE)
    sudden = _score(rng, per_round=0.08, jump=0.8)
    assert sudden["score"]["drifted"] and sudden["score"]["previous_round"] == "2024"
    # The order of the households along the score is intact: a note, not a verdict.
    assert [n["kind"] for n in notes_of(sudden)] == ["score"]
    assert verdict_of([], [], [], sudden)[1] == STABLE


def test_expected_recall_leaving_its_range_recommends_a_retrain():
    from training.monitoring.expected import score_drift
    from training.monitoring.report import RETRAIN, verdict_of

    rng = np.random.default_rng(6)
    ref = np.concatenate([_risks(rng, 0.0), _risks(rng, 0.05)])
    rounds = np.repeat(["2021", "2022"], 3000)
    flat = np.full(3000, 0.05) + rng.normal(0, 1e-3, 3000)   # the score no longer tells households apart
    score = score_drift(ref, rounds, flat, {"high": 0.3, "medium": 0.1}, rng, 60, ref_order=["2021", "2022"])
    assert score["expected"]["outside_interval"] == ["recall_at_10pct"]
    reasons, verdict = verdict_of([], [], [], score)
    assert verdict == RETRAIN and [r["kind"] for r in reasons] == ["expected"]


def test_recalibrated_expectation_scales_each_band_by_its_fallers_over_its_risk():
    from training.monitoring.expected import RECALIBRATED, band_ratios, recalibrated_metrics

    # Labelled rows: two bands (0.1 and 0.5); the high band had 9 fallers on 10 x 0.5 of risk, the low
    # band 1 faller on 10 x 0.1 -- (9 + 1) / (5 + 1) and (1 + 1) / (1 + 1) with the pseudo-faller.
    risk = np.array([0.1] * 10 + [0.5] * 10)
    y = np.array([0.0] * 9 + [1.0] + [1.0] * 9 + [0.0])
    ratios = band_ratios(risk, y, bands=2)
    assert ratios[1] == pytest.approx([1.0, 10 / 6])
    # The round: 2 of 20 in the top 10 %, both 0.5; 18 at 0.1
    cur = np.array([0.5, 0.5] + [0.1] * 18)
    top, rest = 2 * 0.5 * 10 / 6, 18 * 0.1
    got = recalibrated_metrics(cur, ratios)
    assert got["recall_at_10pct_recalibrated"] == pytest.approx(top / (top + rest))
    assert got["precision_at_10pct_recalibrated"] == pytest.approx(top / 2)
    assert got["positive_rate_recalibrated"] == pytest.approx((top + rest) / 20)
    assert recalibrated_metrics(cur, None) == dict.fromkeys(RECALIBRATED)
    assert band_ratios(risk, np.full(20, np.nan)) is None


def _counties(shift_of_checked: float, seed: int = 0) -> tuple:
    """Eight counties of 600 households over three reference rounds and one checked round. Each county and
    year draws its own move of the income-change indicators (sd 0.25, as a county's prices move), far above
    the sampling noise of 600 households; in the checked round the first county moves by ``shift_of_checked``
    away from the rest (further to the side it lies on)."""
    from training.monitoring.rounds import RoundFrames

    rng = np.random.default_rng(seed)
    moving = ["net_income_pc_change", "net_income_pc_rel_change", "hardship_ratio_change", "medical_expense_change",
              "income_ratio_volatility", "min_hardship_ratio"]          # the income-dynamics family
    names = [*moving, "ill_member_share", "transfer_share"]
    counties, n, rounds = [f"县{c}" for c in range(8)], 600, ["2021", "2022", "2023", "2024"]
    level = rng.normal(0, 0.15, len(counties))
    parts = []
    for r, round_id in enumerate(rounds):
        for c, county in enumerate(counties):
            year = rng.normal(0, 0.25)
            if round_id == "2024" and c == 0:
                year = np.sign(level[c]) * shift_of_checked
            x = rng.normal(0, 1, (n, len(names)))
            x[:, :len(moving)] += level[c] + year   # dynamics: moves with the county's year
            x[:, len(moving):] = rng.random((n, 2))  # illness, income structure: no county-year effect
            frame = pd.DataFrame({"round_id": round_id, "as_of": pd.Timestamp(f"{round_id}-12-01"),
                                  "county": county, "household_type": "脱贫户", "eligible": True,
                                  "falls_below_line": np.nan}, index=range(n))
            parts.append((frame, x))
    frames = RoundFrames(pd.concat([p[0] for p in parts], ignore_index=True), names,
                         np.vstack([p[1] for p in parts]), np.full(n * len(counties) * len(rounds), 0.1))
    return frames.take(frames.rounds != "2024"), frames.take(frames.rounds == "2024")


def test_an_ordinary_county_year_is_not_flagged_and_a_large_move_is():
    from training.monitoring.drift import segment_drift

    def flagged(shift: float) -> list[tuple[str, list[str]]]:
        ref, cur = _counties(shift)
        return [(s.value, s.families) for s in segment_drift(ref, cur, np.random.default_rng(0)) if s.drifted]

    # Seeds 0-11 of this set-up: the ordinary move is never flagged; the large one in 10 of 12 (an exceptional
    # county-year in the reference raises every county's limit: the price of few reference years).
    assert flagged(0.4) == []                       # 1.6 sd of the counties' own year moves: an ordinary year
    assert flagged(2.5) == [("县0", ["dynamics"])]  # 10 sd: that county, that family


def test_recalibration_rows_are_the_labelled_rounds_after_the_validation_slice_when_there_are_any():
    from types import SimpleNamespace

    from training.monitoring.report import _out_of_fit
    from training.monitoring.rounds import RoundFrames

    as_of = ["2021-11-01"] * 2 + ["2022-11-01"] * 2 + ["2023-11-01"] * 2 + ["2024-11-01"] * 2
    frame = pd.DataFrame({"as_of": pd.to_datetime(as_of), "round_id": [a[:4] for a in as_of],
                          "falls_below_line": [0, 1, 1, 0, 0, 0, np.nan, np.nan]})
    rows = RoundFrames(frame, [], np.zeros((8, 0)), np.arange(8) / 10)
    model = SimpleNamespace(metadata={"split": {"valid_as_of": "2022-11-01"}})
    risk, y = _out_of_fit(rows, model, pd.Timestamp("2024-11-01"))      # the round after the test round
    assert list(risk) == [0.4, 0.5] and list(y) == [0, 0]                # the test round, not the validation slice
    risk, y = _out_of_fit(rows, model, pd.Timestamp("2023-11-01"))      # the test round itself
    assert list(risk) == [0.2, 0.3] and list(y) == [1, 0]                # only the validation slice is known
    assert len(_out_of_fit(rows, SimpleNamespace(metadata={}), pd.Timestamp("2024-11-01"))[0]) == 0
