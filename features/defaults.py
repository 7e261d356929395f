"""Defaults the command line shows before any heavy import (``povwatch --help`` must not load pandas)."""

DEFAULT_WAREHOUSE = "povwatch-data"  # the warehouse folder when neither --warehouse nor POVWATCH_WAREHOUSE is given
