"""The promotion gate's equity part, with a deliberately biased challenger: a real LightGBM trained by the
project's own code on labels that erase the falls of escaped households (脱贫户), registered in the real MLflow
store; the gate must refuse it, name the group and both intervals, and step aside when switched off or forced."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from commands.app import app
from tests.conftest import TEST_TRAIN_CONFIG, invoke

# The session's county is small (~80 falls in a round): lower evidence thresholds so groups can be judged.
AUDIT = {"min_falls": 10, "min_households": 100, "n_boot": 200, "attributes": ["household_type", "is_monitored"]}


def _train_biased_challenger(warehouse: Path, cfg_data: dict, tmp_path: Path) -> str:
    import mlflow

    from features.indicators.catalogue import FEATURES, feature_names
    from features.indicators.labels import build_examples, default_as_of_dates, round_as_of
    from features.data.warehouse import Warehouse
    from models.pyfunc import ARTIFACT_KEY, CODE_FILE
    from models import registry
    from training.config import TrainConfig
    from training.splits import make_split
    from training.candidates import fit_lightgbm, lightgbm_params, monotone_signs
    from training.train import PIP_REQUIREMENTS, calibrated_model

    cfg = TrainConfig.model_validate(cfg_data)
    wh = Warehouse(warehouse)
    examples = build_examples(wh, default_as_of_dates(wh, quarterly=False))
    split = make_split(examples, round_as_of(wh), None)
    X = examples[feature_names()].astype("float64")
    y = examples["falls_below_line"].fillna(0).to_numpy(float).copy()
    y[examples["escaped_household"].to_numpy() == 1] = 0.0  # the bias: escaped households "never fall"
    params = lightgbm_params(cfg.lightgbm, list(X.columns), monotone_signs(cfg, small=False))
    scorer, _ = fit_lightgbm(X, y, split.fit, split.valid, params, cfg.num_boost_round, cfg.early_stopping_rounds,
                             [f.name for f in FEATURES if f.categorical])
    model = calibrated_model(scorer, X, y, split, cfg, wh.lines())
    model.metadata = {"config": cfg.model_dump(), "test_round": split.test_round}
    client = registry.connect(warehouse)
    with mlflow.start_run(run_name="biased-challenger"):
        info = mlflow.pyfunc.log_model(name="model", python_model=str(CODE_FILE),
                                       artifacts={ARTIFACT_KEY: str(model.save(tmp_path / "biased"))},
                                       pip_requirements=PIP_REQUIREMENTS, registered_model_name=registry.MODEL_NAME)
    version = str(info.registered_model_version)
    registry.set_alias(client, registry.CHALLENGER, version)
    return version


def test_gate_refuses_a_biased_challenger_naming_group_and_intervals(fresh_warehouse: Path, tmp_path: Path):
    from models import registry

    cfg = {**json.loads(TEST_TRAIN_CONFIG), "audit": AUDIT}
    path = tmp_path / "train.json"
    path.write_text(json.dumps(cfg))
    invoke(["train", "--warehouse", str(fresh_warehouse), "--config", str(path)])
    version = _train_biased_challenger(fresh_warehouse, cfg, tmp_path)

    runner = CliRunner()
    refused = runner.invoke(app, ["promote", "--warehouse", str(fresh_warehouse)])
    assert refused.exit_code == 1, refused.output
    text = refused.output
    assert "refused" in text and "new disparity for household_type=" in text, text
    assert text.count("recall ratio challenger") >= 1 and "vs champion" in text
    assert "[" in text.split("recall ratio challenger")[1]  # the challenger's interval, then the champion's
    client = registry.connect(fresh_warehouse)
    assert registry.resolve(client, registry.CHAMPION).version == "1"

    off = runner.invoke(app, ["promote", "--warehouse", str(fresh_warehouse), "--no-equity-gate"])
    assert "disparity" not in off.output and "equity audit" not in off.output

    forced = runner.invoke(app, ["promote", "--warehouse", str(fresh_warehouse), "--force"])
    assert forced.exit_code == 0 and "forced past the gate" in forced.output
    assert registry.resolve(client, registry.CHAMPION).version == version


def test_same_disparity_is_not_a_refusal_but_a_larger_one_is():
    from training.audit_gate import compare_audits

    def audit(ratio, ci, disparity):
        return {"groups": [{"attribute": "county", "group": "甲县", "reference": "乙县", "disparity": disparity,
                            "recall_ratio": ratio, "recall_ratio_ci": ci, "fnr_ratio": 1.0, "fnr_ratio_ci": [1, 1]}]}

    assert compare_audits(audit(0.5, [0.3, 0.7], True), audit(0.5, [0.3, 0.7], True)) == []
    worse = compare_audits(audit(0.6, [0.4, 0.75], True), audit(0.4, [0.2, 0.6], True))
    assert len(worse) == 1 and "larger disparity for county=甲县" in worse[0] and "[0.40, 0.75]" in worse[0]
    new = compare_audits(audit(0.9, [0.7, 1.1], False), audit(0.5, [0.3, 0.7], True))
    assert "new disparity" in new[0] and "[0.70, 1.10]" in new[0] and "[0.30, 0.70]" in new[0]
