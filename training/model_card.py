"""A short model card (markdown) logged with every run: data, label, metrics against baselines, limits."""

from __future__ import annotations

import pandas as pd


def _visited_lines(visited: dict | None) -> str:
    """The issued lists' precision on visited households, by channel (when the case store has outcomes)."""
    if not visited:
        return "No visit outcomes in the case store yet."
    rows = []
    for c in visited["channels"]:
        share = "—" if c["identified_share"] is None else f"{c['identified_share']:.3f}"
        ci = f" ({c['identified_ci'][0]:.3f}–{c['identified_ci'][1]:.3f})" if c["identified_ci"] else ""
        rows.append(f"- `{c['channel']}`: {c['visits']} visits of {c['alerts']} alerts, share identified {share}{ci}")
    return "Issued lists, share identified among visited households (95 % Wilson interval):\n" + "\n".join(rows)


def _gains(selection) -> str:
    """The candidates' gain over the county's rule at the forward origins, with the paired 95 % interval."""
    if getattr(selection, "gains", None) is None or not len(selection.gains):
        return ""
    rows = selection.gains.map(lambda v: f"{v:+.4f}")
    return f"""
Gain over the county's rule ({selection.criterion}, mean over the origins, 95 % paired household bootstrap;
`replace_rule_if: {selection.replace_rule_if}` — with `separated` a candidate replaces the rule only when the
lower bound is above zero):
```
{rows.to_string()}
```
"""


def model_card(*, split: dict, table: pd.DataFrame, config: dict, n_features: int, calibration: str,
               tiers: dict[str, float], selection=None, intervals: pd.DataFrame | None = None,
               verdict: str = "", audit: dict | None = None, visited: dict | None = None) -> str:
    from training.audit_run import model_card_section
    from training.intervals import format_intervals

    fmt = table.map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    chosen = selection.chosen if selection is not None else "lightgbm"
    choice = ""
    if selection is not None:
        means = selection.table.map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
        choice = f"""
## Which candidate, and why
Chosen before looking at the test round, by the criterion declared in the config
(`{config['selection']['criterion']}` at budget {config['selection']['budget']:g}, ties within
{config['selection']['tie_tolerance']:g} by `{config['selection']['tie_break']}`):
**{selection.summary()}**.

Mean over the forward origins (each candidate fitted as the final model is, scored on the households of the
origin round against their next round; per-origin figures in `selection.csv`):
```
{means.to_string()}
```
{_gains(selection)}"""
    ci = ""
    if intervals is not None:
        ci = f"""
## Test round with bootstrap 95 % intervals (households resampled)
```
{format_intervals(intervals)}
```
{verdict}
"""
    return f"""# povwatch-risk — model card

## What it predicts
The probability that a household whose income after rigid spending (hardship income per capita) is at or
above the monitoring line at the as-of date falls below the line at its **next** survey round
(`falls_below_line`, contract v1). Households with no next round are unlabelled and excluded.

## Data
- Split: {split['kind']}; test round `{split['test_round']}` at as-of {split['test_as_of']}
  ({split['test']['rows']} households, {split['test']['positives']} fell).
- Fit: {split['fit']['rows']} examples, as-of {split['fit']['as_of_min']} … {split['fit']['as_of_max']},
  outcomes known by {split['fit']['label_date_max']}.
- Early stopping and calibration: {split['valid']['rows']} examples from as-of {split['valid']['as_of_min']}
  (never the test round).
- {n_features} indicators from the feature catalogue (`feature_catalogue.json`); no identifiers.

## Model
Candidate `{chosen}` (LightGBM default `{config['lightgbm']}`; small-data LightGBM `{config['lightgbm_small']}`;
sign-constrained logistic scorecard; the rule; or a logistic blend of these), {calibration} calibration, tiers: high ≥ {tiers['high']:.3f},
medium ≥ {tiers['medium']:.3f}.

## Test-round metrics (model vs baselines)
```
{fmt.to_string()}
```

`not_monitored_recall_at_10pct`: recall at the same 10 % budget among households not yet monitored — the
households an early warning exists to find — beside overall `recall_at_10pct`.
{ci}{choice}
`rule`: official-style threshold rule (hardship income < 1.5 × line or rigid spending > share of income).
`logit`: regularised logistic regression on the same indicators. `oracle` (simulated data only): the
simulator's true risk, the ceiling for any model.

## Visit outcomes and the selection effect
Outcomes of home visits (contract table `outcomes`) are never model inputs and never the training label: they
exist only for households somebody chose to visit — those the lists named — so their share identified measures
the lists' precision, not the model's recall, and a model trained on them would learn the lists' own choices
(a feedback loop). The label stays the survey's `falls_below_line`. What the lists miss is estimated only from
the audit channel, a random sample of households no list named.

{_visited_lines(visited)}

{model_card_section(audit)}
## Limits
- Trained on the rounds above; a new province, a change of the monitoring line policy, or a change in the
  survey instrument calls for retraining and a look at the slice metrics (`slices.csv`).
- Events between rounds are self-declared or found on visits: unreported shocks are invisible.
- The score supports, never replaces, the cadre's judgement and the official identification procedure.
"""

