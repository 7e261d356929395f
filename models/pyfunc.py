"""The MLflow pyfunc wrapper of RiskModel: what the registry stores and every caller loads.

``predict`` takes either an indicator table (the Spark path: features per partition, then
``mlflow.pyfunc.spark_udf``) or a frame with a ``household`` column of "Household" JSON documents
(the whole path from raw records). It returns ``RiskModel.score``'s columns (risk, tier, eligible, ...) and
``margin``;
with ``params={"output": "risk"}`` only the risk, for ``spark_udf(result_type="double")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from models.risk_model import RiskModel

ARTIFACT_KEY = "risk_model"
CODE_FILE = Path(__file__).with_name("pyfunc_code.py")  # the models-from-code entry MLflow logs and runs


class RiskPyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.risk_model = RiskModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None):
        model = self.risk_model
        if "household" in model_input.columns:
            items = [json.loads(h) if isinstance(h, str) else h for h in model_input["household"]]
            indicators = model.indicators(items)
        else:
            indicators = model_input
        margin = model.margin(indicators)
        scored = model.scores_from_margin(indicators, margin)
        if (params or {}).get("output") == "risk":
            return scored["risk"]
        scored["margin"] = margin
        return scored
