"""Reason sentences (zh + en) that quote the household's own indicator values.

A template is a pair of format strings over the indicator row: ``{medical_expense:yuan}`` is the value of the
``medical_expense`` indicator written as money in the sentence's language. Flags have one pair for "yes" and
one for "no". Features without a template get a generic sentence from the catalogue description, value and
unit, so a new indicator is explained the day it is added.

Format specs: ``yuan`` money, ``pct`` share as percent, ``x`` ratio (two decimals), ``n`` whole number,
``d1`` one decimal. A missing value reads "未知" / "unknown".
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from features.indicators.catalogue import SHOCK_GROUPS, Feature, by_name
from features.data.contract import ASSISTANCE, MONITORING_TYPE, RISK_TYPE

Lang = Literal["zh", "en"]
Pair = tuple[str, str]
Template = Pair | dict[bool, Pair]

UNKNOWN = {"zh": "未知", "en": "unknown"}


def _num(v: float, spec: str, lang: Lang) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return UNKNOWN[lang]
    if spec == "yuan":
        return f"{v:,.0f} 元" if lang == "zh" else f"{v:,.0f} yuan"
    if spec == "pct":
        return f"{v * 100:.0f}%" if v < 10 else ("1000% 以上" if lang == "zh" else "over 1000%")
    if spec == "x":
        return f"{v:.2f}"
    if spec == "n":
        return f"{v:.0f}"
    if spec == "d1":
        return f"{v:.1f}"
    if spec in _SIGNED:
        words, inner = _SIGNED[spec]
        up, down = words[lang]
        return (up if v >= 0 else down).format(_num(abs(v), inner, lang))
    return format(v, spec)


# Signed specs: the sign becomes a word ("减少 1,000 元", "fell by 1,000 yuan") instead of a minus.
_SIGNED: dict[str, tuple[dict[str, tuple[str, str]], str]] = {
    "delta": ({"zh": ("增加 {}", "减少 {}"), "en": ("rose by {}", "fell by {}")}, "yuan"),
    "pct_delta": ({"zh": ("增长 {}", "下降 {}"), "en": ("rose by {}", "fell by {}")}, "pct"),
    "x_delta": ({"zh": ("上升 {}", "下降 {}"), "en": ("rose by {}", "fell by {}")}, "x"),
    "gap": ({"zh": ("高于监测标准 {}", "低于监测标准 {}"), "en": ("{} above the line", "{} below the line")}, "yuan"),
}


@lru_cache(maxsize=None)
def _compiled(fmt: str) -> tuple[tuple[str, str | None, str], ...]:
    """A template parsed once into (literal, indicator name, spec) pieces (``string.Formatter`` syntax)."""
    return tuple((lit, name or None, spec or "") for lit, name, spec, _ in string.Formatter().parse(fmt))


def _render(fmt: str, row: Mapping[str, float], lang: Lang) -> str:
    out = []
    for lit, name, spec in _compiled(fmt):
        out.append(lit)
        if name is not None:
            value = row.get(name)
            out.append(_num(float("nan") if value is None else float(value), spec, lang))
    return "".join(out)


TEMPLATES: dict[str, Template] = {
    # ---- illness
    "medical_expense": ("家庭合规自付医疗支出 {medical_expense:yuan}，占纯收入的 {medical_share_of_income:pct}",
                        "Out-of-pocket medical spending of {medical_expense:yuan}, "
                        "{medical_share_of_income:pct} of net income"),
    "medical_share_of_income": ("自付医疗支出 {medical_expense:yuan}，占纯收入的 {medical_share_of_income:pct}",
                                "Medical spending takes {medical_share_of_income:pct} of net income "
                                "({medical_expense:yuan})"),
    "medical_expense_pc": ("人均自付医疗支出 {medical_expense_pc:yuan}",
                           "Out-of-pocket medical spending of {medical_expense_pc:yuan} per person"),
    "medical_to_capacity": ("医疗支出相当于支付能力的 {medical_to_capacity:pct}",
                            "Medical spending equals {medical_to_capacity:pct} of the capacity to pay"),
    "catastrophic_health_spending": {
        True: ("发生灾难性医疗支出（超过支付能力的 40%），自付 {medical_expense:yuan}",
               "Catastrophic health spending (over 40% of capacity to pay): {medical_expense:yuan}"),
        False: ("未发生灾难性医疗支出", "No catastrophic health spending")},
    "medical_expense_change": ("自付医疗支出较上轮{medical_expense_change:delta}，本轮 {medical_expense:yuan}",
                               "Medical spending {medical_expense_change:delta} since the last round, to "
                               "{medical_expense:yuan}"),
    "serious_members": ("家中有 {serious_members:n} 人患大病", "{serious_members:n} member(s) with a serious illness"),
    "chronic_members": ("家中有 {chronic_members:n} 人患长期慢性病",
                        "{chronic_members:n} member(s) with a chronic illness"),
    "ill_member_share": ("患病或残疾成员占家庭人口的 {ill_member_share:pct}",
                         "{ill_member_share:pct} of members are ill or disabled"),
    "uninsured_basic_members": ("{uninsured_basic_members:n} 人未参加基本医疗保险",
                                "{uninsured_basic_members:n} member(s) without basic medical insurance"),
    "ill_without_critical_cover": ("{ill_without_critical_cover:n} 名患病成员未参加大病保险",
                                   "{ill_without_critical_cover:n} ill member(s) without critical-illness cover"),
    "capacity_to_pay": ("扣除基本生活所需后的支付能力为 {capacity_to_pay:yuan}",
                        "Capacity to pay after subsistence needs is only {capacity_to_pay:yuan}"),
    # ---- disability
    "disabled_members": ("家中有 {disabled_members:n} 名残疾人", "{disabled_members:n} disabled member(s)"),
    "severe_disability_members": ("家中有 {severe_disability_members:n} 名一、二级重度残疾人",
                                  "{severe_disability_members:n} member(s) with severe disability (grade 1-2)"),
    # ---- income
    "net_income_pc": ("人均纯收入 {net_income_pc:yuan}，为监测标准的 {net_income_ratio:x} 倍",
                      "Net income of {net_income_pc:yuan} per person, {net_income_ratio:x} times the monitoring line"),
    "net_income_ratio": ("人均纯收入 {net_income_pc:yuan}，为监测标准 {monitoring_line:yuan} 的 {net_income_ratio:x} 倍",
                         "Net income per person of {net_income_pc:yuan} is {net_income_ratio:x} times the "
                         "monitoring line ({monitoring_line:yuan})"),
    "net_income": ("家庭纯收入 {net_income:yuan}", "Household net income of {net_income:yuan}"),
    "hardship_income_pc": ("扣除医疗支出 {medical_expense:yuan}、教育支出 {education_expense:yuan} 后，人均收入 "
                           "{hardship_income_pc:yuan}，为监测标准的 {hardship_ratio:x} 倍",
                           "After {medical_expense:yuan} of medical and {education_expense:yuan} of education "
                           "spending, income is {hardship_income_pc:yuan} per person, {hardship_ratio:x} times the line"),
    "hardship_ratio": ("扣除医疗支出 {medical_expense:yuan}、教育支出 {education_expense:yuan} 后，人均收入为监测标准的 "
                       "{hardship_ratio:x} 倍（未扣除时为 {net_income_ratio:x} 倍）",
                       "After {medical_expense:yuan} of medical and {education_expense:yuan} of education spending, "
                       "income per person is {hardship_ratio:x} times the line ({net_income_ratio:x} before)"),
    "hardship_gap_pc": ("扣除医疗、教育支出后人均收入{hardship_gap_pc:gap}",
                        "After medical and education spending, income per person is {hardship_gap_pc:gap}"),
    "net_income_pc_change": ("人均纯收入较上轮{net_income_pc_change:delta}，本轮 {net_income_pc:yuan}",
                             "Net income per person {net_income_pc_change:delta} since the last round, to "
                             "{net_income_pc:yuan}"),
    "net_income_pc_rel_change": ("人均纯收入较上轮{net_income_pc_rel_change:pct_delta}（{net_income_pc_change:delta}）",
                                 "Net income per person {net_income_pc_rel_change:pct_delta} since the last round "
                                 "({net_income_pc_change:delta})"),
    "hardship_ratio_change": ("扣除刚性支出后收入与监测标准之比较上轮{hardship_ratio_change:x_delta}，本轮为 {hardship_ratio:x}",
                              "Hardship income ratio {hardship_ratio_change:x_delta} since the last round, to "
                              "{hardship_ratio:x}"),
    "prev_hardship_ratio": ("上轮扣除刚性支出后收入为监测标准的 {prev_hardship_ratio:x} 倍",
                            "At the previous round, hardship income was {prev_hardship_ratio:x} times the line"),
    "min_hardship_ratio": ("历轮最低时扣除刚性支出后收入仅为监测标准的 {min_hardship_ratio:x} 倍",
                           "At its lowest, hardship income was {min_hardship_ratio:x} times the line"),
    "rounds_below_line": ("已有 {rounds_below_line:n} 轮收入低于监测标准",
                          "Below the monitoring line in {rounds_below_line:n} known round(s)"),
    "income_ratio_volatility": ("历轮收入波动较大（标准差 {income_ratio_volatility:x}）",
                                "Income varies between rounds (std. dev. {income_ratio_volatility:x} of the line)"),
    "transfer_share": ("转移性收入占总收入的 {transfer_share:pct}", "Transfers make up {transfer_share:pct} of income"),
    "wage_income_per_worker": ("务工人员人均工资性收入 {wage_income_per_worker:yuan}",
                               "Wage income of {wage_income_per_worker:yuan} per member who worked"),
    "operating_net_income": ("生产经营净收入 {operating_net_income:yuan}",
                             "Net farm and business income of {operating_net_income:yuan}"),
    "operating_margin": ("生产经营收益率 {operating_margin:pct}", "Farm and business margin of {operating_margin:pct}"),
    "wage_share": ("工资性收入占总收入的 {wage_share:pct}", "Wages are {wage_share:pct} of gross income"),
    "cultivated_land_mu": ("耕地 {cultivated_land_mu:d1} 亩", "{cultivated_land_mu:d1} mu of cultivated land"),
    "years_since_below_line": ("{years_since_below_line:d1} 年前曾低于监测标准",
                               "Below the monitoring line {years_since_below_line:d1} years ago"),
    "income_concentration": ("收入来源单一（集中度 {income_concentration:x}）",
                             "Income depends on few sources (concentration {income_concentration:x})"),
    # ---- subsidy dependence
    "policy_transfer_share": ("政策性收入占总收入的 {policy_transfer_share:pct}（{policy_transfer_income:yuan}）",
                              "Policy transfers are {policy_transfer_share:pct} of income ({policy_transfer_income:yuan})"),
    "policy_transfer_income": ("政策性转移收入 {policy_transfer_income:yuan}",
                               "Policy transfers of {policy_transfer_income:yuan}"),
    "income_without_policy_ratio": ("如停止政策性收入，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                                    "Without policy transfers, income per person would be "
                                    "{income_without_policy_ratio:x} times the line"),
    "income_without_policy_pc": ("如停止政策性收入，人均收入为 {income_without_policy_pc:yuan}",
                                 "Without policy transfers, income per person would be {income_without_policy_pc:yuan}"),
    "cliff_below_line": {
        True: ("一旦停止政策性收入，人均收入将低于监测标准（仅为 {income_without_policy_ratio:x} 倍）",
               "Would fall below the line if policy transfers stopped ({income_without_policy_ratio:x} times the line)"),
        False: ("停止政策性收入后仍高于监测标准", "Stays above the line without policy transfers")},
    # 低保/特困 are assistance, not causes: they are worded as the household's dependence on them (the cliff).
    "dibao_income": ("收入依赖低保金（{dibao_income:yuan}），如停发，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                     "Income depends on 低保 ({dibao_income:yuan}); without transfers, income per person would be "
                     "{income_without_policy_ratio:x} times the line"),
    # ---- labour
    "no_capable_labour": {True: ("家中无技能或普通劳动力", "No member is a skilled or ordinary labourer"),
                          False: ("家中有劳动力", "The household has labourers")},
    "capable_workers": ("有劳动能力的仅 {capable_workers:n} 人（家庭人口 {household_size:n} 人）",
                        "Only {capable_workers:n} of {household_size:n} members can work"),
    "dependency_ratio": ("抚养比 {dependency_ratio:x}（每名劳动年龄成员负担的老人和儿童数）",
                         "Dependency ratio of {dependency_ratio:x} (children and elderly per working-age member)"),
    "elderly_members": ("家中有 {elderly_members:n} 名 65 岁及以上老人", "{elderly_members:n} member(s) aged 65 or more"),
    "members_working": ("务工人数 {members_working:n} 人", "{members_working:n} member(s) in wage work"),
    "members_working_away": ("县外务工 {members_working_away:n} 人", "{members_working_away:n} member(s) working outside the county"),
    "work_months_total": ("全家务工合计 {work_months_total:n} 个月", "{work_months_total:n} months of wage work in total"),
    "work_months_per_worker": ("务工人员平均务工 {work_months_per_worker:d1} 个月",
                               "{work_months_per_worker:d1} months of work per member who worked"),
    "top_worker_months_share": ("务工收入主要依靠一人（占务工月数的 {top_worker_months_share:pct}）",
                                "Wage work relies on one member ({top_worker_months_share:pct} of work months)"),
    "head_age": ("户主 {head_age:n} 岁", "Household head aged {head_age:n}"),
    "public_job_income_share": ("公益岗位收入占总收入的 {public_job_income_share:pct}",
                                "Public-welfare job wages are {public_job_income_share:pct} of income"),
    # ---- education
    "education_expense": ("教育支出 {education_expense:yuan}，占纯收入的 {education_share_of_income:pct}",
                          "Education spending of {education_expense:yuan}, {education_share_of_income:pct} of net income"),
    "education_share_of_income": ("教育支出 {education_expense:yuan}，占纯收入的 {education_share_of_income:pct}",
                                  "Education spending takes {education_share_of_income:pct} of net income "
                                  "({education_expense:yuan})"),
    "students_post_compulsory": ("有 {students_post_compulsory:n} 名高中、职校或大学在校生",
                                 "{students_post_compulsory:n} student(s) in high school, vocational school or college"),
    "students_college": ("有 {students_college:n} 名大专及以上在校生", "{students_college:n} college student(s)"),
    "students_high_school": ("有 {students_high_school:n} 名普通高中学生", "{students_high_school:n} high-school student(s)"),
    "students_vocational": ("有 {students_vocational:n} 名中职或高职学生", "{students_vocational:n} vocational student(s)"),
    "dropouts": ("有 {dropouts:n} 人失学辍学", "{dropouts:n} member(s) dropped out of school"),
    # ---- living
    "housing_unsafe": {True: ("住房安全无保障", "Housing is not safe"), False: ("住房安全有保障", "Housing is safe")},
    "water_unsafe": {True: ("饮水安全无保障", "Drinking water is not safe"),
                     False: ("饮水安全有保障", "Drinking water is safe")},
    "in_cooperative": {True: ("已加入农民专业合作社", "Member of a farmers' cooperative"),
                       False: ("未加入农民专业合作社", "Not in a farmers' cooperative")},
    "microcredit_to_income": ("小额信贷余额 {microcredit_balance:yuan}，为纯收入的 {microcredit_to_income:x} 倍",
                              "Microcredit of {microcredit_balance:yuan}, {microcredit_to_income:x} times net income"),
    "road_distance_km": ("距主干路 {road_distance_km:d1} 公里", "{road_distance_km:d1} km from the main road"),
    "land_per_capita": ("人均耕地 {land_per_capita:d1} 亩", "{land_per_capita:d1} mu of cultivated land per person"),
    # ---- monitoring record
    "monitored_now": {True: ("目前是监测对象", "Currently a monitored household"),
                      False: ("目前未纳入监测", "Not currently monitored")},
    "escaped_household": {True: ("脱贫户", "Household that escaped poverty (脱贫户)"),
                          False: ("一般农户", "General household (一般农户)")},
    "receives_tekun": {True: ("基本生活依赖特困供养，如停止政策性收入，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                              "Basic living depends on destitute support (特困); without transfers, income per person "
                              "would be {income_without_policy_ratio:x} times the line"),
                       False: ("未享受特困供养", "No destitute support (特困)")},
    "programmes_count": ("享受 {programmes_count:n} 项政策性收入", "Receives {programmes_count:n} transfer programme(s)"),
    "risk_eliminated": {True: ("风险已标注消除", "Risk marked eliminated"),
                        False: ("风险尚未消除", "Risk not yet eliminated")},
    "times_monitored": ("已有 {times_monitored:n} 轮被纳入监测", "Monitored in {times_monitored:n} known round(s)"),
    "risk_types_count": ("登记风险类型 {risk_types_count:n} 项", "{risk_types_count:n} recorded risk type(s)"),
}


def _shock_templates() -> dict[str, Template]:
    out: dict[str, Template] = {}
    for g, (_, _, zh, en) in SHOCK_GROUPS.items():
        out[f"shock_{g}_count_365d"] = (f"近一年发生{zh}事件 {{shock_{g}_count_365d:n}} 次",
                                        f"{{shock_{g}_count_365d:n}} report(s) of {en} in the past year")
        out[f"shock_{g}_amount_365d"] = (f"近一年{zh}涉及金额 {{shock_{g}_amount_365d:yuan}}",
                                         f"{en.capitalize()} costing {{shock_{g}_amount_365d:yuan}} in the past year")
        out[f"shock_{g}_count_since_survey"] = (
            f"上次采集后新报告{zh}事件 {{shock_{g}_count_since_survey:n}} 次",
            f"{{shock_{g}_count_since_survey:n}} new report(s) of {en} since the last survey")
        out[f"shock_{g}_amount_since_survey"] = (
            f"上次采集后{zh}涉及金额 {{shock_{g}_amount_since_survey:yuan}}",
            f"{en.capitalize()} costing {{shock_{g}_amount_since_survey:yuan}} since the last survey")
        out[f"shock_{g}_days_since"] = (f"{{shock_{g}_days_since:n}} 天前发生{zh}",
                                        f"{en.capitalize()} {{shock_{g}_days_since:n}} days ago")
    for code, zh in RISK_TYPE.items():
        en = code.replace("_", " ")
        out[f"risk_type_{code}"] = {True: (f"已登记风险类型：{zh}", f"Recorded risk type: {en}"),
                                    False: (f"未登记风险类型：{zh}", f"Risk type not recorded: {en}")}
    for code, zh in ASSISTANCE.items():
        en = code.replace("_", " ")
        out[f"assist_{code}"] = {True: (f"已落实帮扶措施：{zh}", f"Assistance in force: {en}"),
                                 False: (f"尚未落实{zh}", f"No {en} assistance in force")}
    return out


TEMPLATES.update(_shock_templates())

UNIT_WORDS: dict[str, Pair] = {
    "yuan": ("", ""), "yuan/person": ("", ""), "persons": ("人", "persons"), "count": ("", ""),
    "months": ("个月", "months"), "days": ("天", "days"), "years": ("年", "years"), "mu": ("亩", "mu"),
    "mu/person": ("亩/人", "mu per person"), "km": ("公里", "km"),
}
_CODE_LABELS = {"monitoring_type": {c: (z, c.replace("_", " ")) for c, z in MONITORING_TYPE.items()}}


def format_value(feature: Feature, value: float | None, lang: Lang) -> str:
    """A value in the feature's unit, as a reader of ``lang`` expects it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN[lang]
    if feature.categorical:
        i = int(value)
        if not 0 <= i < len(feature.vocabulary):
            return UNKNOWN[lang]
        code = feature.vocabulary[i]
        zh, en = _CODE_LABELS.get(feature.name, {}).get(code, (code, code))
        return zh if lang == "zh" else en
    if feature.unit == "flag":
        return ("是" if value >= 0.5 else "否") if lang == "zh" else ("yes" if value >= 0.5 else "no")
    if feature.unit in ("yuan", "yuan/person"):
        return _num(value, "yuan", lang) + ("/人" if feature.unit == "yuan/person" and lang == "zh" else
                                            " per person" if feature.unit == "yuan/person" else "")
    if feature.unit == "share":
        return _num(value, "pct", lang)
    if feature.unit in ("ratio", "level"):
        return _num(value, "x", lang)
    word = UNIT_WORDS.get(feature.unit, ("", ""))[0 if lang == "zh" else 1]
    number = _num(value, "n" if float(value).is_integer() else "d1", lang)
    return f"{number} {word}".strip()


def _generic(feature: Feature, value: float | None, lang: Lang) -> str:
    if lang == "zh":
        return f"{feature.zh}：{format_value(feature, value, 'zh')}"
    return f"{feature.en[:1].upper()}{feature.en[1:]}: {format_value(feature, value, 'en')}"


def sentence(name: str, row: Mapping[str, float], lang: Lang = "zh") -> str:
    """One reason sentence for indicator ``name`` of a household's indicator ``row``."""
    feature = by_name(name)
    template = TEMPLATES.get(name)
    value = row.get(name)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if template is None or missing:
        return _generic(feature, value, lang)
    if isinstance(template, dict):
        template = template[bool(value >= 0.5)]
    fmt = template[0] if lang == "zh" else template[1]
    return _render(fmt, row, lang)

