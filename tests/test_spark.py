"""``povwatch score --engine spark`` on a real Spark ``local[2]``: the same scores, tiers and reasons as the local
path, household for household, on the session's simulated warehouse."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import invoke


@pytest.fixture()
def spark_env(monkeypatch: pytest.MonkeyPatch):
    """Loopback Spark with the venv's Python on the workers; the session is stopped afterwards."""
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    yield
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def test_spark_scores_equal_local_scores(spark_env, trained_warehouse: Path, champion_model, tmp_path: Path) -> None:
    from features.data.warehouse import Warehouse
    from serving.spark_engine import read_scores

    # Between rounds: the newest record of each household plus the events reported since (dynamic scoring).
    as_of = (Warehouse(trained_warehouse).rounds()["last_date"].max() + pd.Timedelta(days=60)).date().isoformat()
    common = ["--as-of", as_of, "--warehouse", str(trained_warehouse), "--explain-top", "20", "--lang", "en"]
    local_out = tmp_path / "local.parquet"
    invoke(["score", *common, "--out", str(local_out)])
    spark_out = tmp_path / "spark"
    out = invoke(["score", *common, "--out", str(spark_out), "--engine", "spark", "--spark-master", "local[2]",
                  "--chunk", "1000"])
    assert f"v{champion_model.model_version} (@champion, pinned by version)" in out

    assert sorted(p.name for p in spark_out.glob("round_id=*")), "output is not partitioned by round_id"
    spark = read_scores(spark_out)
    local = pd.read_parquet(local_out)
    assert len(spark) == len(local) > 1000
    assert list(spark["household_id"]) == list(local["household_id"])
    assert (spark["risk"].to_numpy() == local["risk"].to_numpy()).all(), "risks differ"  # exactly, not approx
    from serving.batch import REASON_DETAIL_COLUMNS

    for col in ("round_id", "tier", "eligible", "stale", "model_version", "reason_1", "reason_2", "reason_3",
                *REASON_DETAIL_COLUMNS):
        assert list(spark[col].astype(str)) == list(local[col].astype(str)), col
    assert (pd.to_datetime(spark["as_of"]) == pd.to_datetime(local["as_of"])).all()
    explained = local["reason_1"].ne("").sum()
    # reasons for the top 20% of the households that can still fall (eligible), as locally
    assert explained >= 0.2 * local["eligible"].sum() - 1 and spark["reason_1"].ne("").sum() == explained
    assert list(spark["eligible"]) == list(local["eligible"]) and list(spark["stale"]) == list(local["stale"])
