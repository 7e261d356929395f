"""The feature catalogue: every model indicator, with what it means and which risk it speaks to, derived from the
indicator functions themselves (each declares its metadata with ``@indicator``, see ``features.indicators.spec``).

Reports, explanations, the model and the service read it; nothing else lists features. The family modules are
listed here, explicitly; the order of ``FEATURES`` — by family (``FAMILIES``), then module, then definition
order — is the column order of the indicator matrix.
"""

from __future__ import annotations

from features.indicators import dynamics, education, illness, income, labour, living, shocks, subsidy
from features.indicators.shocks import SHOCK_GROUPS, shock_group_of
from features.indicators.spec import FAMILIES, RISK_GROUPS, UNITS, Feature, FeatureFn

__all__ = ["CONCEPTS", "FAMILIES", "FEATURES", "FUNCTIONS", "MODULES", "RISK_GROUPS", "SHOCK_GROUPS", "UNITS",
           "Feature", "by_name", "concept_of", "feature_names", "rows", "shock_group_of"]

# The family modules, each with its ``indicator`` declarations. A new module is added here.
MODULES = (income, subsidy, illness, labour, education, living, dynamics, shocks)


def _collect() -> tuple[Feature, ...]:
    declared = [f for module in MODULES for f in module.indicator.features]
    names = [f.name for f in declared]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RuntimeError(f"indicators declared in two modules: {', '.join(twice)}")
    return tuple(sorted(declared, key=lambda f: FAMILIES.index(f.family)))  # stable: module, then definition order


FEATURES: tuple[Feature, ...] = _collect()
FUNCTIONS: dict[str, FeatureFn] = {f.name: f.compute for f in FEATURES}  # type: ignore[misc]
_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}


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


def rows() -> list[dict[str, object]]:
    """The catalogue as plain rows: what ``povwatch catalogue`` prints and each MLflow run logs."""
    return [{"name": f.name, "zh": f.zh, "en": f.en, "unit": f.unit, "family": f.family, "group": f.risk_group,
             "group_zh": RISK_GROUPS[f.risk_group][0], "direction": f.direction, "concept": f.concept,
             "vocabulary": list(f.vocabulary)} for f in FEATURES]
