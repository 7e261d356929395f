"""The exit codes of every ``povwatch`` command (docs/cli.md), and the one way a command fails.

| code | meaning                                                                              |
|------|--------------------------------------------------------------------------------------|
| 0    | done                                                                                 |
| 1    | ran and refused: the promotion gate said no, a check found what it looks for          |
| 2    | usage or input error: a bad option, unreadable or refused input, no data, no model,   |
|      | the port in use — nothing was changed                                                  |

Click already exits 2 for a usage error; everything else goes through ``fail``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NoReturn

import typer


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    INPUT_ERROR = 2


def fail(message: str, code: ExitCode = ExitCode.INPUT_ERROR) -> NoReturn:
    """Print ``error: message`` on one line of stderr and exit with ``code`` (no traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))
