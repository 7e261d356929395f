"""Data tests of the survey contract: every rule with a failing row, Chinese input, derived quantities and the
monitoring-line lookup. Rows are built by hand so each test reads as one household."""

from __future__ import annotations

import pandas as pd
import pytest

from features.data.contract import HOUSEHOLDS, MEMBERS, PII_COLUMNS
from features.data.derived import MissingLineError, hardship_income_pc, monitoring_line, net_income, net_income_pc
from features.data.pii import MissingIdKeyError, is_pii_column, keyed_hash, pseudonymise_ids
from features.data.validate import ContractError, validate_frame


def household(**over: str) -> dict[str, str]:
    """One valid households row as a survey export would have it (English headers and codes)."""
    row = {
        "household_id": "H1", "round_id": "2023", "survey_date": "2023-03-15", "province": "甘肃省",
        "county": "会宁县", "township": "甲镇", "village": "一村", "household_type": "escaped",
        "is_monitored": "true", "monitoring_type": "marginal", "risk_types": "illness;education",
        "relocated": "false", "household_size": "3", "wage_income": "20000", "public_job_income": "3000",
        "operating_income": "8000", "operating_expense": "2000", "property_income": "500",
        "asset_dividend": "300", "transfer_income": "4000", "dibao_income": "1000", "tekun_income": "0",
        "pension_income": "1500", "eco_compensation": "200", "family_planning_income": "0",
        "medical_expense": "6000", "education_expense": "1000", "housing_safe": "1", "water_safe": "Y",
        "cultivated_land_mu": "4.5", "assistance": "industry;health",
    }
    row.update(over)
    return row


def member(**over: str) -> dict[str, str]:
    """One valid members row of household H1, round 2023."""
    row = {
        "household_id": "H1", "round_id": "2023", "member_id": "M1", "relation": "head", "sex": "M",
        "age": "52", "education": "junior", "school_status": "not_in_school", "health": "healthy",
        "disability_grade": "", "labor_skill": "ordinary", "work_location": "in_county", "work_months": "8",
        "basic_medical_insurance": "true",
    }
    row.update(over)
    return row


def event(**over: str) -> dict[str, str]:
    row = {"household_id": "H1", "member_id": "M1", "event_date": "2023-07-01",
           "event_type": "hospitalization", "amount": "12000", "source": "self_report"}
    row.update(over)
    return row


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_valid_household_is_accepted_in_canonical_form() -> None:
    r = validate_frame("households", frame(household()), source="h.csv")
    assert r.rejected.empty and len(r.accepted) == 1
    row = r.accepted.iloc[0]
    assert row["household_size"] == 3 and str(r.accepted["household_size"].dtype) == "Int64"
    assert str(r.accepted["is_monitored"].dtype) == "boolean" and bool(row["is_monitored"])
    assert str(r.accepted["survey_date"].dtype) == "datetime64[ns]"
    assert row["survey_date"] == pd.Timestamp("2023-03-15")
    assert r.accepted["wage_income"].dtype == "float64" and row["wage_income"] == 20000.0
    assert row["risk_types"] == "illness;education" and row["monitoring_type"] == "marginal"
    assert pd.isna(row["road_distance_km"])  # optional column absent from the file: empty, not an error


def test_chinese_headers_labels_booleans_and_full_width_separators() -> None:
    zh = {c.name: c.zh for c in HOUSEHOLDS.columns}
    row = household(household_type="脱贫户", is_monitored="是", monitoring_type="边缘易致贫户",
                    risk_types="因病；因学", relocated="否", housing_safe="是", water_safe="否",
                    assistance=" 产业帮扶 ; 健康帮扶 ", survey_date="2023/3/15", village="  一村 ")
    chinese = validate_frame("households", frame(row).rename(columns=zh), source="农户年度采集表.csv")
    english = validate_frame("households", frame(household(water_safe="N")), source="h.csv")
    assert chinese.rejected.empty, chinese.rejected["reason"].tolist()
    pd.testing.assert_frame_equal(chinese.accepted, english.accepted)
    assert chinese.accepted.iloc[0]["village"] == "一村"


def test_boolean_spellings() -> None:
    rows = [household(household_id=f"H{i}", relocated=v) for i, v in
            enumerate(["true", "FALSE", "1", "0", "是", "否", "Y", "n", "yes", "No"])]
    r = validate_frame("households", frame(*rows))
    assert r.rejected.empty
    assert r.accepted["relocated"].tolist() == [True, False] * 5


# rule id, table, row, words the reason must contain (rule, column, value)
FAILURES = [
    ("money below 0", "households", household(wage_income="-5"), ["range", "wage_income", "'-5'"]),
    ("money at the cap", "households", household(medical_expense="10000000"),
     ["range", "medical_expense", "'10000000'", "< 10,000,000"]),
    ("money not a number", "households", household(property_income="abc"), ["type", "property_income", "'abc'"]),
    ("int range", "households", household(household_size="31"), ["range", "household_size", "'31'", "1 and 30"]),
    ("int not integral", "households", household(household_size="2.5"), ["type", "household_size", "'2.5'"]),
    ("float range", "households", household(cultivated_land_mu="20000"), ["range", "cultivated_land_mu", "'20000'"]),
    ("enum", "households", household(household_type="rich"), ["enum", "household_type", "'rich'", "escaped (脱贫户)"]),
    ("bool", "households", household(housing_safe="maybe"), ["type", "housing_safe", "'maybe'", "是/否"]),
    ("date", "households", household(survey_date="2023-13-45"), ["type", "survey_date", "'2023-13-45'"]),
    ("required", "households", household(village=""), ["required", "village", "行政村", "missing"]),
    ("enum list token", "households", household(risk_types="illness;bad_luck"),
     ["enum", "risk_types", "'bad_luck'"]),
    ("at most 5 risk types", "households",
     household(risk_types="illness;education;disability;disaster;accident;other"),
     ["max_risk_types", "6 entries", "at most 5"]),
    ("part of wage", "households", household(public_job_income="25000"),
     ["part_of", "public_job_income='25000'", "wage_income='20000'"]),
    ("part of property", "households", household(asset_dividend="900"),
     ["part_of", "asset_dividend='900'", "property_income='500'"]),
    ("part of transfer", "households", household(dibao_income="5000"),
     ["part_of", "dibao_income='5000'", "transfer_income='4000'"]),
    ("sum of transfer parts", "households", household(tekun_income="1000", family_planning_income="400"),
     ["transfer_parts", "= 4100", "transfer_income='4000'"]),
    ("monitored without type", "households", household(monitoring_type=""),
     ["monitoring_type", "is_monitored='true'", "missing"]),
    ("type without monitoring", "households", household(is_monitored="否"),
     ["monitoring_type", "is_monitored='否'", "monitoring_type='marginal'"]),
    ("member age", "members", member(age="121"), ["range", "age", "'121'", "0 and 120"]),
    ("member sex", "members", member(sex="X"), ["enum", "sex", "'X'"]),
    ("disability grade when healthy", "members", member(disability_grade="2"),
     ["disability_grade", "disability_grade='2'", "health='healthy'"]),
    ("disability grade range", "members", member(health="disabled", disability_grade="5"),
     ["range", "disability_grade", "'5'"]),
    ("months without work", "members", member(work_location="none", work_months="3"),
     ["work_months", "work_months='3'", "work_location='none'"]),
    ("work without months", "members", member(work_months="0"),
     ["work_months", "work_months='0'", "work_location='in_county'"]),
    ("event money", "events", event(amount="-1"), ["range", "amount", "'-1'"]),
    ("event type", "events", event(event_type="lottery"), ["enum", "event_type", "'lottery'"]),
    ("line year", "monitoring_lines", {"province": "*", "year": "1800", "line": "6000"}, ["range", "year", "'1800'"]),
]


@pytest.mark.parametrize(("table", "row", "words"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_each_rule_rejects_with_a_reason_naming_rule_column_value(table: str, row: dict, words: list[str]) -> None:
    good = {"households": household, "members": member, "events": event}.get(table)
    rows = [row] if good is None else [good(**{list(good())[0]: "OK1"}), row]
    r = validate_frame(table, frame(*rows), source="f.csv")
    assert len(r.rejected) == 1, r.rejected.get("reason")
    reason = r.rejected.iloc[0]["reason"]
    for w in words:
        assert w in reason, f"{w!r} not in {reason!r}"
    assert r.rejected.iloc[0]["source_file"] == "f.csv"
    assert r.rejected.iloc[0]["source_row"] == len(rows)  # 1-based data row
    assert len(r.accepted) == len(rows) - 1


def test_valid_edge_values_pass() -> None:
    rows = [household(household_id="A", medical_expense="9999999.99", household_size="30"),
            household(household_id="B", is_monitored="false", monitoring_type="", risk_types=""),
            household(household_id="C", risk_types="因病;因学;因残;因自然灾害;其他")]
    assert validate_frame("households", frame(*rows)).rejected.empty
    ms = [member(member_id="A", health="disabled", disability_grade="3"),
          member(member_id="B", work_location="未务工", work_months="0")]
    assert validate_frame("members", frame(*ms)).rejected.empty


def test_several_reasons_are_joined_and_rejected_keeps_values_as_read() -> None:
    r = validate_frame("households", frame(household(wage_income="-1", household_type="rich", 备注="x")))
    row = r.rejected.iloc[0]
    assert row["rule"].split("; ") == ["enum:household_type", "range:wage_income"]
    assert row["reason"].count("; ") == 1  # a money value out of range does not also fail part_of
    assert row["wage_income"] == "-1" and row["household_type"] == "rich"
    assert r.unknown_columns == ["备注"] and "备注" not in r.rejected.columns


def test_duplicate_keys_reject_every_copy_naming_the_key() -> None:
    r = validate_frame("households", frame(household(), household(wage_income="1"), household(household_id="H2")))
    assert r.accepted["household_id"].tolist() == ["H2"]
    assert r.rejected["source_row"].tolist() == [1, 2]
    assert all("duplicate_key: (household_id, round_id) = (H1, 2023) appears 2 times" in x
               for x in r.rejected["reason"])


def test_missing_required_column_names_file_and_column() -> None:
    df = frame(household()).drop(columns=["village", "county"])
    with pytest.raises(ContractError, match=r"h\.csv: missing required column\(s\) county \(县\), village \(行政村\)"):
        validate_frame("households", df, source="h.csv")


def test_empty_frame_is_refused() -> None:
    with pytest.raises(ContractError, match="m.csv: no data rows"):
        validate_frame("members", frame(member()).iloc[:0], source="m.csv")


def test_two_headers_for_one_column_are_refused() -> None:
    df = frame(household()).assign(行政村="一村")
    with pytest.raises(ContractError, match="both name column village"):
        validate_frame("households", df, source="h.csv")


def test_pii_columns_are_dropped_before_anything_else() -> None:
    df = frame(household(wage_income="-1")).assign(**{"身份证号": "620422199001011234", "户主姓名": "张三",
                                                       " Phone Number ": "13800138000"})
    r = validate_frame("households", df)
    assert sorted(r.dropped_pii_columns) == sorted(["身份证号", "户主姓名", " Phone Number "])
    text = r.rejected.to_csv() + r.accepted.to_csv()
    for value in ("620422199001011234", "张三", "13800138000"):
        assert value not in text
    assert all(is_pii_column(c) for c in PII_COLUMNS) and not is_pii_column("village")


def test_identity_number_ids_are_hashed_with_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POVWATCH_ID_KEY", "test-key")
    idn = "62042219900101123X"
    r = validate_frame("members", frame(member(member_id=idn), member(member_id="M2", work_months="0")))
    expected = keyed_hash(idn, b"test-key", "m_")
    assert r.accepted["member_id"].tolist() == [expected]
    assert r.rejected["member_id"].tolist() == ["M2"]
    assert keyed_hash(idn.lower(), b"test-key", "m_") == expected  # 'x' and 'X' agree
    assert keyed_hash(idn, b"other-key", "m_") != expected


def test_identity_number_ids_without_key_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POVWATCH_ID_KEY", raising=False)
    idn = "620422900101123"  # the old 15-digit form
    with pytest.raises(MissingIdKeyError, match="POVWATCH_ID_KEY") as info:
        validate_frame("households", frame(household(household_id=idn)), source="h.csv")
    assert idn not in str(info.value)


def test_pseudonymise_ids_for_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POVWATCH_ID_KEY", "k")
    df = pd.DataFrame({"household_id": ["620422199001011234", "H7", None]})
    out = pseudonymise_ids(df, ["household_id"])
    assert out["household_id"].iloc[0].startswith("h_") and out["household_id"].iloc[1] == "H7"
    assert pd.isna(out["household_id"].iloc[2]) and df["household_id"].iloc[0] == "620422199001011234"


def test_members_accept_chinese_headers_and_labels() -> None:
    zh = {c.name: c.zh for c in MEMBERS.columns}
    row = member(relation="户主", sex="女", education="初中", school_status="非在校生", health="残疾",
                 disability_grade="2", labor_skill="弱劳动力或半劳动力", work_location="未务工", work_months="0",
                 basic_medical_insurance="是")
    r = validate_frame("members", frame(row).rename(columns=zh))
    assert r.rejected.empty
    got = r.accepted.iloc[0]
    assert (got["sex"], got["health"], got["labor_skill"], got["work_location"]) == ("F", "disabled", "weak", "none")


# ---------------------------------------------------------------------------- derived quantities and lines

def test_derived_incomes_of_one_household() -> None:
    h = validate_frame("households", frame(household())).accepted
    # 20000 + 8000 - 2000 + 500 + 4000; insurance claims are not income
    assert net_income(h).iloc[0] == 30500.0
    assert net_income_pc(h).iloc[0] == pytest.approx(30500 / 3)
    assert hardship_income_pc(h).iloc[0] == pytest.approx((30500 - 6000 - 1000) / 3)


def test_monitoring_line_lookup() -> None:
    lines = pd.DataFrame({"province": ["*", "*", "甘肃省", "甘肃省"], "year": [2021, 2023, 2022, 2023],
                          "line": [6000.0, 7000.0, 6600.0, 7200.0]})
    got = monitoring_line(pd.Series(["甘肃省", "云南省", "云南省", "甘肃省", "甘肃省", "云南省"]),
                          pd.Series([2023, 2023, 2022, 2025, 2010, 2020]), lines)
    assert got.iloc[0] == 7200.0                         # the province's own entry
    assert got.iloc[1] == 7000.0                         # '*' for a province without entries
    assert got.iloc[2] == 6000.0                         # a gap takes the latest earlier entry
    assert got.iloc[3] == pytest.approx(7200 * 1.05**2)  # +5%/year after the last entry
    assert got.iloc[4] == 6600.0 and got.iloc[5] == 6000.0  # before the first: the first
    with pytest.raises(MissingLineError, match="云南省"):
        monitoring_line(pd.Series(["云南省"]), pd.Series([2023]), lines[lines["province"] != "*"])


def test_from_records_equals_cast_of_a_frame_for_every_table():
    """The service's fast path to canonical frames agrees with ``cast`` exactly, missing values included."""
    from features.data.canonical import cast, from_records

    rows = {
        "households": [
            {"household_id": "H1", "round_id": "2024", "survey_date": "2024-11-02", "province": "甘肃",
             "county": "会宁县", "township": "甲镇", "village": "吉坝村", "household_type": "escaped",
             "is_monitored": True, "monitoring_type": "marginal", "risk_types": "illness;education",
             "relocated": False, "household_size": 3, "wage_income": 1200.5, "operating_income": 0,
             "operating_expense": 0, "property_income": 10, "transfer_income": 900, "dibao_income": 500,
             "medical_expense": 3000, "education_expense": 0, "housing_safe": True, "water_safe": False,
             "cultivated_land_mu": None, "assistance": None},
            {"household_id": "H2", "round_id": "2024", "survey_date": "2024-11-05", "province": "甘肃",
             "county": "会宁县", "township": "甲镇", "village": "吉坝村", "household_type": "general",
             "is_monitored": False, "relocated": True, "household_size": 1, "wage_income": 0,
             "operating_income": 5, "operating_expense": 1, "property_income": 0, "transfer_income": 0,
             "medical_expense": 0, "education_expense": 0, "housing_safe": True, "water_safe": True},
        ],
        "members": [
            {"household_id": "H1", "round_id": "2024", "member_id": "M1", "relation": "head", "sex": "F", "age": 61,
             "education": "none", "school_status": "not_in_school", "health": "disabled", "disability_grade": 2,
             "labor_skill": "weak", "work_location": "none", "work_months": 0, "basic_medical_insurance": True},
            {"household_id": "H1", "round_id": "2024", "member_id": "M2", "relation": "child", "sex": "M", "age": 9,
             "education": "primary", "school_status": "compulsory", "health": "healthy", "labor_skill": "none",
             "work_location": "none", "work_months": 0, "basic_medical_insurance": True, "public_job": None},
        ],
        "events": [
            {"household_id": "H1", "event_date": "2025-01-03", "event_type": "hospitalization", "amount": 8000.0},
            {"household_id": "H1", "member_id": "M1", "event_date": "2025-02-03", "event_type": "job_loss",
             "source": "cadre_visit"},
        ],
    }
    for table, records in rows.items():
        pd.testing.assert_frame_equal(from_records(table, records), cast(table, pd.DataFrame(records)))
