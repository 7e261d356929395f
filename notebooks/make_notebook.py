"""Writes ``01_new_round.ipynb`` from the cells below (kept as code so diffs stay readable; stored without outputs).

Run: ``.venv/bin/python notebooks/make_notebook.py``.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("md", "# A new survey round: look, retrain, compare\n\nThe analyst's starting point. Reads the warehouse "
           "named by `POVWATCH_WAREHOUSE` (default `./povwatch-data`, as `make demo` leaves it), looks at the "
           "newest round, **retrains on it in memory and compares the retrained model with the champion** on "
           "the newest labelled round. Nothing is registered: `povwatch train` then `povwatch promote` do that. "
           "Training settings come from the file named by `POVWATCH_TRAIN_CONFIG` (default: the defaults of "
           "`povwatch train`).\n\nRun it with `jupyter execute notebooks/01_new_round.ipynb` or open it in "
           "Jupyter; the charts are drawn inline."),
    ("code", """%matplotlib inline
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from features.data.derived import hardship_income_pc, monitoring_line, net_income
from features.settings import warehouse as default_warehouse
from features.data.warehouse import Warehouse

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
WAREHOUSE = default_warehouse()  # $POVWATCH_WAREHOUSE or ./povwatch-data
wh = Warehouse(WAREHOUSE)
rounds = wh.rounds()
rounds"""),
    ("md", "## The newest round: income structure and recorded risk types"),
    ("code", """latest = rounds["round_id"].iloc[-1]
hh = wh.households([latest])
income = pd.DataFrame({
    "wage": hh["wage_income"], "operating (net)": hh["operating_income"] - hh["operating_expense"],
    "property": hh["property_income"], "transfer": hh["transfer_income"]})
shares = income.sum() / income.sum().sum()
line = monitoring_line(hh["province"], hh["survey_date"].dt.year, wh.lines())
ratio = hardship_income_pc(hh) / line.to_numpy()
print(f"round {latest}: {len(hh)} households, {hh['is_monitored'].mean():.1%} monitored, "
      f"{(ratio < 1.5).mean():.1%} below 1.5x the line")
shares.round(3)"""),
    ("code", """risk_types = hh["risk_types"].fillna("").str.split(";").explode()
risk_types[risk_types != ""].value_counts()"""),
    ("md", "## Compare the latest MLflow runs (model vs baselines)"),
    ("code", """import mlflow
from models.registry import connect, MODEL_NAME

client = connect(WAREHOUSE)
runs = mlflow.search_runs(experiment_names=["povwatch"], order_by=["start_time DESC"], max_results=5)
cols = [c for c in runs.columns if c.startswith("metrics.") and c.split(".", 1)[1] in (
    "roc_auc", "recall_at_10pct", "rule_roc_auc", "rule_recall_at_10pct", "logit_roc_auc",
    "logit_recall_at_10pct", "oracle_roc_auc", "oracle_recall_at_10pct")]
runs[["run_id", "params.test_round"] + cols]"""),
    ("md", "## Global SHAP importance of the champion"),
    ("code", """import numpy as np
from features.indicators.labels import build_examples, round_as_of
from models.registry import load_risk_model
from training.metrics import recall_curve
from training.splits import default_test_round

model = load_risk_model(WAREHOUSE, "champion")
as_of = round_as_of(wh)
examples = build_examples(wh, list(as_of))
test_round = default_test_round(as_of, examples)
test = examples[(examples["as_of"] == as_of[test_round]) & (examples["round_id"] == test_round)
                & examples["eligible"].eq(1) & examples["falls_below_line"].notna()]
contrib, _ = model.contributions(test)
importance = pd.Series(np.abs(contrib).mean(axis=0), index=model.feature_names).sort_values().tail(15)
importance.plot.barh(figsize=(6, 5), title=f"mean |SHAP|, round {test_round}")
plt.tight_layout()"""),
    ("md", "## Recall at a visiting budget\nThe share of next-round fallers found when visiting the top k% by risk."),
    ("code", """y = test["falls_below_line"].to_numpy(float)
ks, rec = recall_curve(y, model.score(test)["risk"].to_numpy())
plt.figure(figsize=(5, 4))
plt.plot(ks * 100, rec)
plt.xlabel("households visited (%)"); plt.ylabel("share of fallers found")
print({f"recall_at_{int(k*100)}pct": round(float(r), 3) for k, r in zip(ks, rec) if round(k * 100) in (5, 10, 20)})"""),
    ("md", "## Retrain on the newest round and compare with the champion\nThe same forward-in-time split as "
           "`povwatch train` (test on the newest round that has a next round), fitted here in memory."),
    ("code", """from features.indicators.catalogue import FEATURES, feature_names
from features.indicators.labels import default_as_of_dates
from training.candidates import fit_candidates
from training.config import TrainConfig
from training.metrics import metric_table
from training.splits import make_split
from training.train import calibrated_model

config_file = os.environ.get("POVWATCH_TRAIN_CONFIG")
cfg = TrainConfig.from_file(Path(config_file) if config_file else None)
all_examples = build_examples(wh, default_as_of_dates(wh, quarterly=cfg.quarterly))
split = make_split(all_examples, as_of)
names = feature_names()
categorical = [f.name for f in FEATURES if f.categorical]
X = all_examples[names].astype("float64")
y_all = all_examples["falls_below_line"].fillna(0).to_numpy(float)
candidate = model.metadata.get("candidate") or cfg.selection.candidates[0]  # the champion's kind of model
fitted, _ = fit_candidates([candidate], X, y_all, split.fit, split.valid, cfg, categorical)
retrained = calibrated_model(fitted[candidate], X, y_all, split, cfg, wh.lines())
test_X, test_y = X[split.test], y_all[split.test]
comparison = pd.DataFrame({f"champion v{model.model_version}": metric_table(test_y, model.predict_proba(test_X)),
                           "retrained": metric_table(test_y, retrained.predict_proba(test_X))})
print(f"test round {split.test_round}: {int(split.test.sum())} households")
comparison.round(4)"""),
    ("code", """ax = comparison.loc[["roc_auc", "pr_auc", "recall_at_10pct"]].plot.bar(figsize=(6, 3.5), rot=0,
                                                                   title="champion vs retrained")
ax.set_ylim(0, 1)
plt.tight_layout()"""),
    ("md", "## Top households of one village, newest round"),
    ("code", """from features.data.as_of import resolve_as_of
from serving.batch import score_warehouse

scores, summary = score_warehouse(model, wh, when=resolve_as_of(wh, round_id=latest), explain_top=0.0)
village = hh["village"].value_counts().index[0]
ids = set(hh.loc[hh["village"] == village, "household_id"])
scores[scores["household_id"].isin(ids)].head(10)[["household_id", "risk", "tier", "eligible", "stale"]]"""),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    return nb


if __name__ == "__main__":
    nbformat.write(build(), Path(__file__).with_name("01_new_round.ipynb"))
