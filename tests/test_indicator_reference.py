"""Indicator values are bit-identical to the stored reference table (``tests/indicator_reference.py``).

Every speed-up of the indicator build must pass this unchanged: equal keys, equal missing values, and equal
float64 bits everywhere else (``-0.0`` and ``0.0`` differ here; an approximately-equal change is a change).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.indicators.catalogue import feature_names
from tests.indicator_reference import build_all, load_inputs, REFERENCE_DIR


@pytest.fixture(scope="module")
def built_and_expected() -> tuple[pd.DataFrame, pd.DataFrame]:
    return build_all(load_inputs()), pd.read_parquet(REFERENCE_DIR / "indicators.parquet")


def test_reference_covers_every_feature_and_case(built_and_expected) -> None:
    built, expected = built_and_expected
    assert list(built.columns) == list(expected.columns), "indicator columns changed: regenerate deliberately"
    assert set(feature_names()) <= set(expected.columns)
    counts = expected.groupby("case").size().reindex(["before_first", "between_rounds", "per_household"],
                                                      fill_value=0)
    assert counts["before_first"] == 0 and (counts.drop("before_first") > 100).all()
    assert expected["shock_health_count_since_survey"].gt(0).any(), "the reference must hold events after a survey"


def test_keys_are_identical(built_and_expected) -> None:
    built, expected = built_and_expected
    for col in ("case", "household_id", "round_id", "survey_date", "as_of"):
        assert built[col].astype(str).tolist() == expected[col].astype(str).tolist(), col


@pytest.mark.parametrize("name", feature_names())
def test_indicator_is_bit_identical(built_and_expected, name: str) -> None:
    built, expected = built_and_expected
    got = built[name].to_numpy(dtype="float64")
    want = expected[name].to_numpy(dtype="float64")
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{name}: missing values moved"
    ok = ~np.isnan(want)
    differ = np.flatnonzero(got[ok].view(np.int64) != want[ok].view(np.int64))
    assert not len(differ), (f"{name}: {len(differ)} values differ from the reference, e.g. "
                             f"{got[ok][differ[0]]!r} != {want[ok][differ[0]]!r}")
