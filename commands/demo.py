"""``povwatch demo``: the whole chain on the embedded defaults, each step the real CLI command a user would type.

simulate → ingest → train (candidates, model vs rule vs oracle) → promote → batch score the newest round → village
list and household reports → the worklist, simulated home visits and the loop report → the drift verdict of the
newest round → the service answering one household with and without a new hospitalisation.
A second run reuses what exists: the simulated files, the warehouse (ingest is idempotent) and the champion
when the data it was trained on has not changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from commands import child_server
from commands.options import WAREHOUSE, WarehouseOption

READY_TIMEOUT_S = 120


@dataclass
class DemoSettings:
    warehouse: Path
    households: int = 20_000
    rounds: int = 5
    seed: int = 2026


def _povwatch() -> list[str]:
    exe = Path(sys.executable).with_name("povwatch")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "commands.app"]


def run(args: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> str:
    """Run one povwatch command, echoing it and its output like a tutorial; ``ok``: exit codes that are
    outcomes, not failures (``promote`` exits 1 when its gate refuses)."""
    print(f"\n$ povwatch {' '.join(args)}", flush=True)
    proc = subprocess.run(_povwatch() + args, env=env, text=True, capture_output=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode not in ok:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"demo step failed: povwatch {' '.join(args)} (exit {proc.returncode})")
    return proc.stdout


def _trained_on_current_data(warehouse: Path) -> str | None:
    """The champion's version if its run saw exactly the warehouse as it is now, else None."""
    from features.data.warehouse import Warehouse
    from models import registry
    from training.train import fingerprint

    if not (warehouse / "mlflow.db").exists() and not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    client = registry.connect(warehouse)
    try:
        ref = registry.resolve(client, registry.CHAMPION)
    except registry.RegistryError:
        return None
    params = client.get_run(ref.run_id).data.params
    now = {k: str(v) for k, v in fingerprint(Warehouse(warehouse)).items()}
    return ref.version if all(params.get(k) == v for k, v in now.items()) else None


def service_round_trip(warehouse: Path, household_id: str, as_of: "pd.Timestamp") -> tuple[float, float]:  # noqa: F821
    """Start the service, score one household without and with a fresh hospitalisation, stop it."""
    import httpx
    import pandas as pd

    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse

    when = as_of + pd.Timedelta(days=45)
    doc = household_documents(Warehouse(warehouse), [household_id], when)[0]
    shocked = json.loads(json.dumps(doc))
    member = doc["members"][0].get("member_id") if doc["members"] else None
    shocked["events"].append({"member_id": member, "event_date": (when - pd.Timedelta(days=5)).date().isoformat(),
                              "event_type": "hospitalization", "amount": 38000.0, "source": "self_report"})
    port = child_server.free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"\n$ povwatch serve --port {port} --warehouse {warehouse}   (in the background)", flush=True)
    proc = subprocess.Popen(_povwatch() + ["serve", "--port", str(port), "--warehouse", str(warehouse)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        try:
            child_server.wait_ready(f"{url}/readyz", proc, READY_TIMEOUT_S)
        except child_server.NotReady as e:
            raise SystemExit(f"the service was not ready: {e}") from None
        answers = []
        for body in (doc, shocked):
            r = httpx.post(f"{url}/score", json={"households": [body]}, timeout=60)
            r.raise_for_status()
            answers.append(r.json()["results"][0])
        print(f"household {household_id} as of {when.date()}:")
        print(f"  risk without new events:                            {answers[0]['risk']:.4f} ({answers[0]['tier']})")
        print(f"  risk with a reported hospitalisation (38,000 yuan): {answers[1]['risk']:.4f} ({answers[1]['tier']})")
        return answers[0]["risk"], answers[1]["risk"]
    finally:
        child_server.stop(proc, group=True)


def closing_the_loop(wh: Path, raw: Path, newest: str, issued: str, env: dict[str, str]) -> None:
    """Issue the newest round's worklist (recorded in the case store; issued at the round's as-of date, so its
    deadlines and the simulated visits share one calendar), simulate what the home visits find, load those
    outcomes as a county's export, and print how well each channel of the list worked."""
    worklist = wh / "worklists" / f"round-{newest}.csv"
    run(["worklist", "--round", newest, "--issued", issued, "--warehouse", str(wh), "--out", str(worklist)], env)
    outcomes = wh / "outcomes"  # what a county exports from its monitoring platform: 入户核实结果, in Chinese
    run(["simulate", "--visits", str(worklist), "--truth", str(raw / "truth.parquet"), "--out", str(outcomes),
         "--seed", "2026", "--format", "csv", "--zh", "--warehouse", str(wh)], env)
    run(["outcomes", "ingest", str(outcomes), "--warehouse", str(wh)], env)
    run(["loop-report", "--warehouse", str(wh), "--html", str(wh / "reports" / "loop.html")], env)


def demo(settings: DemoSettings) -> None:
    import pandas as pd

    from features.indicators.labels import round_as_of
    from features.data.warehouse import Warehouse

    wh = settings.warehouse
    raw = wh / "raw"
    env = {**os.environ, "POVWATCH_WAREHOUSE": str(wh)}
    if (raw / "households.parquet").exists():
        print(f"reusing simulated rounds in {raw}")
    else:
        run(["simulate", "--households", str(settings.households), "--rounds", str(settings.rounds),
             "--seed", str(settings.seed), "--out", str(raw)], env)
    run(["ingest", str(raw), "--warehouse", str(wh)], env)
    version = _trained_on_current_data(wh)
    if version:
        print(f"\nreusing champion povwatch-risk v{version}: trained on exactly this warehouse")
    else:
        run(["train", "--warehouse", str(wh)], env)
        run(["promote", "--warehouse", str(wh)], env, ok=(0, 1))  # a refusal keeps the current champion
    rounds = round_as_of(Warehouse(wh))
    newest = str(rounds.index[-1])
    scores_path = wh / "scores" / f"round-{newest}.csv"
    run(["score", "--round", newest, "--warehouse", str(wh), "--out", str(scores_path)], env)
    scores = pd.read_csv(scores_path, dtype={"household_id": str})
    scores = scores[scores["eligible"] & ~scores["stale"]]  # households of the newest round that can still fall
    top = scores.iloc[0]["household_id"]
    # the service round trip uses a household just below the high tier: the one a new shock may push over
    medium = scores[scores["tier"] == "medium"]
    border = (medium if len(medium) else scores).iloc[0]["household_id"]
    hh = Warehouse(wh).households([newest], columns=["household_id", "village"])
    village = hh.loc[hh["household_id"] == top, "village"].iloc[0]
    reports = wh / "reports"
    closing_the_loop(wh, raw, newest, pd.Timestamp(rounds[newest]).date().isoformat(), env)
    shutil.rmtree(reports / "village", ignore_errors=True)  # its loop.html: what the visits in the village found
    run(["report", "--village", village, "--warehouse", str(wh), "--out", str(reports / "village")], env)
    run(["report", "--household", top, "--warehouse", str(wh), "--out", str(reports / f"household-{top}.html")], env)
    run(["report", "--household", top, "--warehouse", str(wh), "--lang", "en",
         "--out", str(reports / f"household-{top}.en.html")], env)
    run(["drift", "--round", newest, "--warehouse", str(wh), "--out", str(wh / "drift")], env)
    service_round_trip(wh, border, pd.Timestamp(rounds[newest]))
    print(f"""
Where everything is:
  warehouse        {wh.resolve()}
  scores           {scores_path.resolve()}
  village list     {(reports / 'village' / 'index.html').resolve()}
  worklist         {(wh / 'worklists' / f'round-{newest}.csv').resolve()}
  loop report      {(reports / 'loop.html').resolve()}
  drift            {(wh / 'drift').resolve()}
  household report {(reports / f'household-{top}.html').resolve()}
  drift report     {(wh / 'drift' / f'drift-{newest}.zh.html').resolve()}
  MLflow UI        mlflow ui --backend-store-uri sqlite:///{wh.resolve()}/mlflow.db
  serve            povwatch serve --warehouse {wh}
""")


def demo_cmd(
    warehouse: WarehouseOption = WAREHOUSE,
    households: Annotated[int, typer.Option("--households", min=200, help="Households to simulate.")] = 20_000,
    rounds: Annotated[int, typer.Option("--rounds", min=3, help="Yearly survey rounds to simulate.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Simulator seed.")] = 2026,
) -> None:
    """The whole chain on simulated data, ending with the service answering."""
    demo(DemoSettings(warehouse=warehouse, households=households, rounds=rounds, seed=seed))
