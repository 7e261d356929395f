"""One scoring path: the same households through every entry point give identical risk, tier and eligibility.

Entry points: ``povwatch score`` (the warehouse, in chunks), the registered MLflow pyfunc (documents), the
service's ``/score`` and ``/explain``, ``povwatch report`` (the household pages) and
``models.explain.explain``. Every one runs the session's champion on one village between two rounds (events
reported since the newest round count).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import invoke


def _village(warehouse: Path, as_of: pd.Timestamp) -> tuple[str, list[str]]:
    """The first village (by name) holding both households that can still fall and households already below
    the line at ``as_of``, and its household ids."""
    from features.data.as_of import rounds_known_at
    from features.data.warehouse import Warehouse
    from models.registry import load_risk_model
    from models.scoring import score_partition

    wh = Warehouse(warehouse)
    rounds = rounds_known_at(wh, as_of)
    hh = wh.households(rounds)
    scored = score_partition(hh, wh.members(rounds), wh.events(end=as_of), None, as_of,
                             load_risk_model(warehouse))
    latest = hh.sort_values("survey_date").groupby("household_id").tail(1).set_index("household_id")["village"]
    scored["village"] = scored["household_id"].map(latest)
    for village, group in scored.groupby("village", sort=True):
        if group["eligible"].any() and not group["eligible"].all() and len(group) <= 80:
            return str(village), sorted(group["household_id"])
    raise AssertionError("no village of the test county has both kinds of household")


@pytest.fixture(scope="module")
def setting(trained_warehouse: Path):
    from features.data.warehouse import Warehouse

    as_of = (Warehouse(trained_warehouse).rounds()["last_date"].max() + pd.Timedelta(days=45)).normalize()
    village, ids = _village(trained_warehouse, as_of)
    return as_of, village, ids


def _frame(rows: dict[str, tuple[float, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=["risk", "tier", "eligible"]).sort_index()


def test_every_entry_point_gives_identical_risk_tier_and_eligibility(trained_warehouse: Path, setting,
                                                                     tmp_path: Path) -> None:
    import mlflow.pyfunc

    from features.data.documents_from_warehouse import household_documents
    from features.data.warehouse import Warehouse
    from models import registry
    from models.explain import explain
    from serving.reports import safe_file_name
    from tests.test_service import service_client

    as_of, village, ids = setting
    day = str(as_of.date())
    results: dict[str, pd.DataFrame] = {}

    # povwatch score: the whole warehouse in small chunks
    out = tmp_path / "scores.parquet"
    invoke(["score", "--as-of", day, "--warehouse", str(trained_warehouse), "--out", str(out), "--chunk", "1000",
            "--explain-top", "0"])
    batch = pd.read_parquet(out).set_index("household_id").loc[ids]
    results["povwatch score"] = _frame({h: (r.risk, r.tier, bool(r.eligible)) for h, r in batch.iterrows()})

    docs = household_documents(Warehouse(trained_warehouse), ids, as_of)
    assert [d["record"]["household_id"] for d in docs] == ids

    # the registered pyfunc, as any MLflow caller loads it
    registry.connect(trained_warehouse)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}")
    scored = pyfunc.predict(pd.DataFrame({"household": [json.dumps(d) for d in docs]}))
    results["pyfunc"] = _frame({h: (r, t, bool(e)) for h, r, t, e in
                                zip(scored["household_id"], scored["risk"], scored["tier"], scored["eligible"])})

    # the service: /score for all, /explain for each
    api = service_client(trained_warehouse)
    r = api.post("/score", json={"households": docs})
    assert r.status_code == 200, r.text
    results["service /score"] = _frame({x["household_id"]: (x["risk"], x["tier"], x["eligible"])
                                        for x in r.json()["results"]})
    explained = {}
    for d in docs:
        r = api.post("/explain", json={"household": d})
        assert r.status_code == 200, r.text
        body = r.json()
        explained[body["household_id"]] = (body["risk"], body["tier"], body["eligible"])
    results["service /explain"] = _frame(explained)

    # models.explain on the indicators of the same documents
    model = registry.load_risk_model(trained_warehouse)
    results["explain()"] = _frame({e.household_id: (e.risk, e.tier, e.eligible)
                                   for e in explain(model, model.indicators(docs))})

    # povwatch report: each household's page of the village
    reports = tmp_path / "reports"
    invoke(["report", "--village", village, "--as-of", day, "--warehouse", str(trained_warehouse),
            "--out", str(reports)])
    pages = {}
    for h in ids:
        page = (reports / safe_file_name(h)).read_text(encoding="utf-8")
        r, t, e = re.search(r'data-risk="([^"]+)" data-tier="([^"]+)" data-eligible="([^"]+)"', page).groups()
        pages[h] = (float(r), t, e == "true")
    results["report household pages"] = _frame(pages)

    reference = results["povwatch score"]
    assert len(reference) == len(ids) and set(reference["eligible"]) == {True, False}
    for name, frame in results.items():
        assert list(frame.index) == list(reference.index), name
        pd.testing.assert_frame_equal(frame, reference, check_exact=True, obj=name)
