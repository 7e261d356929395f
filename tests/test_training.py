"""Training end to end on the session's simulated county: MLflow run contents, registry, reload, promotion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import invoke
from training.metrics import METRIC_NAMES


def _client(warehouse: Path):
    from models import registry

    return registry.connect(warehouse)


def test_run_logs_every_metric_for_model_and_baselines(trained_warehouse: Path):
    from models import registry

    client = _client(trained_warehouse)
    ref = registry.resolve(client, registry.CHAMPION)
    run = client.get_run(ref.run_id)
    names = set(run.data.metrics)
    for prefix in ("", "rule_", "logit_"):
        for metric in METRIC_NAMES:
            if prefix == "rule_" and metric in ("brier", "ece"):
                continue  # the rule is a ranking, not a probability
            assert f"{prefix}{metric}" in names, f"missing metric {prefix}{metric}"
    assert {"oracle_roc_auc", "oracle_recall_at_10pct"} <= names
    params = run.data.params
    assert params["test_round"] and params["training_rounds"] and params["data_households_sha256"]
    artifacts = {a.path for a in client.list_artifacts(ref.run_id, "evaluation")}
    for name in ("calibration.png", "precision_recall.png", "recall_at_k.png", "shap_importance.png",
                 "model_card.md", "slices.csv", "metrics_table.csv"):
        assert f"evaluation/{name}" in artifacts
    assert any(a.path == "feature_catalogue.json" for a in client.list_artifacts(ref.run_id))


def test_first_model_is_champion_exactly_when_it_is_not_behind_the_rule(trained_warehouse: Path, train_output: str):
    """``train`` makes its first version champion through the gate: not when it trails the rule on either
    metric of the test round (the newest labelled round), and says why."""
    from models import registry

    client = _client(trained_warehouse)
    assert registry.resolve(client, "champion").version == registry.resolve(client, "challenger").version
    run = client.get_run(registry.resolve(client, "challenger").run_id).data.metrics
    behind = [m for m in ("roc_auc", "recall_at_10pct") if run[m] < run[f"rule_{m}"] - 1e-9]
    made = "@champion" in next(line for line in train_output.splitlines() if line.startswith("registered:"))
    assert made == (not behind), train_output
    if behind:
        assert "not made champion" in train_output and "worse than the rule on" in train_output
        tags = client.get_model_version(registry.MODEL_NAME, registry.resolve(client, "champion").version).tags
        assert "forced_by" in tags  # the session fixture forced it


def test_no_household_identifier_reaches_mlflow(trained_warehouse: Path):
    from features.data.warehouse import Warehouse

    ids = Warehouse(trained_warehouse).households(columns=["household_id"])["household_id"].unique()[:200]
    artifacts = [p for p in (trained_warehouse / "mlartifacts").rglob("*") if p.is_file()]
    assert any(p.name == "model.txt" for p in artifacts), "the run's artifacts are not in <warehouse>/mlartifacts"
    blobs = [(trained_warehouse / "mlflow.db").read_bytes()] + [p.read_bytes() for p in artifacts]
    for hid in ids:
        needle = str(hid).encode()
        assert not any(needle in b for b in blobs), f"household id {hid} found in the MLflow store"


def test_registered_model_reloads_in_a_new_process_and_reproduces_scores(trained_warehouse: Path, champion_model,
                                                                          tmp_path: Path):
    from features.indicators.labels import build_examples, round_as_of
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    as_of = round_as_of(wh)
    ind = build_examples(wh, [as_of.iloc[-2]]).head(300)
    ind[champion_model.feature_names].to_parquet(tmp_path / "ind.parquet")
    code = f"""
import os, mlflow.pyfunc, pandas as pd
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
mlflow.set_tracking_uri("sqlite:///{trained_warehouse.resolve()}/mlflow.db")
m = mlflow.pyfunc.load_model("models:/povwatch-risk@champion")
out = m.predict(pd.read_parquet("{tmp_path / 'ind.parquet'}"))
out[["risk", "tier"]].to_parquet("{tmp_path / 'out.parquet'}")
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    fresh = pd.read_parquet(tmp_path / "out.parquet")
    here = champion_model.score(ind)
    pd.testing.assert_series_equal(fresh["risk"], here["risk"], check_exact=False, rtol=1e-12)
    assert (fresh["tier"].to_numpy() == here["tier"].to_numpy()).all()


def test_logged_model_is_code_text_and_json_without_pickles(trained_warehouse: Path):
    """Models from code: the registry holds the entry file, LightGBM's model text and JSON, no pickle."""
    files = [p for p in (trained_warehouse / "mlartifacts").rglob("*") if p.is_file()]
    assert any(p.name == "pyfunc_code.py" for p in files) and any(p.name == "model.txt" for p in files)
    assert not [p for p in files if p.suffix in (".pkl", ".pickle", ".joblib", ".cloudpickle")]


def test_promote_refuses_a_worse_model_and_force_records_who(fresh_warehouse: Path, train_config_file: Path,
                                                               tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from commands.app import app
    from models import registry

    good = tmp_path / "good.json"  # the gate is under test here, not the choice: two candidates are enough
    good.write_text(json.dumps({**json.loads(train_config_file.read_text()), "bootstrap_replicates": 100,
                                "selection": {"candidates": ["lightgbm", "rule"]}}))
    invoke(["train", "--warehouse", str(fresh_warehouse), "--config", str(good)])
    bad = tmp_path / "bad.json"
    # A model that barely learns: two leaves, one tree, tiny step — and the only candidate, so it is registered.
    bad.write_text(json.dumps({"num_boost_round": 1, "early_stopping_rounds": 1,
                               "selection": {"candidates": ["lightgbm"]},
                               "lightgbm": {"num_leaves": 2, "max_depth": 1, "learning_rate": 0.001,
                                            "feature_fraction": 0.05}}))
    invoke(["train", "--warehouse", str(fresh_warehouse), "--config", str(bad)])
    client = _client(fresh_warehouse)
    champion_before = registry.resolve(client, "champion").version
    result = CliRunner().invoke(app, ["promote", "--warehouse", str(fresh_warehouse)])
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and "worse" in result.output
    assert registry.resolve(client, "champion").version == champion_before

    monkeypatch.setenv("POVWATCH_USER", "analyst-wang")
    out = invoke(["promote", "--warehouse", str(fresh_warehouse), "--force"])
    assert "forced" in out
    new = registry.resolve(client, "champion").version
    assert new != champion_before
    tags = client.get_model_version(registry.MODEL_NAME, new).tags
    assert tags["forced_by"] == "analyst-wang" and "forced_at" in tags


def test_train_prints_run_id_and_model_baselines_oracle_side_by_side(train_output: str):
    assert "run_id:" in train_output and "@challenger" in train_output
    header = next(line for line in train_output.splitlines() if "model" in line and "rule" in line)
    assert header.split() == ["model", "rule", "logit", "oracle"]
    for metric in METRIC_NAMES:
        assert any(line.startswith(metric) for line in train_output.splitlines()), metric


def test_train_refuses_a_bad_config_before_any_compute(tmp_path: Path):
    from typer.testing import CliRunner

    from commands.app import app

    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"lightgbm": {"num_leaves": "many"}}')
    result = CliRunner().invoke(app, ["train", "--warehouse", str(tmp_path / "nowhere"), "--config", str(cfg)])
    assert result.exit_code != 0
    assert "num_leaves" in result.output
    assert not (tmp_path / "nowhere").exists()


def test_each_warehouse_keeps_its_own_registry_in_one_process(trained_warehouse: Path, tmp_path: Path):
    import os

    from models import registry

    other = registry.connect(tmp_path / "other")
    assert other.get_experiment_by_name("povwatch").artifact_location == (tmp_path / "other" / "mlartifacts").resolve().as_uri()
    assert not registry.has_alias(other, "champion")
    assert registry.has_alias(registry.connect(trained_warehouse), "champion")
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_logged_model_has_a_signature_an_input_example_and_provenance_tags(trained_warehouse: Path, champion_model):
    import re
    from importlib import metadata

    import mlflow

    from models import registry

    client = _client(trained_warehouse)
    ref = registry.resolve(client, "champion")
    info = mlflow.models.get_model_info(f"models:/{registry.MODEL_NAME}/{ref.version}")
    inputs = info.signature.inputs
    assert {"household", *champion_model.feature_names} <= set(inputs.input_names())
    assert not any(c.required for c in inputs.inputs), "both input shapes (documents, indicators) are allowed"
    assert {"risk", "tier", "eligible", "stale"} <= set(info.signature.outputs.input_names())
    assert info.signature.params.to_dict()[0]["name"] == "output"
    assert info.saved_input_example_info is not None
    tags = client.get_run(ref.run_id).data.tags
    assert re.fullmatch(r"[0-9a-f]{40}", tags["git_commit"]), tags["git_commit"]
    assert tags["git_dirty"] in ("true", "false")
    assert tags["version.lightgbm"] == metadata.version("lightgbm")
    assert tags["version.mlflow"] == metadata.version("mlflow")


def test_registered_model_scores_exactly_like_the_fitted_one(fresh_warehouse: Path, train_config_file: Path):
    """The registry round trip: the RiskModel reloaded from ``@challenger`` against the one ``train`` fitted
    in memory (not two loads of the same artifact)."""
    from features.indicators.labels import build_examples, round_as_of
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from training.config import TrainConfig
    from training.train import train

    cfg = TrainConfig.model_validate(json.loads(train_config_file.read_text()))
    result = train(fresh_warehouse, cfg=cfg)
    reloaded = load_risk_model(fresh_warehouse, "challenger")
    assert reloaded.model_version == result.version
    wh = Warehouse(fresh_warehouse)
    rows = build_examples(wh, [round_as_of(wh).iloc[-1]])
    fitted, loaded = result.model.score(rows, explain_top=3), reloaded.score(rows, explain_top=3)
    assert (fitted["risk"].to_numpy() == loaded["risk"].to_numpy()).all()
    pd.testing.assert_frame_equal(fitted.drop(columns="model_version"), loaded.drop(columns="model_version"))
    assert reloaded.tier_thresholds == result.model.tier_thresholds and reloaded.feature_names == result.model.feature_names
    # the run records the evaluation report as computed, nothing recomputed on the way
    run = _client(fresh_warehouse).get_run(result.run_id)
    assert result.report.metrics and all(run.data.metrics[k] == pytest.approx(v) for k, v in result.report.metrics.items())
    assert result.report.test_round == result.split["test_round"]
    assert result.aliases == ["challenger"] + (["champion"] if result.promotion.promoted else [])


def test_a_first_model_worse_than_the_rule_is_not_champion_and_the_gate_checks_the_rule(fresh_warehouse: Path,
                                                                                        tmp_path: Path):
    """A weak first model is registered @challenger only; promote refuses it against the rule, --force makes it
    champion; a second identical one is not worse than that champion but still worse than the rule."""
    from typer.testing import CliRunner

    from commands.app import app
    from models import registry

    weak = tmp_path / "weak.json"
    weak.write_text(json.dumps({"num_boost_round": 1, "early_stopping_rounds": 1, "bootstrap_replicates": 50,
                                "selection": {"candidates": ["lightgbm"]},
                                "lightgbm": {"num_leaves": 2, "max_depth": 1, "feature_fraction": 0.05,
                                             "bagging_fraction": 1.0, "bagging_freq": 0}}))
    first = invoke(["train", "--warehouse", str(fresh_warehouse), "--config", str(weak)])
    client = registry.connect(fresh_warehouse)
    assert "behind the rule" in first and "not made champion" in first and "worse than the rule" in first
    assert "@champion" not in first and not registry.has_alias(client, registry.CHAMPION)
    assert registry.resolve(client, registry.CHALLENGER).version == "1"
    refused = CliRunner().invoke(app, ["promote", "--warehouse", str(fresh_warehouse)])
    assert refused.exit_code == 1 and "worse than the rule" in refused.output, refused.output
    assert not registry.has_alias(client, registry.CHAMPION)
    invoke(["promote", "--warehouse", str(fresh_warehouse), "--force"])
    assert registry.resolve(client, registry.CHAMPION).version == "1"

    invoke(["train", "--warehouse", str(fresh_warehouse), "--config", str(weak)])
    result = CliRunner().invoke(app, ["promote", "--warehouse", str(fresh_warehouse)])
    assert result.exit_code == 1, result.output
    assert "worse than the rule" in result.output and "worse than champion" not in result.output
    assert registry.resolve(client, registry.CHAMPION).version == "1"


def test_run_logs_every_candidates_validation_figures_the_choice_and_the_intervals(trained_warehouse: Path):
    from models import registry
    from training.config import CANDIDATES

    client = _client(trained_warehouse)
    ref = registry.resolve(client, registry.CHAMPION)
    run = client.get_run(ref.run_id)
    for name in CANDIDATES:
        assert f"valid_{name}_recall_at_10pct" in run.data.metrics and f"valid_{name}_roc_auc" in run.data.metrics
        assert f"test_{name}_recall_at_10pct_low" in run.data.metrics or name == "rule"
    assert {"model_minus_rule_roc_auc", "model_minus_rule_roc_auc_low", "model_minus_rule_recall_at_10pct_high",
            "test_rule_roc_auc_high"} <= set(run.data.metrics)
    chosen = run.data.params["candidate"]
    assert chosen in CANDIDATES
    assert client.get_model_version(registry.MODEL_NAME, ref.version).tags["candidate"] == chosen
    artifacts = {a.path for a in client.list_artifacts(ref.run_id, "evaluation")}
    assert {"evaluation/selection.csv", "evaluation/intervals.csv"} <= artifacts
    card = Path(client.download_artifacts(ref.run_id, "evaluation/model_card.md")).read_text(encoding="utf-8")
    assert f"{chosen} chosen on" in card and "model − rule" in card
    assert "next best" in card and "Gain over the county's rule" in card  # who won, and by how much
    for name in CANDIDATES:
        if name != "rule":
            assert {f"valid_{name}_gain_over_rule", f"valid_{name}_gain_over_rule_low",
                    f"valid_{name}_gain_over_rule_high"} <= set(run.data.metrics), name
