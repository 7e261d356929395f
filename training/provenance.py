"""What a training run records about where it came from, and what its logged model accepts.

- ``run_tags``: the code's git commit (and whether the tree had uncommitted changes) and the versions of the
  packages the model depends on, so a run can be reproduced or explained later.
- ``pyfunc_signature`` / ``input_example``: the MLflow signature of ``models.pyfunc.RiskPyfunc`` — either a
  column ``household`` of "Household" JSON documents or an indicator table (every feature column), each
  column optional so both shapes pass MLflow's schema check; ``params={"output": "risk"}`` returns the risk
  only. The example holds indicator values of two test rows, never an identifier.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = ("lightgbm", "pandas", "numpy", "scikit-learn", "mlflow", "shap", "pydantic", "pyarrow")
ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_tags() -> dict[str, str]:
    """``git_commit``, ``git_dirty`` and ``version.<package>`` (``unknown`` when not found)."""
    tags = {"git_commit": _git("rev-parse", "HEAD") or "unknown"}
    status = _git("status", "--porcelain", "--untracked-files=no")
    tags["git_dirty"] = "unknown" if status is None else str(bool(status)).lower()
    for name in PACKAGES:
        try:
            tags[f"version.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            tags[f"version.{name}"] = "unknown"
    return tags


def pyfunc_signature(feature_names: list[str]):
    """The logged model's input, output and params schema (see the module docstring)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema([ColSpec("string", "household", required=False),
                     ColSpec("string", "household_id", required=False),
                     ColSpec("string", "round_id", required=False),
                     *[ColSpec("double", name, required=False) for name in feature_names]])
    outputs = Schema([ColSpec("string", "household_id", required=False), ColSpec("string", "round_id", required=False),
                      ColSpec("double", "risk"), ColSpec("string", "tier"), ColSpec("boolean", "eligible"),
                      ColSpec("boolean", "stale"), ColSpec("string", "model_version"), ColSpec("double", "margin")])
    return ModelSignature(inputs=inputs, outputs=outputs, params=ParamSchema([ParamSpec("output", "string", "scores")]))


def input_example(X: pd.DataFrame, feature_names: list[str], rows: int = 2) -> pd.DataFrame:
    """The first ``rows`` of an indicator matrix, feature columns only (no identifier)."""
    return X[feature_names].head(rows).astype("float64").reset_index(drop=True)
