"""The Bento: ``bentoml build`` (bentofile.yaml) then ``bentoml serve <tag>`` answers like ``povwatch serve``,
driven through BentoML's own client and plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml

from tests.test_service import docs, service_client  # noqa: F401  (docs is a fixture)
from commands import child_server

ROOT = Path(__file__).resolve().parents[1]
BENTOML = str(Path(sys.executable).parent / "bentoml")


def test_bentofile_installs_the_projects_dependencies() -> None:
    bentofile = yaml.safe_load((ROOT / "bentofile.yaml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert bentofile["python"]["packages"] == project["dependencies"]
    assert bentofile["service"] == "serving.service:Povwatch"


@pytest.mark.server
def test_built_bento_serves_like_povwatch_serve(trained_warehouse: Path, docs, tmp_path: Path) -> None:  # noqa: F811
    import bentoml

    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml"), "BENTOML_DO_NOT_TRACK": "true",
           "POVWATCH_WAREHOUSE": str(trained_warehouse), "POVWATCH_RELOAD_SECONDS": "0"}
    env.pop("POVWATCH_API_TOKEN", None)
    built = subprocess.run([BENTOML, "build", "-o", "tag"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    tag = built.stdout.strip().splitlines()[-1].removeprefix("__tag__:")
    assert tag.startswith("povwatch:")
    port = child_server.free_port()
    log = tmp_path / "bento.log"
    with log.open("wb") as out:  # served from the Bento store, outside the source tree
        proc = subprocess.Popen([BENTOML, "serve", tag, "--port", str(port)], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        child_server.wait_ready(f"{url}/readyz", proc, 180, log)
        reference = service_client(trained_warehouse)  # the service povwatch serve runs, in process
        households = docs[:5]
        expected = reference.post("/score", json={"households": households}).json()
        assert httpx.post(f"{url}/score", json={"households": households}, timeout=60).json() == expected
        with bentoml.SyncHTTPClient(url, timeout=60) as client:
            answer = client.score(households=households)
        results = answer["results"] if isinstance(answer, dict) else answer.results
        assert [r["risk"] if isinstance(r, dict) else r.risk for r in results] == [r["risk"] for r in expected["results"]]
        assert httpx.get(f"{url}/model").json() == reference.get("/model").json()
        bad = httpx.get(f"{url}/score")
        assert bad.status_code == 405 and bad.json()["errors"]
    finally:
        child_server.stop(proc)
