"""The survey data contract, version 1.1, in code: the single source of truth for table and column names,
Chinese labels, units, enums, ranges and the rules between fields.

Spec: ``docs/survey-contract.yaml`` (a test checks this module against it). Version 1.1 adds
``households.ethnic_minority`` (equity audits only, never a model input) and the ``outcomes`` table (what a
home visit found; case data, kept in the case store, not the survey warehouse). Everything else (ingest, simulator, indicators, the
service's request models) reads these objects; nothing else lists columns or enum values.

Canonical in-memory form of a table (what ingest writes and every reader gets):
English column names; enum values as English codes; enum-lists as codes joined by ``;``
(``""`` for none, order as given); bools as pandas ``boolean``; ints as ``Int64``; money and floats as
``float64``; dates as ``datetime64[ns]`` (midnight); strings as ``object`` str.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

CONTRACT_VERSION = "1.1"

ColumnType = Literal["string", "date", "enum", "enum-list", "bool", "int", "float", "money"]

MONEY_MAX = 10_000_000  # money columns are numbers >= 0 and < 10,000,000 (yuan)
LIST_SEPARATORS = (";", "；")
MAX_RISK_TYPES = 5
MAX_ITEMS = {"risk_types": MAX_RISK_TYPES}  # enum-list columns with a length limit
# The one table of spellings: ingest (text cells) and the service (JSON strings) read booleans and enum values
# through ``spelling_key``, so both accept exactly the same spellings.
TRUE_SPELLINGS = frozenset({"true", "1", "是", "y", "yes", "t"})
FALSE_SPELLINGS = frozenset({"false", "0", "否", "n", "no", "f"})
BOOL_SPELLINGS: dict[str, bool] = {**{s: True for s in TRUE_SPELLINGS}, **{s: False for s in FALSE_SPELLINGS}}
SPELLING_NOTE = "any case, full- or half-width, surrounding spaces ignored"


def spelling_key(text: str) -> str:
    """The form a boolean or enum spelling is compared in: Unicode NFKC (full-width to half-width), stripped of
    spaces and a byte-order mark, lower-case."""
    return unicodedata.normalize("NFKC", text).lstrip("\ufeff").strip().lower()


def bool_of(text: str) -> bool | None:
    """The boolean a text spells (``是``, ``Y``, ``false``, ``1``...), else None."""
    return BOOL_SPELLINGS.get(spelling_key(text))


def _ordered(spellings: frozenset[str]) -> list[str]:
    order = ["true", "false", "1", "0", "是", "否", "yes", "no", "y", "n", "t", "f"]
    return sorted(spellings, key=lambda s: order.index(s) if s in order else len(order))


def bool_spellings_text() -> str:
    """Every accepted boolean spelling, for messages: ``true/false, 1/0, 是/否, yes/no, y/n, t/f``."""
    true, false = _ordered(TRUE_SPELLINGS), _ordered(FALSE_SPELLINGS)
    return ", ".join(f"{t}/{f}" for t, f in zip(true, false))


@dataclass(frozen=True)
class Column:
    """One contract column: its English name, Chinese label, type, range and enum values."""

    name: str
    zh: str
    type: ColumnType
    required: bool
    values: dict[str, str] = field(default_factory=dict)  # English code -> Chinese label
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""
    part_of: str | None = None  # "part of X" columns: value <= X

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.values)

    def code_of(self, text: str) -> str | None:
        """The English code for an English code or Chinese label in any of the accepted spellings
        (``spelling_key``), else None."""
        if text in self.values:
            return text
        return _SPELLED_CODE.get((self.name, spelling_key(text)))

    def allowed(self) -> str:
        """Human wording of what the column accepts, for error messages (ingest's and the service's)."""
        if self.values:
            return "one of " + ", ".join(f"{c} ({z})" for c, z in self.values.items()) + f" ({SPELLING_NOTE})"
        if self.type == "money":
            return f"a number of yuan >= 0 and < {MONEY_MAX:,}"
        if self.type == "bool":
            return f"{bool_spellings_text()} ({SPELLING_NOTE})"
        if self.type == "date":
            return "a date YYYY-MM-DD"
        kind = {"int": "a whole number", "float": "a number"}.get(self.type, f"a {self.type}")
        if self.min is not None and self.max is not None:
            return f"{kind} between {self.min:g} and {self.max:g}"
        return kind


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, key, and the file names it is recognised by."""

    name: str
    zh: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    file_stems: tuple[str, ...]
    doc: str = ""
    history: bool = False  # rows for the same key may repeat: a later row replaces the earlier (kept as history)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; columns: {', '.join(self.names)}")

    def header_map(self) -> dict[str, str]:
        """Accepted header (English name or Chinese label) -> English name."""
        out = {c.name: c.name for c in self.columns}
        out.update({c.zh: c.name for c in self.columns})
        return out


def _money(name: str, zh: str, required: bool, doc: str = "", part_of: str | None = None) -> Column:
    return Column(name, zh, "money", required, min=0, max=MONEY_MAX, unit="yuan / 12 months", doc=doc,
                  part_of=part_of)


HOUSEHOLD_TYPE = {"escaped": "脱贫户", "general": "一般农户"}
MONITORING_TYPE = {"unstable_escaped": "脱贫不稳定户", "marginal": "边缘易致贫户", "sudden_hardship": "突发严重困难户"}
RISK_TYPE = {
    "illness": "因病", "education": "因学", "disability": "因残", "disaster": "因自然灾害",
    "accident": "因意外事故", "business_failure": "因产业项目失败", "unstable_work": "因务工就业不稳",
    "lack_labor": "缺劳动力", "unsafe_housing": "因安全住房", "unsafe_water": "因安全饮水", "other": "其他",
}
ASSISTANCE = {
    "industry": "产业帮扶", "employment": "就业帮扶", "finance": "金融帮扶", "public_job": "公益岗位",
    "health": "健康帮扶", "education": "教育帮扶", "social_security": "综合保障", "housing": "住房安全保障",
    "water": "饮水安全保障", "social": "社会帮扶", "relocation": "搬迁",
}
RELATION = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女", "other": "其他"}
SEX = {"M": "男", "F": "女"}
EDUCATION = {"none": "文盲或半文盲", "primary": "小学", "junior": "初中", "senior": "高中", "college": "大专及以上"}
SCHOOL_STATUS = {
    "not_in_school": "非在校生", "preschool": "学前教育", "compulsory": "义务教育", "high_school": "普通高中",
    "vocational": "中职或高职", "college": "大专及以上", "dropped_out": "失学辍学",
}
HEALTH = {"healthy": "健康", "chronic": "长期慢性病", "serious": "患有大病", "disabled": "残疾"}
LABOR_SKILL = {"skilled": "技能劳动力", "ordinary": "普通劳动力", "weak": "弱劳动力或半劳动力", "none": "无劳动力"}
WORK_LOCATION = {"none": "未务工", "in_county": "县内", "in_province": "省内县外", "out_of_province": "省外"}
EVENT_TYPE = {
    "serious_illness": "重大疾病", "hospitalization": "住院", "disability": "致残", "death": "死亡",
    "natural_disaster": "自然灾害", "accident": "意外事故", "job_loss": "失业或务工中断",
    "business_failure": "产业经营失败", "school_enrollment": "子女升学", "price_drop": "农产品价格下跌",
}
EVENT_SOURCE = {"self_report": "农户自主申报", "cadre_visit": "干部走访排查", "department_alert": "行业部门预警"}

# Transfer components whose sum must not exceed transfer_income when all are given.
TRANSFER_PARTS = ("dibao_income", "tekun_income", "pension_income", "eco_compensation", "family_planning_income")

HOUSEHOLDS = Table(
    name="households", zh="农户年度采集表", key=("household_id", "round_id"),
    file_stems=("households", "农户年度采集表"),
    doc="one row per household per survey round",
    columns=(
        Column("household_id", "户编号", "string", True, doc="stable across rounds"),
        Column("round_id", "采集轮次", "string", True, doc="label of the round, e.g. 2023"),
        Column("survey_date", "采集日期", "date", True, doc="money fields cover the 12 months before it"),
        Column("province", "省", "string", True),
        Column("county", "县", "string", True),
        Column("township", "乡镇", "string", True),
        Column("village", "行政村", "string", True),
        Column("household_type", "户类型", "enum", True, values=HOUSEHOLD_TYPE),
        Column("is_monitored", "是否监测对象", "bool", True),
        Column("monitoring_type", "监测对象类别", "enum", False, values=MONITORING_TYPE,
               doc="set only when is_monitored"),
        Column("risk_types", "风险类型", "enum-list", False, values=RISK_TYPE, doc="up to five"),
        Column("risk_eliminated", "风险是否消除", "bool", False),
        Column("relocated", "是否易地扶贫搬迁", "bool", True),
        Column("household_size", "家庭人口数", "int", True, min=1, max=30, unit="persons",
               doc="equals the number of member rows of the household in the round when members are given"),
        _money("wage_income", "工资性收入", True),
        _money("public_job_income", "公益岗位收入", False, "part of wage_income", part_of="wage_income"),
        _money("operating_income", "生产经营性收入", True, "gross"),
        _money("operating_expense", "生产经营性支出", True),
        _money("property_income", "财产性收入", True),
        _money("asset_dividend", "资产收益扶贫分红", False, "part of property_income", part_of="property_income"),
        _money("transfer_income", "转移性收入", True, "total of all transfers"),
        _money("dibao_income", "低保金", False, "part of transfer_income", part_of="transfer_income"),
        _money("tekun_income", "特困供养金", False, "part of transfer_income", part_of="transfer_income"),
        _money("pension_income", "养老保险金", False, "part of transfer_income", part_of="transfer_income"),
        _money("eco_compensation", "生态补偿金", False, "part of transfer_income", part_of="transfer_income"),
        _money("family_planning_income", "计划生育金", False, "part of transfer_income", part_of="transfer_income"),
        _money("insurance_claim_income", "理赔收入", False, "not part of net income"),
        _money("medical_expense", "合规自付医疗支出", True, "compliant out-of-pocket medical spending"),
        _money("education_expense", "教育支出", True),
        Column("housing_safe", "住房安全有保障", "bool", True),
        Column("water_safe", "饮水安全有保障", "bool", True),
        Column("cultivated_land_mu", "耕地面积(亩)", "float", False, min=0, max=10000, unit="mu"),
        Column("road_distance_km", "距主干路距离(公里)", "float", False, min=0, max=500, unit="km"),
        Column("in_cooperative", "是否加入农民专业合作社", "bool", False),
        _money("microcredit_balance", "小额信贷余额", False),
        Column("ethnic_minority", "少数民族户", "bool", False,
               doc="for equity audits only: never an input of any model, never shown in a public list (公示)"),
        Column("assistance", "帮扶措施", "enum-list", False, values=ASSISTANCE, doc="measures in force"),
    ),
)

MEMBERS = Table(
    name="members", zh="家庭成员表", key=("household_id", "round_id", "member_id"),
    file_stems=("members", "家庭成员表"),
    doc="one row per person per survey round",
    columns=(
        Column("household_id", "户编号", "string", True),
        Column("round_id", "采集轮次", "string", True),
        Column("member_id", "人编号", "string", True, doc="stable across rounds"),
        Column("relation", "与户主关系", "enum", True, values=RELATION),
        Column("sex", "性别", "enum", True, values=SEX),
        Column("age", "年龄", "int", True, min=0, max=120, unit="years"),
        Column("education", "文化程度", "enum", True, values=EDUCATION),
        Column("school_status", "在校生情况", "enum", True, values=SCHOOL_STATUS),
        Column("health", "健康状况", "enum", True, values=HEALTH),
        Column("disability_grade", "残疾等级", "int", False, min=1, max=4, doc="set only when health is disabled"),
        Column("labor_skill", "劳动技能", "enum", True, values=LABOR_SKILL),
        Column("work_location", "务工地点", "enum", True, values=WORK_LOCATION),
        Column("work_months", "务工时长(月)", "int", True, min=0, max=12, unit="months"),
        Column("basic_medical_insurance", "参加基本医疗保险", "bool", True),
        Column("critical_illness_insurance", "参加大病保险", "bool", False),
        Column("commercial_medical_insurance", "参加商业补充医疗保险", "bool", False),
        Column("pension_insurance", "参加养老保险", "bool", False),
        Column("public_job", "公益岗位", "bool", False),
    ),
)

EVENTS = Table(
    name="events", zh="风险事件表", key=("household_id", "event_date", "event_type"),
    file_stems=("events", "风险事件表"),
    doc="one row per reported shock; known from event_date on",
    columns=(
        Column("household_id", "户编号", "string", True),
        Column("member_id", "人编号", "string", False),
        Column("event_date", "发生日期", "date", True),
        Column("event_type", "事件类型", "enum", True, values=EVENT_TYPE),
        _money("amount", "涉及金额", False, "cost or loss in yuan"),
        Column("source", "信息来源", "enum", False, values=EVENT_SOURCE),
    ),
)

MONITORING_LINES = Table(
    name="monitoring_lines", zh="监测标准", key=("province", "year"),
    file_stems=("monitoring_lines", "监测标准"),
    doc="yuan of per-capita income a year, per province ('*' for all) and year",
    columns=(
        Column("province", "省", "string", True, doc="'*' for every province"),
        Column("year", "年度", "int", True, min=1900, max=2100),
        Column("line", "监测标准(元/人/年)", "money", True, min=0, max=MONEY_MAX, unit="yuan / person / year"),
    ),
)

OUTCOME = {"identified": "认定为监测对象", "not_identified": "经核实不纳入", "already_monitored": "已是监测对象",
           "not_reached": "未能入户", "gone": "已迁出或户已注销"}
OVERRIDE_REASON = {"income_higher": "核实收入高于采集数据", "shock_resolved": "风险已化解",
                   "family_support": "有稳定赡养或亲友支持", "data_error": "采集数据有误", "other": "其他"}
# Outcomes that carry measures (and a measures_date); only ``identified`` carries risk types.
OUTCOMES_WITH_MEASURES = frozenset({"identified", "already_monitored"})

OUTCOMES = Table(
    name="outcomes", zh="入户核实结果表", key=("alert_id",), history=True,
    file_stems=("outcomes", "入户核实结果表"),
    doc="one row per flagged household visit (an entry of a worklist), updated as the case moves on; "
        "read for evaluation, audits and follow-up, never a model input",
    columns=(
        Column("alert_id", "预警编号", "string", True, doc="the worklist entry the visit answers"),
        Column("household_id", "户编号", "string", True),
        Column("visit_date", "入户核实日期", "date", True),
        Column("verifier_id", "核实人编号", "string", True,
               doc="staff number; pseudonymised like household ids when shaped like an identity number"),
        Column("outcome", "核实结论", "enum", True, values=OUTCOME),
        Column("risk_types", "认定风险类型", "enum-list", False, values=RISK_TYPE,
               doc="same codes as households.risk_types; required when outcome is identified"),
        Column("override_reason", "不纳入原因", "enum-list", False, values=OVERRIDE_REASON),
        Column("decision_date", "认定日期", "date", False, doc="on or after visit_date"),
        Column("measures", "落实帮扶措施", "enum-list", False, values=ASSISTANCE,
               doc="same codes as households.assistance; only when outcome is identified or already_monitored"),
        Column("measures_date", "措施落实日期", "date", False, doc="on or after visit_date"),
        Column("risk_eliminated_date", "风险消除日期", "date", False, doc="after decision_date"),
    ),
)

# The survey tables go to the Parquet warehouse (``povwatch ingest``); case tables to the case store.
SURVEY_TABLES: dict[str, Table] = {t.name: t for t in (HOUSEHOLDS, MEMBERS, EVENTS, MONITORING_LINES)}
CASE_TABLES: dict[str, Table] = {t.name: t for t in (OUTCOMES,)}
TABLES: dict[str, Table] = {**SURVEY_TABLES, **CASE_TABLES}

# Columns read for equity audits only: never a model input, never shown on a page or list.
AUDIT_ONLY_COLUMNS = frozenset({"ethnic_minority"})

# Example lines of the national order of magnitude, used only where the user gave no table.
DEFAULT_LINES: tuple[tuple[str, int, float], ...] = (
    ("*", 2021, 6000.0), ("*", 2022, 6500.0), ("*", 2023, 7000.0),
    ("*", 2024, 7500.0), ("*", 2025, 7900.0), ("*", 2026, 8300.0),
)
LINE_GROWTH_AFTER_LAST = 0.05  # a year after the last entry grows the last line by 5% a year

# Column names that identify persons: never stored, logged or sent anywhere.
PII_COLUMNS = frozenset({
    "id_number", "id_card", "identity_number", "name", "head_name", "household_head_name", "member_name",
    "phone", "telephone", "mobile", "phone_number", "address",
    "身份证号", "身份证号码", "证件号码", "姓名", "户主姓名", "成员姓名", "电话", "联系电话", "手机号", "手机号码", "住址",
})

_SPELLED_CODE: dict[tuple[str, str], str] = {
    (c.name, spelling_key(text)): code for t in TABLES.values() for c in t.columns
    for code, zh in c.values.items() for text in (code, zh)
}


def table_for_file(stem: str) -> Table | None:
    """The table a file belongs to by its name (``households_2023.csv``, ``家庭成员表.parquet``), else None."""
    low = stem.lower()
    for t in TABLES.values():
        if any(low.startswith(s) for s in t.file_stems):
            return t
    return None
