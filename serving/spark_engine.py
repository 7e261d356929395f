"""``povwatch score --engine spark``: the same scores as ``povwatch score``, computed on Apache Spark.

Spark reads the warehouse's Parquet (the same layout on a local disk, HDFS or S3), puts the three tables into
one long frame (columns prefixed by table, ``household_id`` shared) with a household hash bucket, and runs the
local path's own per-partition functions (``serving.batch.score_rows`` / ``reason_rows``, both
``models.scoring.score_partition``) on each bucket with ``applyInPandas``. A bucket holds whole households (every round, member and event of each), so
indicators are exactly those of the local path; buckets, not counties, keep each group small.

The model is loaded on each Python worker by registry **version** (resolved once on the driver from the alias),
never by alias: an alias can move mid-job, and two versions' models-from-code modules would collide in one
worker. Reasons for the top K% are a second pass over the buckets that hold them, as locally.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from features.data.as_of import AsOf
from serving.batch import OUTPUT_COLUMNS, REASON_DETAIL_COLUMNS, SCORE_COLUMNS
from serving.batch import REASON_COLUMNS as REASON_TEXT_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLES = {"households": "h__", "members": "m__", "events": "e__"}
KEY = "household_id"
BUCKET = "_bucket"
SCORE_SCHEMA = ("household_id string, round_id string, as_of timestamp_ntz, risk double, tier string, "
                "eligible boolean, stale boolean, model_version string")
REASON_COLUMNS = REASON_TEXT_COLUMNS + REASON_DETAIL_COLUMNS   # text, then indicator and value of each reason
REASON_SCHEMA = ", ".join(["household_id string", *(f"{c} {'double' if c.endswith('_value') else 'string'}"
                                                     for c in REASON_COLUMNS)])
_MODELS: dict[tuple[str, str], object] = {}  # (tracking URI, version) -> RiskModel, per Python worker


@dataclass(frozen=True)
class ModelPin:
    """What an executor needs to load the one model version of the job."""
    tracking_uri: str
    version: str


def spark_session(master: str | None = None, app_name: str = "povwatch-score") -> "SparkSession":
    """A session with the settings the scores depend on (UTC, Arrow, nanosecond timestamps readable).

    ``master`` None keeps what ``spark-submit`` configured (or ``local[2]`` when run outside it)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    elif "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "") and not os.environ.get("SPARK_MASTER"):
        builder = builder.master("local[2]")
    return (builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # pandas writes timestamp[ns]; Spark reads nanosecond Parquet timestamps only as int64 nanoseconds
            .config("spark.sql.legacy.parquet.nanosAsLong", "true")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())


def _table(spark: "SparkSession", root: str, table: str) -> "DataFrame":
    """One contract table, read from its partition folders; the ``round_id`` column comes from the files
    (partition discovery is off: the folder names are URL-quoted copies of it)."""
    from pyspark.sql import functions as F

    df = spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet").parquet(
        f"{root.rstrip('/')}/{table}")
    prefix = TABLES[table]
    return df.select(F.col(KEY).alias(KEY), *[F.col(c).alias(prefix + c) for c in df.columns if c != KEY])


def long_frame(spark: "SparkSession", root: str, rounds: list[str], buckets: int) -> "DataFrame":
    """households, members and events of the given rounds in one frame, with ``_bucket`` = hash(id) mod n."""
    from pyspark.sql import functions as F

    hh = _table(spark, root, "households").where(F.col("h__round_id").isin(rounds))
    mem = _table(spark, root, "members").where(F.col("m__round_id").isin(rounds))
    ev = _table(spark, root, "events")
    long = hh.unionByName(mem, allowMissingColumns=True).unionByName(ev, allowMissingColumns=True)
    return long.withColumn(BUCKET, F.pmod(F.xxhash64(KEY), F.lit(buckets)).cast("int"))


def split_tables(pdf: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A group of the long frame back into canonical households, members and events frames."""
    from features.data.canonical import cast

    frames = []
    for table, prefix in TABLES.items():
        marker = f"{prefix}round_id" if table != "events" else "e__event_date"
        rows = pdf[pdf[marker].notna()]
        cols = {c: c[len(prefix):] for c in rows.columns if c.startswith(prefix)}
        part = rows[[KEY, *cols]].rename(columns=cols).reset_index(drop=True)
        for c in ("survey_date", "event_date"):
            if c in part.columns and pd.api.types.is_integer_dtype(part[c]):
                part[c] = pd.to_datetime(part[c], unit="ns")  # nanosAsLong: int64 nanoseconds since the epoch
        frames.append(cast(table, part))
    return frames[0], frames[1], frames[2]


def _model(pin: ModelPin):
    """The pinned version's RiskModel, loaded once per Python worker."""
    key = (pin.tracking_uri, pin.version)
    if key not in _MODELS:
        from models.registry import MODEL_NAME, quiet_telemetry

        quiet_telemetry()
        import mlflow

        mlflow.set_tracking_uri(pin.tracking_uri)
        mlflow.set_registry_uri(pin.tracking_uri)
        pyfunc = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{pin.version}")
        model = pyfunc.unwrap_python_model().risk_model
        model.model_version = pin.version
        _MODELS[key] = model
    return _MODELS[key]


def _empty(schema_columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in schema_columns})


def score_on_spark(spark: "SparkSession", root: str, pin: ModelPin, *, when: AsOf, rounds: list[str],
                   explain_top: float = 0.2, lang: str = "zh", chunk: int = 50_000) -> "DataFrame":
    """``OUTPUT_COLUMNS`` for every household known at ``when.date``, as a Spark DataFrame (not yet computed)."""
    from pyspark.sql import functions as F

    from serving.batch import reason_rows, score_rows

    if not 0 <= explain_top <= 1:
        raise ValueError(f"--explain-top must be a share between 0 and 1, got {explain_top}")
    n_households = _table(spark, root, "households").select(KEY).distinct().count()
    buckets = max(spark.sparkContext.defaultParallelism, math.ceil(n_households / chunk))
    spark.conf.set("spark.sql.shuffle.partitions", str(buckets))
    long = long_frame(spark, root, rounds, buckets)

    def score_group(pdf: pd.DataFrame) -> pd.DataFrame:
        scored = score_rows(*split_tables(pdf), _model(pin), when)
        if not len(scored):
            return _empty(SCORE_COLUMNS)
        scored = scored[SCORE_COLUMNS].copy()
        scored["as_of"] = pd.to_datetime(scored["as_of"]).astype("datetime64[us]")
        return scored

    scores = long.groupBy(BUCKET).applyInPandas(score_group, SCORE_SCHEMA).cache()
    n_explain = math.ceil(explain_top * scores.where(F.col("eligible")).count())
    if not n_explain:
        return scores.select(*[F.col(c) for c in SCORE_COLUMNS], *[_blank(c) for c in REASON_COLUMNS])
    # The same top K as the local path (``serving.batch.ranked``): eligible first, by risk, ties by id.
    top = scores.orderBy(F.col("eligible").desc(), F.col("risk").desc(), F.col(KEY).asc()).limit(n_explain).select(KEY)
    wanted = long.join(F.broadcast(top.withColumnRenamed(KEY, "_wanted")), F.col(KEY) == F.col("_wanted"),
                       "left_semi")

    def reasons_group(pdf: pd.DataFrame) -> pd.DataFrame:
        hh, mem, ev = split_tables(pdf)
        ids = set(hh[KEY])
        out = reason_rows(hh, mem, ev, _model(pin), when, ids, lang)[["household_id", *REASON_COLUMNS]]
        return out if len(out) else _empty(["household_id", *REASON_COLUMNS])

    reasons = wanted.groupBy(BUCKET).applyInPandas(reasons_group, REASON_SCHEMA)
    out = scores.join(reasons, on=KEY, how="left")
    return out.select(*[F.col(c) for c in SCORE_COLUMNS],
                      *[F.col(c) if c.endswith("_value") else F.coalesce(F.col(c), F.lit("")).alias(c)
                        for c in REASON_COLUMNS])


def _blank(column: str):
    """A reason column of a household without reasons, as the local path writes it ("" or null)."""
    from pyspark.sql import functions as F

    return (F.lit(None).cast("double") if column.endswith("_value") else F.lit("")).alias(column)


def write_partitioned(scores: "DataFrame", out: Path) -> None:
    """Parquet folder partitioned by ``round_id`` (each household's scored record's round)."""
    scores.write.mode("overwrite").partitionBy("round_id").parquet(str(out))


def read_scores(out: Path) -> pd.DataFrame:
    """A Spark score folder back as one frame in the local path's order (``serving.batch.ranked``)."""
    from serving.batch import ranked

    df = pd.read_parquet(out)
    df["round_id"] = df["round_id"].astype(str)
    return ranked(df[OUTPUT_COLUMNS + REASON_DETAIL_COLUMNS])


def pin_model(warehouse: Path, alias: str) -> ModelPin:
    """Resolve the alias once, on the driver, to the version every executor will load."""
    from models.registry import connect, resolve, tracking_uri

    return ModelPin(tracking_uri=tracking_uri(warehouse), version=resolve(connect(warehouse), alias).version)


def run(warehouse: Path, out: Path, *, when: AsOf, alias: str, master: str | None, explain_top: float, lang: str,
        chunk: int) -> tuple[ModelPin, int]:
    """Score the warehouse on Spark into the ``out`` folder; returns the pinned model and the row count."""
    from features.data.as_of import rounds_known_at
    from features.data.warehouse import Warehouse

    rounds = rounds_known_at(Warehouse(warehouse), when.date)
    if not rounds:
        raise ValueError(f"no survey round has records on or before {when.date.date()}")
    pin = pin_model(warehouse, alias)
    spark = spark_session(master)
    scores = score_on_spark(spark, str(Path(warehouse).resolve()), pin, when=when, rounds=rounds,
                            explain_top=explain_top, lang=lang, chunk=chunk)
    write_partitioned(scores, out)
    return pin, spark.read.parquet(str(out)).count()


if __name__ == "__main__":  # pragma: no cover - `spark-submit .../serving/spark_engine.py score --engine spark ...`
    from commands.app import app

    app()
