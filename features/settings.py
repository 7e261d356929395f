"""Every setting povwatch reads from the environment, with its default and limits: the one place to look.

Import-light on purpose (no pandas, no pydantic): ``povwatch --help`` and the BentoML workers read it. Values
are read when asked for (functions), never at import, so a test or a command can set a variable first.

| variable | default | read by |
|---|---|---|
| ``POVWATCH_WAREHOUSE`` | ``./povwatch-data`` | every command (``--warehouse``), the service |
| ``POVWATCH_MODEL_ALIAS`` | ``champion`` | the service (``povwatch serve --alias`` sets it) |
| ``POVWATCH_NUM_THREADS`` | cores // workers | the service's LightGBM threads (``povwatch serve`` sets it) |
| ``POVWATCH_MAX_REQUEST_MB`` | 100 | the service: largest request body |
| ``POVWATCH_API_TOKEN`` / ``POVWATCH_API_TOKENS`` | unset (open) | the service's bearer tokens (``serving.tokens``) |
| ``POVWATCH_ID_KEY`` | unset | ingest: key of the identifier hash (``features.data.pii``) |
| ``POVWATCH_DB_URL`` | SQLite in the warehouse | the case store (``cases.db``) |
| ``POVWATCH_USER`` | the login name | ``promote --force``: who forced it |
| ``POVWATCH_VERBOSITY`` | set by ``-v`` | log level of every command (``features.console``) |
| ``MLFLOW_TRACKING_URI`` | ``sqlite:///<warehouse>/mlflow.db`` | tracking and registry (``models.registry``) |

Telemetry of third-party tools is switched off by every command and the service
(``models.registry.quiet_telemetry``: ``MLFLOW_DISABLE_TELEMETRY``, ``BENTOML_DO_NOT_TRACK``, ``DO_NOT_TRACK``).
"""

from __future__ import annotations

import os
from pathlib import Path

from features.defaults import DEFAULT_WAREHOUSE

WAREHOUSE_ENV = "POVWATCH_WAREHOUSE"
MODEL_ALIAS_ENV = "POVWATCH_MODEL_ALIAS"
NUM_THREADS_ENV = "POVWATCH_NUM_THREADS"
MAX_REQUEST_MB_ENV = "POVWATCH_MAX_REQUEST_MB"
USER_ENV = "POVWATCH_USER"

DEFAULT_ALIAS = "champion"
DEFAULT_MAX_REQUEST_MB = 100.0
MAX_HOUSEHOLDS_PER_REQUEST = 20_000  # /score; documented in docs/service.md


def warehouse() -> Path:
    """``$POVWATCH_WAREHOUSE`` or ``./povwatch-data``."""
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


def model_alias() -> str:
    """The registry alias the service scores with: ``$POVWATCH_MODEL_ALIAS`` or ``champion``."""
    return os.environ.get(MODEL_ALIAS_ENV) or DEFAULT_ALIAS


def num_threads(workers: int = 1) -> int:
    """LightGBM threads per service worker: ``$POVWATCH_NUM_THREADS``, else the cores shared among workers."""
    given = os.environ.get(NUM_THREADS_ENV)
    if given:
        value = int(given)
        if value < 1:
            raise ValueError(f"{NUM_THREADS_ENV}={given!r}: expected a whole number of threads >= 1")
        return value
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def max_request_bytes() -> int:
    """Largest request body the service reads: ``$POVWATCH_MAX_REQUEST_MB`` megabytes (default 100)."""
    given = os.environ.get(MAX_REQUEST_MB_ENV)
    megabytes = float(given) if given else DEFAULT_MAX_REQUEST_MB
    if megabytes <= 0:
        raise ValueError(f"{MAX_REQUEST_MB_ENV}={given!r}: expected a positive number of megabytes")
    return int(megabytes * 1024 * 1024)
