"""What the ``povwatch`` commands print: ``--quiet`` / ``--verbose``, progress bars, and third-party noise.

A command's own output is its result. Third-party libraries talk too — MLflow's table-creation logs, its
"Failed to infer model signature" and "Successfully registered model" lines and download progress bars,
alembic's migration log, LightGBM's and scikit-learn's warnings. By default they are silenced; ``--verbose``
lets them through (and shows ``povwatch``'s own debug detail). The level is kept in ``POVWATCH_VERBOSITY`` so a
child process (``povwatch serve`` starts BentoML) follows it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Literal

Verbosity = Literal["quiet", "normal", "verbose"]
VERBOSITY_ENV = "POVWATCH_VERBOSITY"
NOISY_LOGGERS = ("lightgbm", "mlflow", "alembic", "matplotlib", "shap", "urllib3", "httpx", "numba", "fsspec")
NOISY_MODULES = r"(lightgbm|mlflow|sklearn|shap|pandera|pyspark|matplotlib|alembic|sqlalchemy|pydantic|numba)(\.|$)"
NOISY_MESSAGES = r"PySpark does not yet fully support pandas"  # pandera imports pyspark when it is installed


def verbosity() -> Verbosity:
    value = os.environ.get(VERBOSITY_ENV, "normal")
    return value if value in ("quiet", "normal", "verbose") else "normal"  # type: ignore[return-value]


def configure(level: Verbosity) -> None:
    """Set this process's (and its children's) verbosity; silence third-party noise unless verbose.
    Called once by the CLI before any command runs; nothing happens at import."""
    os.environ[VERBOSITY_ENV] = level
    if level == "verbose":
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # read by MLflow when it configures its loggers
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=NOISY_MODULES)
    warnings.filterwarnings("ignore", message=NOISY_MESSAGES)


@contextlib.contextmanager
def third_party_output() -> Iterator[None]:
    """Swallow what a library prints to stdout/stderr inside the block (MLflow prints registration messages
    with ``print``), unless verbose."""
    if verbosity() == "verbose":
        yield
        return
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def show_progress() -> bool:
    """Progress bars on long steps: on a terminal, unless ``--quiet``."""
    return verbosity() != "quiet" and sys.stderr.isatty()


@contextlib.contextmanager
def progress(description: str, total: int | None = None) -> Iterator:
    """A ``rich`` progress bar on stderr for a long step; ``advance(n)`` on what it yields. A no-op off a terminal
    or with ``--quiet``."""
    if not show_progress():
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def say(message: str) -> None:
    """A command's progress note on stderr (not its result), hidden by ``--quiet``."""
    if verbosity() != "quiet":
        print(message, file=sys.stderr)
