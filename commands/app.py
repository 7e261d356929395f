"""The ``povwatch`` console script: a thin orchestrator over the stage packages.

Every command's CLI code lives in this package, one module per command (``commands/score.py`` is ``povwatch
score``), and is registered below; the work itself lives in the stage packages (features, training, models,
serving, cases). Command modules import their heavy dependencies inside the function body so ``povwatch --help``
stays fast and import has no side effects.
"""

from __future__ import annotations

from typing import Annotated

import typer
import typer.core

app = typer.Typer(
    name="povwatch",
    help="Early warning of rural households falling (back) into poverty (防止返贫动态监测). "
         "Exit codes: 0 done, 1 ran and refused (e.g. the promotion gate), 2 usage or input error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _flags_without_placeholder() -> None:
    """typer 0.29's rich help prints a ``<bool>`` value placeholder after every flag (``--force <bool>``), though
    a flag takes no value: show flags bare, as click and every other CLI do."""
    option = typer.core.TyperOption
    if getattr(option.display_type_rich, "_povwatch", False):
        return
    original = option.display_type_rich

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None if self.is_flag else original(self, ctx)

    display_type_rich._povwatch = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_without_placeholder()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"povwatch {version('povwatch')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print results only: no progress bars or "
                                        "notes.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show the libraries' own logs and "
                                          "warnings (MLflow, LightGBM, alembic...).")] = False,
) -> None:
    """Early warning of rural households falling (back) into poverty (防止返贫动态监测)."""
    from features.console import configure

    if quiet and verbose:
        raise typer.BadParameter("give at most one of --quiet and --verbose")
    configure("quiet" if quiet else "verbose" if verbose else "normal")

# One line per command: name -> function, in the order of docs/architecture.md. Every command module is
# ``commands/<command>.py`` (train + promote, and cases + loop-report + outcomes, share a module).
from commands.simulate import simulate_cmd  # noqa: E402
from commands.ingest import ingest_cmd  # noqa: E402
from commands.features import features_cmd  # noqa: E402
from commands.train import promote_cmd, train_cmd  # noqa: E402
from commands.audit import audit_cmd  # noqa: E402
from commands.drift import drift_cmd  # noqa: E402
from commands.score import score_cmd  # noqa: E402
from commands.report import report_cmd  # noqa: E402
from commands.serve import serve_cmd  # noqa: E402
from commands.cases import cases_cmd, loop_report_cmd, outcomes_app  # noqa: E402
from commands.worklist import worklist_cmd  # noqa: E402
from commands.catalogue import catalogue_cmd  # noqa: E402
from commands.demo import demo_cmd  # noqa: E402

app.command("simulate")(simulate_cmd)
app.command("ingest")(ingest_cmd)
app.command("features")(features_cmd)
app.command("train")(train_cmd)
app.command("promote")(promote_cmd)
app.command("audit")(audit_cmd)
app.command("drift")(drift_cmd)
app.command("score")(score_cmd)
app.command("report")(report_cmd)
app.command("serve")(serve_cmd)
app.add_typer(outcomes_app, name="outcomes")
app.command("cases")(cases_cmd)
app.command("loop-report")(loop_report_cmd)
app.command("worklist")(worklist_cmd)
app.command("catalogue")(catalogue_cmd)
app.command("demo")(demo_cmd)

if __name__ == "__main__":  # pragma: no cover
    app()
