"""Forward-in-time splits: never a random row split.

Worked example — rounds r0..r5 surveyed each December, test round R = r4:

- test:  households at r4's as-of date (every r4 record known), labelled by their r5 record.
- pool:  examples with as-of before r4's date whose outcome was known by then (``label_date <= as_of(r4)``):
         as-ofs r0..r3 and the quarterly dates between them; their labels come from r1..r4.
- valid: the newest slice of the pool — as-of on or after r3's date (labelled by r4). Early stopping and
         calibration use it; it is never the test round.
- fit:   pool examples whose outcome was known by r3's date (``label_date <= as_of(r3)``), so fitting never
         sees an outcome later than the validation as-of.

With only one labelled round before the test, there is no earlier period to validate on; the pool is then
split by household (a stable hash), which keeps households apart but not time — reported in ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class SplitError(ValueError):
    """The warehouse cannot support the requested split."""


@dataclass(frozen=True)
class TemporalSplit:
    test_round: str
    test_as_of: pd.Timestamp
    valid_as_of: pd.Timestamp | None
    fit: np.ndarray        # boolean masks over the examples frame
    valid: np.ndarray
    test: np.ndarray
    kind: str              # "forward" or "household-holdout"

    def describe(self, examples: pd.DataFrame) -> dict[str, object]:
        """Dates and sizes for logging (no identifiers)."""
        def span(mask: np.ndarray) -> dict[str, object]:
            part = examples.loc[mask]
            return {"rows": int(mask.sum()),
                    "as_of_min": str(part["as_of"].min().date()) if len(part) else None,
                    "as_of_max": str(part["as_of"].max().date()) if len(part) else None,
                    "label_date_max": str(part["label_date"].max().date()) if len(part) else None,
                    "positives": int(part["falls_below_line"].sum())}
        return {"kind": self.kind, "test_round": self.test_round, "test_as_of": str(self.test_as_of.date()),
                "valid_as_of": str(self.valid_as_of.date()) if self.valid_as_of is not None else None,
                "fit": span(self.fit), "valid": span(self.valid), "test": span(self.test)}


def default_test_round(round_as_of: pd.Series, examples: pd.DataFrame) -> str:
    """The newest round whose households have a next round (labelled examples at its as-of date)."""
    labelled = examples[examples["falls_below_line"].notna()]
    for rid in reversed(list(round_as_of.index)):
        if ((labelled["as_of"] == round_as_of[rid]) & (labelled["round_id"] == rid)).any():
            return rid
    raise SplitError("no round has a next round yet: ingest at least two rounds before training")


def make_split(examples: pd.DataFrame, round_as_of: pd.Series, test_round: str | None = None) -> TemporalSplit:
    """Masks for fit / valid / test over ``examples`` (from ``features.indicators.labels.build_examples``).

    ``round_as_of``: round_id -> as-of date of the round, ordered by date.
    """
    round_as_of = round_as_of.sort_values()
    if test_round is None:
        test_round = default_test_round(round_as_of, examples)
    if test_round not in round_as_of.index:
        raise SplitError(f"unknown test round {test_round!r}; rounds: {', '.join(map(str, round_as_of.index))}")
    t = round_as_of[test_round]
    usable = examples["eligible"].eq(1).to_numpy() & examples["falls_below_line"].notna().to_numpy()
    as_of = examples["as_of"]
    test = usable & (as_of == t).to_numpy() & (examples["round_id"] == test_round).to_numpy()
    if not test.any():
        raise SplitError(f"round {test_round!r} has no labelled households (no next round): pick an earlier --test-round")
    pool = usable & (as_of < t).to_numpy() & (examples["label_date"] <= t).to_numpy()
    earlier = [d for d in round_as_of if d < t and (pool & (as_of == d).to_numpy()).any()]
    if not earlier:
        raise SplitError(f"no training examples with an outcome known by {t.date()} (round {test_round!r}); "
                         "training needs at least one earlier round with a next round")
    valid_as_of = earlier[-1]
    valid = pool & (as_of >= valid_as_of).to_numpy()
    fit = pool & (examples["label_date"] <= valid_as_of).to_numpy()
    kind = "forward"
    if not fit.any():
        kind, valid_as_of = "household-holdout", None
        held = _household_hash(examples["household_id"]) < 0.3
        valid, fit = pool & held, pool & ~held
    return TemporalSplit(test_round, t, valid_as_of, fit, valid, test, kind)


def _household_hash(ids: pd.Series) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per household id."""
    return pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy() / 2.0**64


def capped_rows(rows: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """``rows`` (a boolean mask) itself when it selects at most ``cap`` rows; else a mask of ``cap`` of them drawn
    uniformly without replacement by ``numpy.random.default_rng(seed)``, in their original order.

    Why: the linear models (the logistic baseline, the scorecard) are fitted on float64 design matrices of
    two columns per indicator; a few hundred thousand rows fit their few hundred coefficients to within noise,
    and capping the rows bounds those matrices however large the county. The same mask and seed give the same
    rows every time."""
    rows = np.asarray(rows, dtype=bool)
    chosen = np.flatnonzero(rows)
    if len(chosen) <= cap:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(chosen, size=cap, replace=False))
    out = np.zeros_like(rows)
    out[keep] = True
    return out


def sample_ratio(rows: np.ndarray, sample: np.ndarray) -> float:
    """How many rows of ``rows`` each row of ``sample`` stands for (1.0 when nothing was sampled). The linear
    models' penalty ``|w|² / (2C)`` is weighed against a sum of losses over the rows: on a sample, ``C`` times
    this ratio keeps that balance, so the sampled fit approximates the fit on all the rows."""
    return float(np.count_nonzero(rows)) / float(np.count_nonzero(sample))
