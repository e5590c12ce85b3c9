"""Org units and tenancy: who may see what. Plain Python, no nameko.

A caller sees the subtree of its own org unit. A member is visible from the subtree of its home
org *and* from the subtree of its host org (dual management, 双重管理).
"""
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, false, func, literal, or_, select, update
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.plumbing.expiring import ExpiringCache
from services.plumbing.ids import plausible_id  # also imported from here by the members modules
from services.plumbing.text import with_article

from . import events
from .models import Member, OrgUnit

HOME_KINDS = ("county", "township", "village_branch")
HOST_KINDS = ("joint_committee", "second_level_committee", "comprehensive_committee",
              "general_branch", "branch", "area_branch", "service_centre", "service_station")
KINDS = HOME_KINDS + HOST_KINDS


def side_of(kind: str) -> str:
    return "home" if kind in HOME_KINDS else "host"


def get_org(session: Session, org_id: str | None) -> OrgUnit | None:
    return session.get(OrgUnit, org_id) if plausible_id(org_id) else None


# -- the org-unit cache (issue 13) ------------------------------------------------------------
# Every registration looked up its home unit, its host unit and the caller's unit, every scoped
# read the caller's unit, and every scoped list the units of the caller's subtree. Units change
# rarely and only this service writes them, so a process keeps what it read: emptied when this
# process changes a unit (at the write and again after its commit), and every entry expires
# after ORG_CACHE_SECONDS, the bound within which a unit created, moved or closed by another
# replica of the service is seen here.
ORG_CACHE_SECONDS = 2.0
ORG_CACHE_ENTRIES = 10_000

# Up to this many units, a subtree is sent to the database as a list of ids rather than as a
# subquery: with the values in hand PostgreSQL's statistics estimate the scope well and pick
# the right index for a list page over millions of members (bench/members_list.py).
INLINE_SUBTREE_LIMIT = 5000


@dataclass(frozen=True)
class CachedOrg:
    """What scoping and registration need of a unit; never attached to a session."""
    id: str
    kind: str
    path: str
    closed_at: datetime | None


@dataclass(frozen=True)
class Subtree:
    """The units under a path prefix: their side (a subtree is all of one side) and their ids,
    or None for ids when there are more than INLINE_SUBTREE_LIMIT (then SQL selects them)."""
    side: str
    ids: tuple[str, ...] | None


class OrgCache:
    def __init__(self, seconds: float = ORG_CACHE_SECONDS, clock=time.monotonic):
        self._cache = ExpiringCache(seconds, ORG_CACHE_ENTRIES, clock)
        self._subtrees = ExpiringCache(seconds, ORG_CACHE_ENTRIES, clock)

    def get(self, session: Session, org_id) -> CachedOrg | None:
        if not plausible_id(org_id):
            return None

        def load():
            org = session.get(OrgUnit, org_id)
            return org and CachedOrg(org.id, org.kind, org.path, org.closed_at)
        return self._cache.get(org_id, load, may_store=_may_store(session))

    def subtree(self, session: Session, prefix: str) -> Subtree | None:
        """The units whose path starts with `prefix`; None if there is none."""
        def load():
            units = session.execute(select(OrgUnit.id, OrgUnit.kind).where(
                OrgUnit.path.startswith(prefix, autoescape=True))
                .limit(INLINE_SUBTREE_LIMIT + 1)).all()
            if not units:
                return None
            ids = None if len(units) > INLINE_SUBTREE_LIMIT else tuple(u.id for u in units)
            return Subtree(side_of(units[0].kind), ids)
        return self._subtrees.get(prefix, load, may_store=_may_store(session))

    def clear(self) -> None:
        self._cache.clear()
        self._subtrees.clear()


def _may_store(session: Session) -> bool:
    """Not while this session's transaction changed units: it may roll back."""
    return not session.info.get(_ORGS_CHANGED)


ORG_CACHE = OrgCache()
_ORGS_CHANGED = "liudong_org_units_changed"


def orgs_changed(session: Session) -> None:
    """Called by every write to org units: the cache is emptied now and once more when the
    transaction ends (a concurrent reader may have cached the old row in between)."""
    session.info[_ORGS_CHANGED] = True
    ORG_CACHE.clear()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _clear_org_cache_after_org_writes(session: Session) -> None:
    if session.info.pop(_ORGS_CHANGED, False):
        ORG_CACHE.clear()


def cached_org(session: Session, org_id) -> CachedOrg | None:
    return ORG_CACHE.get(session, org_id)


def caller_path(session: Session, caller: Caller) -> str | None:
    """The caller's subtree prefix; None for a platform-wide caller. A key whose org unit is
    gone sees nothing rather than everything."""
    if caller.platform_wide:
        return None
    org = cached_org(session, caller.org_id)
    return org.path if org else "/nothing/"


def in_scope(session: Session, caller: Caller, org: OrgUnit | None) -> bool:
    if org is None:
        return False
    prefix = caller_path(session, caller)
    return prefix is None or org.path.startswith(prefix)


def member_in_scope(session: Session, caller: Caller, home_org_id: str | None,
                    host_org_id: str | None) -> bool:
    """Dual management for one member already read: its home unit or its host unit lies in
    the caller's subtree. Answered from the org-unit cache, where a list needs the SQL clause
    (`visible_members_clause`); the two agree (test_registry)."""
    prefix = caller_path(session, caller)
    if prefix is None:
        return True
    for org_id in (home_org_id, host_org_id):
        org = cached_org(session, org_id) if org_id else None
        if org is not None and org.path.startswith(prefix):
            return True
    return False


def visible_orgs_subquery(prefix: str):
    return select(OrgUnit.id).where(OrgUnit.path.startswith(prefix, autoescape=True))


def visible_members_clause(session: Session, caller: Caller):
    """A WHERE clause limiting members to the caller's tenant, or None for platform-wide."""
    prefix = caller_path(session, caller)
    if prefix is None:
        return None
    return members_under_clause(session, prefix)


def members_under_clause(session: Session, prefix: str):
    """Members whose home org (home-side subtree) or host org (host-side subtree) lies under
    `prefix`. A subtree is all of one side (a unit's kind always matches its parent's side),
    and home_org_id only ever names home-side units, host_org_id host-side ones, so only one
    column can match: testing just that one keeps the query on a single index."""
    subtree = ORG_CACHE.subtree(session, prefix)
    if subtree is None:
        return false()
    column = Member.home_org_id if subtree.side == "home" else Member.host_org_id
    if subtree.ids is None:
        return column.in_(visible_orgs_subquery(prefix))
    return column.in_(subtree.ids)


def county_of(session: Session, org: OrgUnit) -> OrgUnit | None:
    """The county a home-side unit belongs to (itself if it is one)."""
    ids = [part for part in org.path.split("/") if part]
    if not ids:
        return None
    rows = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.kind == "county"))
    return next(iter(rows), None)


def create_org_unit(tx: Transaction, caller: Caller, data: dict) -> OrgUnit:
    """A root unit needs a platform-wide admin; a child unit must sit inside the caller's subtree."""
    session = tx.session
    parent = None
    if data.get("parent_id"):
        parent = get_org(session, data["parent_id"])
        if not in_scope(session, caller, parent):
            raise ValidationFailed("unknown parent", {"parent_id": ["no such org unit in your scope"]})
        if parent.closed_at is not None:
            raise ValidationFailed("closed parent", {"parent_id": ["this org unit is closed"]})
        if side_of(parent.kind) != side_of(data["kind"]):
            raise ValidationFailed("wrong tree", {
                "kind": [f"{with_article(data['kind'])} cannot sit under "
                         f"{with_article(parent.kind)}"]})
    elif not caller.platform_wide:
        raise Forbidden("only a platform-wide admin creates top-level org units",
                        {"parent_id": ["required for your key"]})
    org_id = str(uuid.uuid4())
    org = OrgUnit(id=org_id, parent_id=parent.id if parent else None, kind=data["kind"],
                  name=data["name"], city=data.get("city"), contact=data.get("contact"),
                  path=(parent.path if parent else "/") + org_id + "/", created_at=utcnow())
    session.add(org)
    session.flush()
    orgs_changed(session)
    tx.emit(events.org_unit_registered(org))
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


def move_org_unit(tx: Transaction, caller: Caller, org_id: str, data: dict) -> OrgUnit:
    """Re-parent a unit: its whole subtree's paths change in one UPDATE."""
    session = tx.session
    org = get_visible_org(session, caller, org_id)
    parent = get_org(session, data["parent_id"])
    if not in_scope(session, caller, parent):
        raise ValidationFailed("unknown parent", {"parent_id": ["no such org unit in your scope"]})
    if parent.path.startswith(org.path):
        raise ValidationFailed("cycle", {"parent_id": ["cannot move a unit under itself"]})
    if side_of(parent.kind) != side_of(org.kind):
        raise ValidationFailed("wrong tree", {
            "parent_id": [f"{with_article(org.kind)} cannot sit under "
                          f"{with_article(parent.kind)}"]})
    if parent.closed_at is not None:
        raise ValidationFailed("closed parent", {"parent_id": ["this org unit is closed"]})
    if org.parent_id == parent.id:
        return org
    old_path, new_path = org.path, parent.path + org.id + "/"
    orgs_changed(session)
    session.execute(
        update(OrgUnit).where(OrgUnit.path.startswith(old_path, autoescape=True))
        .values(path=literal(new_path) + func.substr(OrgUnit.path, len(old_path) + 1))
        .execution_options(synchronize_session=False))
    session.execute(update(OrgUnit).where(OrgUnit.id == org.id).values(parent_id=parent.id)
                    .execution_options(synchronize_session=False))
    session.expire_all()
    org = session.get(OrgUnit, org_id)
    tx.emit(events.org_unit_moved(org, old_path))
    return org


def close_org_unit(tx: Transaction, caller: Caller, org_id: str) -> OrgUnit:
    """Closing is refused while members still belong to the unit or open units sit under it."""
    session = tx.session
    org = get_visible_org(session, caller, org_id)
    if org.closed_at is not None:
        raise Conflict("org unit already closed", {"org_id": ["already closed"]})
    members = session.scalar(select(func.count()).select_from(Member).where(
        or_(Member.home_org_id == org.id, Member.host_org_id == org.id)))
    if members:
        raise Conflict("move its members first", {"org_id": [f"{members} members still belong here"]})
    children = session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.parent_id == org.id, OrgUnit.closed_at.is_(None)))
    if children:
        raise Conflict("close or move its units first", {"org_id": [f"{children} open units below"]})
    org.closed_at = utcnow()
    session.flush()
    orgs_changed(session)
    tx.emit(events.org_unit_closed(org))
    return org


def subtree_with_counts(session: Session, caller: Caller, org_id: str) -> list[dict]:
    """Every unit of a subtree with its own members (home and host side) and its subtree's
    totals: two grouped queries, totals summed here along the paths."""
    root = get_visible_org(session, caller, org_id)
    units = list(session.scalars(select(OrgUnit).where(
        OrgUnit.path.startswith(root.path, autoescape=True)).order_by(OrgUnit.path)))
    inside = visible_orgs_subquery(root.path)
    home = dict(session.execute(select(Member.home_org_id, func.count()).where(
        Member.home_org_id.in_(inside)).group_by(Member.home_org_id)).all())
    host = dict(session.execute(select(Member.host_org_id, func.count()).where(
        Member.host_org_id.in_(inside)).group_by(Member.host_org_id)).all())
    totals = {unit.id: [0, 0] for unit in units}
    for unit in units:
        for ancestor in unit.path.strip("/").split("/"):
            if ancestor in totals:
                totals[ancestor][0] += home.get(unit.id, 0)
                totals[ancestor][1] += host.get(unit.id, 0)
    return [{"org": unit, "home_members": home.get(unit.id, 0),
             "host_members": host.get(unit.id, 0), "subtree_home_members": totals[unit.id][0],
             "subtree_host_members": totals[unit.id][1]} for unit in units]
