"""Shared fixtures: one small simulated county, ingested, with one trained and registered model per session.

Everything goes through the real CLI (typer's runner, in process) and a real MLflow SQLite store inside the
temporary warehouse; nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SIM_HOUSEHOLDS = 2500
SIM_ROUNDS = 4
SIM_SEED = 11
# Small, fast model: the suite trains once per session.
TEST_TRAIN_CONFIG = '{"num_boost_round": 200, "early_stopping_rounds": 20, "quarterly": true}'
# The session's model is the learned candidate the forward choice ranks first: on 2,500 households no model's
# lead over the county's rule is separated from zero, and the default would register the rule itself, while
# the suite exercises the learned scoring path (trees, SHAP, monotone shocks).
SESSION_SELECTION = {"replace_rule_if": "always"}


def pytest_configure(config: pytest.Config) -> None:
    os.environ["BENTOML_DO_NOT_TRACK"] = "true"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # each test warehouse carries its own registry
    os.environ.pop("POVWATCH_API_TOKEN", None)


def invoke(args: list[str]) -> str:
    """Run one povwatch command in process; fail the test with its output when it fails."""
    from typer.testing import CliRunner

    from commands.app import app

    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, f"povwatch {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


@pytest.fixture(scope="session")
def simulated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulator output (households, members, events, truth) as Parquet."""
    out = tmp_path_factory.mktemp("sim")
    invoke(["simulate", "--households", str(SIM_HOUSEHOLDS), "--rounds", str(SIM_ROUNDS), "--seed", str(SIM_SEED),
            "--out", str(out)])
    return out


@pytest.fixture(scope="session")
def ingested_warehouse(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the simulated rounds ingested (and the simulator's truth beside it). Read-only."""
    wh = tmp_path_factory.mktemp("warehouse")
    invoke(["ingest", str(simulated_dir), "--warehouse", str(wh)])
    truth = next(simulated_dir.glob("truth*.parquet"))
    shutil.copy(truth, wh / "truth.parquet")
    return wh


@pytest.fixture(scope="session")
def train_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "train.json"
    path.write_text(TEST_TRAIN_CONFIG)
    return path


@pytest.fixture(scope="session")
def train_output(ingested_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """What ``povwatch train`` printed for the session's model. If the gate did not make this first version
    champion (it trails the rule on the test round), it is forced: the gate is under test in test_training and
    test_selection, the scoring path everywhere else."""
    import json

    path = tmp_path_factory.mktemp("config") / "session-train.json"
    path.write_text(json.dumps({**json.loads(TEST_TRAIN_CONFIG), "selection": SESSION_SELECTION}))
    out = invoke(["train", "--warehouse", str(ingested_warehouse), "--config", str(path)])
    if "not made champion" in out:
        invoke(["promote", "--warehouse", str(ingested_warehouse), "--force"])
    return out


@pytest.fixture(scope="session")
def trained_warehouse(ingested_warehouse: Path, train_output: str) -> Path:
    """The ingested warehouse with one trained model registered as @champion and @challenger.

    Tests must not change its registry; use ``fresh_warehouse`` to train or promote more."""
    return ingested_warehouse


@pytest.fixture(scope="session")
def champion_model(trained_warehouse: Path):
    from models.registry import load_risk_model

    return load_risk_model(trained_warehouse, "champion")


@pytest.fixture()
def fresh_warehouse(simulated_dir: Path, tmp_path: Path) -> Path:
    """A new warehouse of the same simulated data, with an empty registry: for tests that train or promote."""
    wh = tmp_path / "warehouse"
    invoke(["ingest", str(simulated_dir), "--warehouse", str(wh)])
    truth = next(simulated_dir.glob("truth*.parquet"))
    shutil.copy(truth, wh / "truth.parquet")
    return wh


from tests.postgres_server import postgresql_server, postgresql_url  # noqa: E402,F401  (fixtures)
