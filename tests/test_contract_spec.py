"""features/data/contract.py implements docs/survey-contract.yaml exactly: every table, column, zh label, type,
requiredness, range, enum code and label, key, and the monitoring-line defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from features.data import contract

SPEC = yaml.safe_load((Path(__file__).parents[1] / "docs" / "survey-contract.yaml").read_text(encoding="utf-8"))


def test_version_matches() -> None:
    assert str(SPEC["version"]) == contract.CONTRACT_VERSION


@pytest.mark.parametrize("name", list(SPEC["tables"]))
def test_table_matches_spec(name: str) -> None:
    spec = SPEC["tables"][name]
    table = contract.TABLES[name]
    assert table.zh == spec["zh"]
    assert list(table.key) == spec["key"]
    assert table.names == [c["name"] for c in spec["columns"]]
    for c in spec["columns"]:
        col = table.column(c["name"])
        assert (col.zh, col.type, col.required) == (c["zh"], c["type"], c["required"]), c["name"]
        if "values" in c:
            assert col.values == c["values"], c["name"]
        for bound in ("min", "max"):
            if bound in c:
                assert getattr(col, bound) == c[bound], (c["name"], bound)


def test_shared_enum_lists_use_the_household_codes() -> None:
    """outcomes.risk_types and outcomes.measures use the same codes as the households table."""
    outcomes, households = contract.TABLES["outcomes"], contract.TABLES["households"]
    assert outcomes.column("risk_types").values == households.column("risk_types").values
    assert outcomes.column("measures").values == households.column("assistance").values


def test_monitoring_line_defaults() -> None:
    spec = SPEC["monitoring_lines"]
    assert contract.MONITORING_LINES.names == [c["name"] for c in spec["columns"]]
    assert [(d["province"], d["year"], float(d["line"])) for d in spec["defaults"]] == list(contract.DEFAULT_LINES)


def test_audit_only_columns_are_never_model_inputs() -> None:
    from features.indicators.catalogue import FEATURES

    assert "ethnic_minority" in contract.AUDIT_ONLY_COLUMNS
    for f in FEATURES:
        assert not any(col in f.name for col in contract.AUDIT_ONLY_COLUMNS), f.name


def test_outcome_rules_name_the_field() -> None:
    import pandas as pd

    from features.data.validate import validate_frame

    rows = pd.DataFrame([
        # fine: identified with risk types and measures
        {"预警编号": "a1", "户编号": "h1", "入户核实日期": "2025-03-01", "核实人编号": "s1", "核实结论": "认定为监测对象",
         "认定风险类型": "因病", "落实帮扶措施": "健康帮扶", "措施落实日期": "2025-03-09", "认定日期": "2025-03-10"},
        # identified without risk types
        {"预警编号": "a2", "户编号": "h2", "入户核实日期": "2025-03-01", "核实人编号": "s1", "核实结论": "identified"},
        # override reason on a household that was identified elsewhere
        {"预警编号": "a3", "户编号": "h3", "入户核实日期": "2025-03-01", "核实人编号": "s1",
         "核实结论": "already_monitored", "不纳入原因": "income_higher"},
        # decision before the visit
        {"预警编号": "a4", "户编号": "h4", "入户核实日期": "2025-03-01", "核实人编号": "s1",
         "核实结论": "not_identified", "不纳入原因": "income_higher", "认定日期": "2025-02-01"},
        # measures for a household not identified
        {"预警编号": "a5", "户编号": "h5", "入户核实日期": "2025-03-01", "核实人编号": "s1",
         "核实结论": "not_identified", "落实帮扶措施": "health"},
        # a later row for a1: history, not a duplicate
        {"预警编号": "a1", "户编号": "h1", "入户核实日期": "2025-03-01", "核实人编号": "s1", "核实结论": "identified",
         "认定风险类型": "illness", "认定日期": "2025-03-10", "风险消除日期": "2025-09-30"},
    ])
    result = validate_frame("outcomes", rows, source="outcomes.csv")
    assert len(result.accepted) == 2
    reasons = result.rejected.set_index("source_row")["rule"].to_dict()
    assert reasons == {2: "risk_types", 3: "override_reason", 4: "date_order:decision_date", 5: "measures"}


def test_survey_ingest_refuses_case_tables(tmp_path) -> None:
    from features.data.ingest import collect_files
    from features.data.validate import ContractError

    f = tmp_path / "outcomes.csv"
    f.write_text("alert_id\nx\n")
    with pytest.raises(ContractError, match="povwatch outcomes ingest"):
        collect_files([f], None)
