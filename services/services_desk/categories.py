"""Categories of proxy business and their rules as data: the time limit in working days, the
materials checklist and whether the home county must act (收受分离).

A rule is looked up for the requester's home county first, then the platform default an admin
set (county "*"), then the built-in default below.
"""
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, NotFound, ValidationFailed

from .models import TENANCY, CategoryRule

PLATFORM_DEFAULT = "*"

# category: (time limit in working days, materials, home county must act)
BUILT_IN = {
    "social_insurance": (10, ["身份证", "社保卡", "参保证明"], False),
    "medical_insurance": (10, ["身份证", "医保卡", "异地就医备案表"], False),
    "employment_subsidy": (15, ["身份证", "劳动合同", "银行账户"], False),
    "pension": (15, ["身份证", "户口簿", "养老保险缴费凭证"], False),
    "work_injury": (20, ["身份证", "劳动合同", "医疗诊断证明"], False),
    "maternity": (10, ["身份证", "结婚证", "出生医学证明"], False),
    "policy_consultation": (3, [], False),
    "job_help": (5, ["身份证"], False),
    "hardship_help": (10, ["身份证", "困难情况说明"], False),
    "other": (10, [], False),
}
CATEGORIES = tuple(BUILT_IN)


def _home_and_ancestors(session: Session, home_org_id: str | None) -> list[str]:
    """The home org and the units above it, nearest first: a member's home is often a
    township or village, while the rule is set by its county."""
    path = TENANCY.org_path(session, home_org_id)
    if path is None:
        return [home_org_id] if home_org_id else []
    return [org for org in reversed(path.strip("/").split("/")) if org]


def rule_for(session: Session, category: str, home_org_id: str | None) -> dict:
    """The rule of the nearest unit at or above the home org that has one, else the platform
    default, else the built-in one."""
    for county in _home_and_ancestors(session, home_org_id) + [PLATFORM_DEFAULT]:
        row = session.get(CategoryRule, (county, category))
        if row is not None:
            return {"category": category, "county_org_id": county,
                    "time_limit_days": row.time_limit_days, "materials": list(row.materials),
                    "home_must_act": row.home_must_act}
    limit, materials, home_must_act = BUILT_IN[category]
    return {"category": category, "county_org_id": None, "time_limit_days": limit,
            "materials": list(materials), "home_must_act": home_must_act}


def set_rule(session: Session, caller: Caller, category: str, data: dict) -> dict:
    """An admin sets the platform default (county_org_id omitted); a county office its own
    county's rule (any county in its subtree)."""
    if category not in BUILT_IN:
        raise NotFound("no such category")
    county = data.get("county_org_id")
    if county is None:
        if caller.role != "admin":
            raise Forbidden("only an admin sets the platform default",
                            {"county_org_id": ["name your county"]})
        county = PLATFORM_DEFAULT
    elif not TENANCY.org_in_scope(session, caller, county):
        raise ValidationFailed("unknown county", {"county_org_id": ["no such org unit in your scope"]})
    row = session.get(CategoryRule, (county, category))
    if row is None:
        row = CategoryRule(county_org_id=county, category=category)
        session.add(row)
    row.time_limit_days = data["time_limit_days"]
    row.materials = data["materials"]
    row.home_must_act = data["home_must_act"]
    row.updated_by = caller.key_id
    row.updated_at = utcnow()
    session.flush()
    return rule_for(session, category, None if county == PLATFORM_DEFAULT else county)


def list_rules(session: Session, county_org_id: str | None) -> list[dict]:
    return [rule_for(session, category, county_org_id) for category in CATEGORIES]
