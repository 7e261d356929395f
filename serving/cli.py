"""The ``povwatch`` console script: a thin orchestrator over the stage packages.

Each command lives beside the stage it drives and is registered here; command modules import their heavy
dependencies inside the function body so ``povwatch --help`` stays fast and import has no side effects.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="povwatch",
    help="Early warning of rural households falling (back) into poverty (防止返贫动态监测).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command: name -> function. Keep the DESIGN order.
from features.cli import features_cmd, ingest_cmd, simulate_cmd  # noqa: E402

app.command("simulate")(simulate_cmd)
app.command("ingest")(ingest_cmd)
app.command("features")(features_cmd)

from training.cli import promote_cmd, train_cmd  # noqa: E402

app.command("train")(train_cmd)
app.command("promote")(promote_cmd)

from serving.score_cli import score_cmd  # noqa: E402

app.command("score")(score_cmd)

from serving.report_cli import report_cmd  # noqa: E402

app.command("report")(report_cmd)

from serving.serve_cli import serve_cmd  # noqa: E402

app.command("serve")(serve_cmd)

from serving.worklist_cli import worklist_cmd  # noqa: E402

app.command("worklist")(worklist_cmd)

from features.catalogue_cli import catalogue_cmd  # noqa: E402

app.command("catalogue")(catalogue_cmd)

from serving.demo import demo_cmd  # noqa: E402

app.command("demo")(demo_cmd)

if __name__ == "__main__":  # pragma: no cover
    app()
