"""Shared set-up for bench scripts: a simulated, ingested (and optionally trained) warehouse, cached on disk
under ``bench/.cache`` so several scripts in one ``make bench`` build it once."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
# speed benches measure the LightGBM path: the one candidate, registered whatever the rule does
FAST_TRAIN = ('{"num_boost_round": 400, "early_stopping_rounds": 30, '
              '"selection": {"candidates": ["lightgbm"], "replace_rule_if": "always"}}')


def _run(args: list[str]) -> str:
    from typer.testing import CliRunner

    from commands.app import app

    result = CliRunner().invoke(app, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"povwatch {' '.join(args)} failed:\n{result.output}")
    return result.output


def quiet() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def simulated_warehouse(households: int, rounds: int, seed: int = 5, *, trained: bool = False,
                        truth_replicates: int = 32) -> Path:
    """``bench/.cache/wh-<N>x<R>-s<seed>[-t<replicates>]``: simulated, ingested and (when asked) trained."""
    quiet()
    tag = f"{households}x{rounds}-s{seed}" + (f"-t{truth_replicates}" if truth_replicates != 32 else "")
    root = CACHE / f"wh-{tag}"
    raw = CACHE / f"sim-{tag}"
    if not (raw / "households.parquet").exists():
        shutil.rmtree(raw, ignore_errors=True)
        _run(["simulate", "--households", str(households), "--rounds", str(rounds), "--seed", str(seed),
              "--out", str(raw), "--truth-replicates", str(truth_replicates)])
    if not (root / "households").is_dir():
        _run(["ingest", str(raw), "--warehouse", str(root)])
        truth = next(raw.glob("truth*.parquet"), None)
        if truth is not None:
            shutil.copy(truth, root / "truth.parquet")
    if trained and not (root / "mlflow.db").exists():
        cfg = CACHE / "fast-train.json"
        cfg.write_text(FAST_TRAIN)
        out = _run(["train", "--warehouse", str(root), "--config", str(cfg)])
        if "not made champion" in out:  # the gate (model vs rule) is measured elsewhere; benches need a champion
            _run(["promote", "--warehouse", str(root), "--force"])
    return root


@contextmanager
def timer(label: str, sink: dict[str, float]):
    t0 = time.perf_counter()
    yield
    sink[label] = time.perf_counter() - t0


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
