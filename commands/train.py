"""CLI commands of the training stage: train and promote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import WAREHOUSE, WarehouseOption



def train_cmd(
    warehouse: WarehouseOption = WAREHOUSE,
    test_round: Annotated[Optional[str], typer.Option("--test-round", help="Round R: test on households at R's "
                          "survey date, labelled by R+1. Default: the newest round with a next round.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Training config (JSON or YAML), "
                      "validated before any compute.", exists=True, dir_okay=False)] = None,
    truth: Annotated[Optional[Path], typer.Option("--truth", help="Simulator truth file for the oracle row "
                     "(default: <warehouse>/truth.parquet when present).")] = None,
) -> None:
    """Train, evaluate against the baselines, log an MLflow run and register the model as @challenger."""
    from pydantic import ValidationError

    from training.config import TrainConfig
    from training.splits import SplitError
    from training.intervals import format_intervals
    from training.train import format_table, train

    try:
        cfg = TrainConfig.from_file(config)
    except (ValidationError, ValueError) as e:
        raise typer.BadParameter(f"{config}: {e}", param_hint="--config") from e
    from commands.exit_codes import fail
    from commands.preconditions import require_rounds

    from features.console import progress

    require_rounds(warehouse)
    try:
        with progress("training: indicators, LightGBM, baselines, MLflow"):
            result = train(warehouse, test_round=test_round, cfg=cfg, truth_path=truth)
    except (SplitError, FileNotFoundError, ValueError) as e:
        fail(str(e))
    typer.echo(f"run_id: {result.run_id}")
    typer.echo(f"registered: povwatch-risk v{result.version} @{' @'.join(result.aliases)}")
    if result.promotion is not None and not result.promotion.promoted:
        typer.echo(f"not made champion (the first version passes the same gate as any other): "
                   f"{result.promotion.message}")
    typer.echo(f"test round {result.split['test_round']} (as-of {result.split['test_as_of']}): "
               f"{result.split['test']['rows']} households, {result.split['test']['positives']} fell")
    typer.echo(format_table(result.table))
    typer.echo("")
    typer.echo(f"choice: {result.selection.summary()}")
    typer.echo("test round, bootstrap 95% intervals (households resampled):")
    typer.echo(format_intervals(result.intervals))
    typer.echo(f"verdict: {result.verdict}")


def promote_cmd(
    warehouse: WarehouseOption = WAREHOUSE,
    force: Annotated[bool, typer.Option("--force", help="Promote even if the gate refuses; "
                     "records who forced it in the version's tags.")] = False,
    equity_gate: Annotated[Optional[bool], typer.Option("--equity-gate/--no-equity-gate", help="Refuse a "
                           "challenger with a new or larger group disparity (default: the challenger's training "
                           "config, audit.gate, on).")] = None,
) -> None:
    """Move @champion to the @challenger if it is not worse on the newest labelled round."""
    from commands.exit_codes import ExitCode, fail
    from training.promote import promote
    from models.registry import RegistryError
    from training.splits import SplitError

    from features.console import progress

    try:
        with progress("promotion gate: scoring champion and challenger"):
            result = promote(warehouse, force=force, equity_gate=equity_gate)
    except (RegistryError, SplitError) as e:
        fail(str(e))
    typer.echo(result.message)
    if result.outcome == "refused":
        raise typer.Exit(ExitCode.REFUSED)

