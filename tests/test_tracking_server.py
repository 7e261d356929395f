"""MLflow as a server: a real ``mlflow server`` (what ``make mlflow-server`` starts) on a free port, and train,
promote, score and serve all going through ``MLFLOW_TRACKING_URI=http://127.0.0.1:PORT``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.conftest import invoke
from commands import child_server


@pytest.fixture()
def tracking_server(fresh_warehouse: Path, tmp_path: Path) -> Iterator[str]:
    """``python -m commands.mlflow_server`` (the Makefile target's command) on a free loopback port (its first
    start creates the database: minutes on a busy machine, hence the long readiness wait)."""
    port = child_server.free_port()
    log = tmp_path / "mlflow-server.log"
    cmd = [sys.executable, "-m", "commands.mlflow_server", "--warehouse", str(fresh_warehouse), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        child_server.wait_ready(f"{url}/health", proc, 600, log)
        yield url
    finally:
        child_server.stop(proc)


def test_train_promote_score_serve_through_a_tracking_server(tracking_server: str, fresh_warehouse: Path,
                                                             train_config_file: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient

    from features.data.warehouse import Warehouse

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    wh = str(fresh_warehouse)
    out = invoke(["train", "--warehouse", wh, "--config", str(train_config_file)])
    assert "registered: povwatch-risk v1 @challenger @champion" in out

    # The run and the model are in the server's store; the artifacts went through the server's proxy into the
    # warehouse's artifact folder (the client wrote none itself: the experiment's root is mlflow-artifacts:/).
    client = MlflowClient(tracking_server)
    assert client.get_experiment_by_name("povwatch").artifact_location.startswith("mlflow-artifacts:")
    assert client.get_model_version_by_alias("povwatch-risk", "champion").version in (1, "1")
    # every kind of candidate writes its scorer.json (a LightGBM also its model.txt; the rule, chosen on this
    # small county, only JSON)
    assert list((fresh_warehouse / "mlartifacts").rglob("scorer.json")), "model artifacts not in the server's store"

    out = invoke(["promote", "--warehouse", wh])
    assert "champion" in out

    newest = Warehouse(fresh_warehouse).round_ids()[-1]
    scores = tmp_path / "scores.parquet"
    out = invoke(["score", "--round", newest, "--warehouse", wh, "--out", str(scores), "--explain-top", "5"])
    assert "povwatch-risk v1 (@champion)" in out
    batch = pd.read_parquet(scores).set_index("household_id")
    assert len(batch) > 100 and set(batch["model_version"].astype(str)) == {"1"}

    # `povwatch serve` resolves the champion through the server too, and answers what `povwatch score` wrote.
    from features.data.documents_from_warehouse import household_documents

    as_of = pd.Timestamp(batch["as_of"].iloc[0])
    ids = list(batch.index[:5])
    docs = household_documents(Warehouse(fresh_warehouse), ids, as_of)
    port = child_server.free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_server}
    with log.open("wb") as sink:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "povwatch"), "serve", "--port", str(port),
                                 "--warehouse", wh], stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        child_server.wait_ready(f"{url}/readyz", proc, 600, log)
        assert httpx.get(f"{url}/model", timeout=10).json()["version"] == "1"
        r = httpx.post(f"{url}/score", json={"households": docs}, timeout=60)
        assert r.status_code == 200, r.text
        for x in r.json()["results"]:
            assert x["risk"] == pytest.approx(float(batch.loc[x["household_id"], "risk"]), rel=1e-12)
            assert x["tier"] == batch.loc[x["household_id"], "tier"]
    finally:
        child_server.stop(proc)
    assert not (fresh_warehouse / "mlruns").exists()
