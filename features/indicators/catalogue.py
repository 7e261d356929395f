"""The feature catalogue: the one list of model indicators, with what each means and which risk it speaks to.

Reports, explanations, the model and the service read it; nothing else lists features. The order of
``FEATURES`` is the column order of the indicator matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from features.data.contract import TABLES

Family = Literal["income_structure", "subsidy_dependence", "illness", "labour", "education", "living",
                 "dynamics", "shocks", "profile"]

# Risk groups an explanation is summed into: code -> (zh, en). Contract risk types map onto them.
RISK_GROUPS: dict[str, tuple[str, str]] = {
    "illness": ("因病", "illness"),
    "education": ("因学", "education costs"),
    "disability": ("因残", "disability"),
    "disaster": ("因灾", "natural disaster"),
    "accident": ("因意外事故", "accident"),
    "business": ("产业经营", "farm or business failure"),
    "unstable_work": ("务工就业不稳", "unstable employment"),
    "lack_labor": ("缺劳动力", "lack of labour"),
    "housing": ("住房", "housing safety"),
    "water": ("饮水", "drinking-water safety"),
    "income_structure": ("收入结构", "income structure"),
    "subsidy_dependence": ("补贴依赖", "dependence on subsidies"),
}


@dataclass(frozen=True)
class Feature:
    """One indicator: the column name is the feature; the rest is how people read it."""

    name: str
    zh: str                      # Chinese description, as a cadre would say it
    en: str                      # English description
    unit: str                    # "yuan", "ratio", "share", "count", "days", "flag", "years", "mu", "km", "code"
    family: Family
    risk_group: str              # a key of RISK_GROUPS
    direction: Literal[1, -1, 0]  # +1: higher raises risk; -1: higher lowers risk; 0: no fixed direction
    categorical: bool = False
    vocabulary: tuple[str, ...] = field(default_factory=tuple)  # integer code i <-> vocabulary[i]; -1 unknown

    @property
    def concept(self) -> str:
        """The one fact this indicator states; a reason list names each concept once (see ``CONCEPTS``)."""
        return concept_of(self.name)


UNITS: tuple[str, ...] = ("yuan", "yuan/person", "ratio", "share", "count", "persons", "months", "days", "flag",
                          "years", "mu", "mu/person", "km", "code", "level")
FAMILIES: tuple[str, ...] = ("income_structure", "subsidy_dependence", "illness", "labour", "education", "living",
                             "dynamics", "shocks", "profile")


def _f(name: str, zh: str, en: str, unit: str, family: Family, risk_group: str, direction: Literal[1, -1, 0],
       vocabulary: tuple[str, ...] = ()) -> Feature:
    return Feature(name, zh, en, unit, family, risk_group, direction, categorical=bool(vocabulary),
                   vocabulary=vocabulary)


# Contract risk types (风险类型) and assistance measures (帮扶措施) -> the risk group their flag speaks to.
RISK_TYPE_GROUP: dict[str, str] = {
    "illness": "illness", "education": "education", "disability": "disability", "disaster": "disaster",
    "accident": "accident", "business_failure": "business", "unstable_work": "unstable_work",
    "lack_labor": "lack_labor", "unsafe_housing": "housing", "unsafe_water": "water", "other": "income_structure",
}
ASSISTANCE_GROUP: dict[str, str] = {
    "industry": "business", "employment": "unstable_work", "finance": "business", "public_job": "lack_labor",
    "health": "illness", "education": "education", "social_security": "subsidy_dependence", "housing": "housing",
    "water": "water", "social": "subsidy_dependence", "relocation": "housing",
}
# Reported events grouped into shocks: group -> (event types, risk group, zh, en).
SHOCK_GROUPS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "health": (("serious_illness", "hospitalization"), "illness", "重大疾病或住院", "serious illness or hospitalisation"),
    "disability": (("disability",), "disability", "致残", "disablement"),
    "death": (("death",), "lack_labor", "家庭成员死亡", "death of a member"),
    "disaster": (("natural_disaster",), "disaster", "自然灾害", "natural disaster"),
    "accident": (("accident",), "accident", "意外事故", "accident"),
    "job_loss": (("job_loss",), "unstable_work", "失业或务工中断", "job loss or interrupted migrant work"),
    "business": (("business_failure", "price_drop"), "business", "产业经营失败或农产品价格下跌",
                 "business failure or farm price drop"),
    "schooling": (("school_enrollment",), "education", "子女升学", "a child entering a higher school"),
}


# Indicators that state the same fact in other units (an amount and its ratio, a flag and the ratio behind it):
# concept -> indicator names. An explanation cites a concept once. Indicators not listed are their own concept;
# every shock indicator of one event group is one concept (``shock_<group>``).
CONCEPTS: dict[str, tuple[str, ...]] = {
    # income against the line, before or after rigid spending: the hardship sentence quotes both
    "income_vs_line": ("net_income", "net_income_pc", "net_income_ratio", "hardship_income_pc", "hardship_ratio",
                       "hardship_gap_pc"),
    "subsidy_cliff": ("policy_transfer_income", "policy_transfer_share", "income_without_policy_pc",
                      "income_without_policy_ratio", "cliff_below_line", "dibao_income", "receives_tekun",
                      "transfer_share", "programmes_count"),
    "medical_spending": ("medical_expense", "medical_expense_pc", "medical_share_of_income", "medical_to_capacity",
                         "catastrophic_health_spending", "capacity_to_pay", "medical_expense_change"),
    "ill_members": ("chronic_members", "serious_members", "ill_member_share"),
    "disability": ("disabled_members", "severe_disability_members"),
    "education_spending": ("education_expense", "education_share_of_income"),
    "students": ("students_high_school", "students_vocational", "students_college", "students_post_compulsory"),
    "labour_capacity": ("capable_workers", "skilled_workers", "ordinary_workers", "no_capable_labour"),
    "dependants": ("dependency_ratio", "elderly_members"),
    "wage_work": ("members_working", "members_working_away", "work_months_total", "work_months_per_worker",
                  "wage_income_per_worker"),
    "public_job": ("public_job_members", "public_job_income_share"),
    "income_change": ("net_income_pc_change", "net_income_pc_rel_change", "hardship_ratio_change"),
    "past_hardship": ("prev_hardship_ratio", "min_hardship_ratio", "rounds_below_line", "years_since_below_line"),
    "monitoring_record": ("times_monitored", "monitored_now", "risk_eliminated", "risk_types_count"),
    "land": ("cultivated_land_mu", "land_per_capita"),
    "microcredit": ("microcredit_balance", "microcredit_to_income"),
}
_CONCEPT_OF: dict[str, str] = {name: concept for concept, names in CONCEPTS.items() for name in names}


def concept_of(name: str) -> str:
    """The concept an indicator states (its own name when it is the only indicator of its fact)."""
    if name in _CONCEPT_OF:
        return _CONCEPT_OF[name]
    if name.startswith("shock_"):
        return "shock_" + shock_group_of(name)
    return name


def shock_group_of(name: str) -> str:
    """The event group of a ``shock_<group>_...`` indicator (``""`` for any other name)."""
    if not name.startswith("shock_"):
        return ""
    return next((g for g in SHOCK_GROUPS if name.startswith(f"shock_{g}_")), "")


def _contract_values(table: str, column: str) -> dict[str, str]:
    return TABLES[table].column(column).values


def _build_features() -> tuple[Feature, ...]:
    mon_type = tuple(_contract_values("households", "monitoring_type"))
    risk_types = _contract_values("households", "risk_types")
    measures = _contract_values("households", "assistance")
    out = [
        # ---- profile
        _f("household_size", "家庭人口数", "household size", "persons", "profile", "lack_labor", 0),
        _f("escaped_household", "脱贫户", "household escaped poverty before (脱贫户; 0: general household)", "flag",
           "profile", "income_structure", 1),
        # ---- income structure
        _f("net_income", "家庭纯收入", "household net income", "yuan", "income_structure", "income_structure", -1),
        _f("net_income_pc", "人均纯收入", "net income per person", "yuan/person", "income_structure",
           "income_structure", -1),
        _f("monitoring_line", "监测标准", "monitoring line of the record's province and year", "yuan/person",
           "income_structure", "income_structure", 0),
        _f("net_income_ratio", "人均纯收入与监测标准之比", "net income per person / monitoring line", "ratio",
           "income_structure", "income_structure", -1),
        _f("hardship_income_pc", "扣除刚性支出后的人均收入", "income per person after medical and education spending",
           "yuan/person", "income_structure", "income_structure", -1),
        _f("hardship_ratio", "扣除刚性支出后人均收入与监测标准之比", "hardship income per person / monitoring line",
           "ratio", "income_structure", "income_structure", -1),
        _f("hardship_gap_pc", "扣除刚性支出后人均收入高出监测标准的金额", "hardship income per person minus the line",
           "yuan/person", "income_structure", "income_structure", -1),
        _f("wage_share", "工资性收入占比", "share of wages in gross income", "share", "income_structure",
           "unstable_work", 0),
        _f("operating_share", "生产经营性收入占比", "share of gross operating income in gross income", "share",
           "income_structure", "business", 0),
        _f("property_share", "财产性收入占比", "share of property income in gross income", "share",
           "income_structure", "income_structure", -1),
        _f("transfer_share", "转移性收入占比", "share of transfers in gross income", "share", "income_structure",
           "subsidy_dependence", 1),
        _f("operating_net_income", "生产经营净收入", "operating income less operating expense", "yuan",
           "income_structure", "business", -1),
        _f("operating_margin", "生产经营收益率", "operating margin (net / gross operating income, in [-1, 1])",
           "ratio", "income_structure", "business", -1),
        _f("income_concentration", "收入来源集中度", "Herfindahl index of the four income sources", "share",
           "income_structure", "income_structure", 1),
        _f("wage_income_per_worker", "务工人员人均工资性收入", "wage income per member who worked", "yuan",
           "income_structure", "unstable_work", -1),
        # ---- subsidy dependence
        _f("policy_transfer_income", "政策性转移收入", "policy transfers: 低保, 特困, pensions, eco-compensation, "
           "family planning, public-job wages", "yuan", "subsidy_dependence", "subsidy_dependence", 1),
        _f("policy_transfer_share", "政策性收入占纯收入比重", "policy transfers / gross income", "share",
           "subsidy_dependence", "subsidy_dependence", 1),
        _f("income_without_policy_pc", "剔除政策性收入后的人均收入",
           "hardship income per person if policy transfers stopped", "yuan/person", "subsidy_dependence",
           "subsidy_dependence", -1),
        _f("income_without_policy_ratio", "剔除政策性收入后人均收入与监测标准之比",
           "hardship income per person without policy transfers / line (the 'cliff')", "ratio",
           "subsidy_dependence", "subsidy_dependence", -1),
        _f("cliff_below_line", "停止政策支持即低于监测标准", "would fall below the line if policy transfers stopped",
           "flag", "subsidy_dependence", "subsidy_dependence", 1),
        _f("programmes_count", "享受政策项目数", "number of transfer programmes received", "count",
           "subsidy_dependence", "subsidy_dependence", 1),
        _f("dibao_income", "低保金", "minimum living allowance (低保) received", "yuan", "subsidy_dependence",
           "subsidy_dependence", 1),
        _f("receives_tekun", "享受特困供养", "receives destitute support (特困)", "flag", "subsidy_dependence",
           "subsidy_dependence", 1),
        # ---- illness and disability
        _f("chronic_members", "长期慢性病人数", "members with a chronic illness", "count", "illness", "illness", 1),
        _f("serious_members", "患大病人数", "members with a serious illness", "count", "illness", "illness", 1),
        _f("disabled_members", "残疾人数", "disabled members", "count", "illness", "disability", 1),
        _f("severe_disability_members", "一二级重度残疾人数", "members with disability grade 1 or 2", "count",
           "illness", "disability", 1),
        _f("ill_member_share", "患病或残疾成员占比", "share of members ill or disabled", "share", "illness",
           "illness", 1),
        _f("medical_expense", "合规自付医疗支出", "out-of-pocket medical spending", "yuan", "illness", "illness", 1),
        _f("medical_expense_pc", "人均自付医疗支出", "out-of-pocket medical spending per person", "yuan/person",
           "illness", "illness", 1),
        _f("medical_share_of_income", "医疗支出占纯收入比重",
           "medical spending / net income (net income floored at 1 yuan, capped at 10)", "share", "illness",
           "illness", 1),
        _f("capacity_to_pay", "支付能力", "net income minus a subsistence allowance (poverty line per person)",
           "yuan", "illness", "illness", -1),
        _f("medical_to_capacity", "医疗支出占支付能力比重",
           "medical spending / capacity to pay (capped at 10; 10 when capacity <= 0 and spending > 0)", "ratio",
           "illness", "illness", 1),
        _f("catastrophic_health_spending", "灾难性医疗支出", "medical spending above 40% of capacity to pay",
           "flag", "illness", "illness", 1),
        _f("uninsured_basic_members", "未参加基本医保人数", "members without basic medical insurance", "count",
           "illness", "illness", 1),
        _f("ill_without_critical_cover", "患病成员未参加大病保险人数",
           "chronically or seriously ill members without critical-illness insurance", "count", "illness",
           "illness", 1),
        _f("insurance_claim_income", "理赔收入", "insurance claims received", "yuan", "illness", "illness", 0),
        # ---- labour
        _f("capable_workers", "有劳动能力人数", "skilled plus ordinary labourers", "count", "labour", "lack_labor", -1),
        _f("skilled_workers", "技能劳动力人数", "skilled labourers", "count", "labour", "lack_labor", -1),
        _f("ordinary_workers", "普通劳动力人数", "ordinary labourers", "count", "labour", "lack_labor", -1),
        _f("weak_workers", "弱劳动力或半劳动力人数", "weak or half labourers", "count", "labour", "lack_labor", 0),
        _f("no_capable_labour", "无劳动能力户", "no member is a skilled or ordinary labourer", "flag", "labour",
           "lack_labor", 1),
        _f("dependency_ratio", "抚养比", "members under 16 or 65+ per member aged 16-64 (denominator floored at 1)",
           "ratio", "labour", "lack_labor", 1),
        _f("elderly_members", "65岁及以上人数", "members aged 65 or more", "count", "labour", "lack_labor", 1),
        _f("children", "16岁以下人数", "members under 16", "count", "labour", "lack_labor", 0),
        _f("members_working", "务工人数", "members who worked (work months > 0)", "count", "labour",
           "unstable_work", -1),
        _f("members_working_away", "县外务工人数", "members working outside the county", "count", "labour",
           "unstable_work", -1),
        _f("out_of_province_workers", "省外务工人数", "members working outside the province", "count", "labour",
           "unstable_work", 0),
        _f("work_months_total", "务工总月数", "months worked by all members", "months", "labour",
           "unstable_work", -1),
        _f("work_months_per_worker", "务工人员平均务工月数", "average months worked by members who worked",
           "months", "labour", "unstable_work", -1),
        _f("top_worker_months_share", "主要务工人员务工月数占比",
           "share of work months from the member who worked most (single-earner reliance; the contract has no "
           "per-member income)", "share", "labour", "unstable_work", 1),
        _f("public_job_members", "公益岗位人数", "members in public-welfare jobs", "count", "labour",
           "subsidy_dependence", 1),
        _f("public_job_income_share", "公益岗位收入占比", "public-job wages / gross income", "share", "labour",
           "subsidy_dependence", 1),
        _f("head_age", "户主年龄", "age of the household head", "years", "labour", "lack_labor", 0),
        _f("max_education_level", "家庭最高文化程度",
           "highest education level of a member (0 none, 1 primary, 2 junior, 3 senior, 4 college)", "level",
           "labour", "unstable_work", -1),
        # ---- education
        _f("students_compulsory", "义务教育阶段学生数", "students in compulsory education", "count", "education",
           "education", 0),
        _f("students_high_school", "普通高中学生数", "students in high school", "count", "education", "education", 1),
        _f("students_vocational", "中职或高职学生数", "students in vocational school", "count", "education",
           "education", 1),
        _f("students_college", "大专及以上在校生数", "students in college", "count", "education", "education", 1),
        _f("students_post_compulsory", "非义务教育阶段学生数", "students in high school, vocational school or college",
           "count", "education", "education", 1),
        _f("dropouts", "失学辍学人数", "members who dropped out of school", "count", "education", "education", 1),
        _f("education_expense", "教育支出", "education spending", "yuan", "education", "education", 1),
        _f("education_share_of_income", "教育支出占纯收入比重",
           "education spending / net income (net income floored at 1 yuan, capped at 10)", "share", "education",
           "education", 1),
        # ---- living conditions and assets
        _f("housing_unsafe", "住房安全无保障", "housing not safe", "flag", "living", "housing", 1),
        _f("water_unsafe", "饮水安全无保障", "drinking water not safe", "flag", "living", "water", 1),
        _f("relocated", "易地扶贫搬迁户", "relocated household (易地扶贫搬迁)", "flag", "living", "housing", 0),
        _f("cultivated_land_mu", "耕地面积", "cultivated land", "mu", "living", "income_structure", -1),
        _f("land_per_capita", "人均耕地面积", "cultivated land per person", "mu/person", "living",
           "income_structure", -1),
        _f("road_distance_km", "距主干路距离", "distance to the main road", "km", "living", "income_structure", 1),
        _f("in_cooperative", "加入农民专业合作社", "member of a farmers' cooperative", "flag", "living", "business", -1),
        _f("microcredit_balance", "小额信贷余额", "outstanding microcredit", "yuan", "living", "business", 0),
        _f("microcredit_to_income", "小额信贷余额与纯收入之比",
           "microcredit balance / net income (net income floored at 1 yuan, capped at 10)", "ratio", "living",
           "business", 1),
        # ---- dynamics (earlier rounds and the monitoring record)
        _f("rounds_observed", "已采集轮次数", "survey rounds known at the as-of date", "count", "dynamics",
           "income_structure", 0),
        _f("net_income_pc_change", "人均纯收入较上轮变化", "change of net income per person since the last round",
           "yuan/person", "dynamics", "income_structure", -1),
        _f("net_income_pc_rel_change", "人均纯收入较上轮变化率",
           "relative change of net income per person since the last round (base floored at 10% of the line)",
           "ratio", "dynamics", "income_structure", -1),
        _f("hardship_ratio_change", "扣除刚性支出后收入比较上轮变化", "change of the hardship ratio since the last round",
           "ratio", "dynamics", "income_structure", -1),
        _f("prev_hardship_ratio", "上轮扣除刚性支出后收入比", "hardship ratio at the previous round", "ratio",
           "dynamics", "income_structure", -1),
        _f("medical_expense_change", "医疗支出较上轮变化", "change of medical spending since the last round", "yuan",
           "dynamics", "illness", 1),
        _f("income_ratio_volatility", "收入波动", "standard deviation of net income ratio across known rounds",
           "ratio", "dynamics", "income_structure", 1),
        _f("min_hardship_ratio", "历轮最低扣除刚性支出后收入比", "lowest hardship ratio across known rounds", "ratio",
           "dynamics", "income_structure", -1),
        _f("rounds_below_line", "低于监测标准的轮次数", "known rounds with hardship income below the line", "count",
           "dynamics", "income_structure", 1),
        _f("years_since_below_line", "距上次低于监测标准的年数",
           "years from the last round below the line to the as-of date (missing: never below)", "years",
           "dynamics", "income_structure", -1),
        _f("times_monitored", "被纳入监测的轮次数", "known rounds in which the household was monitored", "count",
           "dynamics", "income_structure", 1),
        _f("monitored_now", "监测对象", "monitored household at the latest round", "flag", "dynamics",
           "income_structure", 1),
        _f("monitoring_type", "监测对象类别", "monitoring type at the latest round", "code", "dynamics",
           "income_structure", 0, mon_type),
        _f("risk_eliminated", "风险已消除", "risk marked eliminated at the latest round", "flag", "dynamics",
           "income_structure", -1),
        _f("risk_types_count", "风险类型数", "number of recorded risk types", "count", "dynamics",
           "income_structure", 1),
    ]
    out += [_f(f"risk_type_{code}", f"风险类型:{zh}", f"recorded risk type {code}", "flag", "dynamics",
               RISK_TYPE_GROUP[code], 1) for code, zh in risk_types.items()]
    out.append(_f("assistance_count", "帮扶措施数", "number of assistance measures in force", "count", "dynamics",
                  "subsidy_dependence", 0))
    out += [_f(f"assist_{code}", f"帮扶措施:{zh}", f"assistance in force: {code}", "flag", "dynamics",
               ASSISTANCE_GROUP[code], 0) for code, zh in measures.items()]
    out.append(_f("days_since_survey", "距最近一次采集的天数", "days from the latest survey to the as-of date", "days",
                  "dynamics", "income_structure", 0))
    # ---- recent shocks (reported events known at the as-of date)
    for g, (_, group, zh, en) in SHOCK_GROUPS.items():
        out += [
            _f(f"shock_{g}_count_365d", f"近一年{zh}事件数", f"{en}: events in the 365 days before as-of", "count",
               "shocks", group, 1),
            _f(f"shock_{g}_amount_365d", f"近一年{zh}涉及金额", f"{en}: amount in the 365 days before as-of", "yuan",
               "shocks", group, 1),
            _f(f"shock_{g}_count_since_survey", f"最近采集后{zh}事件数", f"{en}: events since the latest survey",
               "count", "shocks", group, 1),
            _f(f"shock_{g}_amount_since_survey", f"最近采集后{zh}涉及金额", f"{en}: amount since the latest survey",
               "yuan", "shocks", group, 1),
            _f(f"shock_{g}_days_since", f"距最近一次{zh}的天数", f"{en}: days since the latest event (missing: none)",
               "days", "shocks", group, -1),
        ]
    return tuple(out)


FEATURES: tuple[Feature, ...] = _build_features()
_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}


def feature_names() -> list[str]:
    """Indicator column names, in matrix order."""
    return [f.name for f in FEATURES]


def by_name(name: str) -> Feature:
    """The catalogue entry of one indicator; ``KeyError`` lists what exists."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no feature {name!r} in the catalogue; {len(FEATURES)} features, e.g. "
                       f"{', '.join(list(_BY_NAME)[:5])}, ... (see features.indicators.catalogue.feature_names())") from None


def public_table() -> list[dict[str, object]]:
    """What ``povwatch catalogue`` prints: name, zh, en, unit, family, group, direction (and concept)."""
    return [{"name": f.name, "zh": f.zh, "en": f.en, "unit": f.unit, "family": f.family, "group": f.risk_group,
             "direction": f.direction, "concept": f.concept} for f in FEATURES]


def as_table() -> list[dict[str, object]]:
    """The catalogue as plain rows (for MLflow artifacts, reports and the service's /model)."""
    return [{"name": f.name, "zh": f.zh, "en": f.en, "unit": f.unit, "family": f.family,
             "risk_group": f.risk_group, "risk_group_zh": RISK_GROUPS[f.risk_group][0], "direction": f.direction,
             "categorical": f.categorical, "vocabulary": ";".join(f.vocabulary)} for f in FEATURES]
