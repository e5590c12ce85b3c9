"""Org units and tenancy: who may see what. Plain Python, no nameko.

A caller sees the subtree of its own org unit. A member is visible from the subtree of its home
org *and* from the subtree of its host org (dual management, 双重管理).
"""
import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, NotFound, ValidationFailed

from .models import Member, OrgUnit

HOME_KINDS = ("county", "township", "village_branch")
HOST_KINDS = ("joint_committee", "second_level_committee", "comprehensive_committee",
              "general_branch", "branch", "area_branch", "service_centre", "service_station")
KINDS = HOME_KINDS + HOST_KINDS


def side_of(kind: str) -> str:
    return "home" if kind in HOME_KINDS else "host"


def get_org(session: Session, org_id: str | None) -> OrgUnit | None:
    return session.get(OrgUnit, org_id) if org_id else None


def caller_path(session: Session, caller: Caller) -> str | None:
    """The caller's subtree prefix; None for a platform-wide caller. A key whose org unit is
    gone sees nothing rather than everything."""
    if caller.platform_wide:
        return None
    org = get_org(session, caller.org_id)
    return org.path if org else "/nothing/"


def in_scope(session: Session, caller: Caller, org: OrgUnit | None) -> bool:
    if org is None:
        return False
    prefix = caller_path(session, caller)
    return prefix is None or org.path.startswith(prefix)


def visible_orgs_subquery(prefix: str):
    return select(OrgUnit.id).where(OrgUnit.path.startswith(prefix, autoescape=True))


def visible_members_clause(session: Session, caller: Caller):
    """A WHERE clause limiting members to the caller's tenant, or None for platform-wide."""
    prefix = caller_path(session, caller)
    if prefix is None:
        return None
    orgs = visible_orgs_subquery(prefix)
    return or_(Member.home_org_id.in_(orgs), Member.host_org_id.in_(orgs))


def create_org_unit(session: Session, caller: Caller, data: dict) -> OrgUnit:
    """A root unit needs a platform-wide admin; a child unit must sit inside the caller's subtree."""
    parent = None
    if data.get("parent_id"):
        parent = get_org(session, data["parent_id"])
        if not in_scope(session, caller, parent):
            raise ValidationFailed("unknown parent", {"parent_id": ["no such org unit in your scope"]})
        if side_of(parent.kind) != side_of(data["kind"]):
            raise ValidationFailed("wrong tree", {
                "kind": [f"a {data['kind']} cannot sit under a {parent.kind}"]})
    elif not caller.platform_wide:
        raise Forbidden("only a platform-wide admin creates top-level org units",
                        {"parent_id": ["required for your key"]})
    org_id = str(uuid.uuid4())
    org = OrgUnit(id=org_id, parent_id=parent.id if parent else None, kind=data["kind"],
                  name=data["name"], city=data.get("city"),
                  path=(parent.path if parent else "/") + org_id + "/", created_at=utcnow())
    session.add(org)
    session.flush()
    return org


def get_visible_org(session: Session, caller: Caller, org_id: str) -> OrgUnit:
    org = get_org(session, org_id)
    if not in_scope(session, caller, org):
        raise NotFound("org unit not found")
    return org


def list_visible_orgs(session: Session, caller: Caller) -> list[OrgUnit]:
    query = select(OrgUnit).order_by(OrgUnit.path)
    prefix = caller_path(session, caller)
    if prefix is not None:
        query = query.where(OrgUnit.path.startswith(prefix, autoescape=True))
    return list(session.scalars(query))
