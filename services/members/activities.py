"""Life of the branch: activities with sign-up, attendance and leave; yearly tallies by kind;
study points (rules per county, a ledger per member, rankings); volunteer hours.
Plain Python, no nameko: the entrypoints pass data already loaded through the schemas."""
import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed

from .models import Activity, Member, Participation, PointEntry, PointRule
from .orgs import (
    caller_path,
    county_of,
    get_org,
    get_visible_org,
    in_scope,
    members_under_clause,
    plausible_id,
    visible_orgs_subquery,
)
from .registry import get_member

ACTIVITY_KINDS = ("meetings_and_lecture", "themed_party_day", "film_lecture", "study_contest",
                  "red_education_visit", "volunteer_service", "community_service", "other")
SIGNED_UP, ATTENDED, ON_LEAVE = "signed_up", "attended", "on_leave"


def create_activity(session: Session, caller: Caller, data: dict) -> Activity:
    org = get_org(session, data["org_id"])
    if not in_scope(session, caller, org) or org.closed_at is not None:
        raise ValidationFailed("invalid input", {"org_id": ["no such org unit in your scope"]})
    activity = Activity(id=str(uuid.uuid4()), org_id=org.id, kind=data["kind"], title=data["title"],
                        place=data["place"], held_on=data["held_on"], year=data["held_on"].year,
                        created_at=utcnow())
    session.add(activity)
    session.flush()
    return activity


def get_activity(session: Session, caller: Caller, activity_id: str) -> Activity:
    activity = session.get(Activity, activity_id) if plausible_id(activity_id) else None
    if activity is None or not in_scope(session, caller, get_org(session, activity.org_id)):
        raise NotFound("activity not found")
    return activity


def _participation(session, caller, activity_id, data):
    activity = get_activity(session, caller, activity_id)
    try:
        member = get_member(session, caller, data["member_id"])
    except NotFound:
        raise ValidationFailed("invalid input", {"member_id": ["no such member in your scope"]}) from None
    row = session.scalar(select(Participation).where(
        Participation.activity_id == activity.id, Participation.member_id == member.id)
        .with_for_update())
    if row is None:
        row = Participation(id=str(uuid.uuid4()), activity_id=activity.id, member_id=member.id,
                            status=SIGNED_UP, volunteer_hours=Decimal("0.00"), updated_at=utcnow())
        session.add(row)
    return activity, member, row


def sign_up(session: Session, caller: Caller, activity_id: str, data: dict) -> dict:
    _activity, _member, row = _participation(session, caller, activity_id, data)
    if row.status == ATTENDED:
        raise InvalidTransition("already attended", {"status": ["attended"]})
    row.status, row.leave_reason, row.updated_at = SIGNED_UP, None, utcnow()
    session.flush()
    return participation_view(row, None)


def request_leave(session: Session, caller: Caller, activity_id: str, data: dict) -> dict:
    _activity, _member, row = _participation(session, caller, activity_id, data)
    if row.status == ATTENDED:
        raise InvalidTransition("already attended", {"status": ["attended"]})
    if not (data.get("reason") or "").strip():
        raise ValidationFailed("invalid input", {"reason": ["a reason is required"]})
    row.status, row.leave_reason, row.updated_at = ON_LEAVE, data["reason"], utcnow()
    session.flush()
    return participation_view(row, None)


def attend(session: Session, caller: Caller, activity_id: str, data: dict) -> dict:
    """Sign-in: marks attendance, records volunteer hours, and awards the study points that the
    member's home county's rules give for this kind of activity (once per activity)."""
    activity, member, row = _participation(session, caller, activity_id, data)
    if row.status == ATTENDED:
        raise InvalidTransition("already signed in", {"status": ["attended"]})
    row.status, row.leave_reason, row.updated_at = ATTENDED, None, utcnow()
    row.volunteer_hours = data.get("volunteer_hours") or Decimal("0.00")
    awarded = None
    county = county_of(session, get_org(session, member.home_org_id))
    rule = session.get(PointRule, (county.id, activity.kind)) if county else None
    if rule and rule.points:
        awarded = rule.points
        session.add(_entry(member.id, activity.org_id, activity.id, rule.points,
                           f"{activity.kind}: {activity.title}", activity.held_on))
    session.flush()
    return participation_view(row, awarded)


def _entry(member_id, org_id, activity_id, points, reason, earned_on) -> PointEntry:
    return PointEntry(id=str(uuid.uuid4()), member_id=member_id, earned_at_org_id=org_id,
                      activity_id=activity_id, points=points, reason=reason[:200],
                      earned_on=earned_on, month=earned_on.strftime("%Y-%m"), year=earned_on.year,
                      created_at=utcnow())


def participation_view(row: Participation, awarded) -> dict:
    return {"activity_id": row.activity_id, "member_id": row.member_id, "status": row.status,
            "leave_reason": row.leave_reason, "volunteer_hours": row.volunteer_hours,
            "points_awarded": awarded}


def tally(session: Session, caller: Caller, data: dict) -> dict:
    """Activities per org and kind in a year, over a subtree: ONE grouped query."""
    prefix = _subtree_prefix(session, caller, data.get("org_id"))
    query = (select(Activity.org_id, Activity.kind, func.count())
             .where(Activity.year == data["year"])
             .group_by(Activity.org_id, Activity.kind).order_by(Activity.org_id, Activity.kind))
    if prefix is not None:
        query = query.where(Activity.org_id.in_(visible_orgs_subquery(prefix)))
    rows = [{"org_id": o, "kind": k, "count": c} for o, k, c in session.execute(query)]
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["kind"]] = totals.get(row["kind"], 0) + row["count"]
    return {"year": data["year"], "rows": rows, "totals": totals}


def _subtree_prefix(session, caller, org_id):
    if org_id:
        return get_visible_org(session, caller, org_id).path
    return caller_path(session, caller)


# -- study points -----------------------------------------------------------------------------------
def set_point_rule(session: Session, caller: Caller, data: dict) -> PointRule:
    county = get_org(session, data["county_org_id"])
    if county is None or county.kind != "county" or not in_scope(session, caller, county):
        raise ValidationFailed("invalid input", {"county_org_id": ["no such county in your scope"]})
    rule = session.get(PointRule, (county.id, data["activity_kind"]))
    if rule is None:
        rule = PointRule(county_org_id=county.id, activity_kind=data["activity_kind"], points=0)
        session.add(rule)
    rule.points = data["points"]
    session.flush()
    return rule


def point_rules(session: Session, caller: Caller, params: dict) -> list[PointRule]:
    county = get_visible_org(session, caller, params["county_org_id"])
    return list(session.scalars(select(PointRule).where(PointRule.county_org_id == county.id)
                                .order_by(PointRule.activity_kind)))


def award_points(session: Session, caller: Caller, member_id: str, data: dict) -> PointEntry:
    member = get_member(session, caller, member_id)
    org_id = caller.org_id or member.home_org_id
    entry = _entry(member.id, org_id, None, data["points"], data["reason"], data["earned_on"])
    session.add(entry)
    session.flush()
    return entry


def point_ledger(session: Session, caller: Caller, member_id: str) -> dict:
    """Every entry, wherever earned: the home side sees points earned at the host branch."""
    member = get_member(session, caller, member_id)
    entries = list(session.scalars(select(PointEntry).where(PointEntry.member_id == member.id)
                                   .order_by(PointEntry.earned_on, PointEntry.created_at)))
    return {"total": sum(e.points for e in entries), "items": entries}


def ranking(session: Session, caller: Caller, data: dict) -> dict:
    prefix = _subtree_prefix(session, caller, data.get("org_id"))
    total = func.sum(PointEntry.points).label("points")
    query = (select(Member.id, Member.name, total).join(PointEntry, PointEntry.member_id == Member.id)
             .group_by(Member.id, Member.name).order_by(total.desc(), Member.name, Member.id)
             .limit(data["limit"]))
    if data.get("month"):
        period = f"{data['year']:04d}-{data['month']:02d}"
        query = query.where(PointEntry.month == period)
    else:
        period = f"{data['year']:04d}"
        query = query.where(PointEntry.year == data["year"])
    if prefix is not None:
        query = query.where(members_under_clause(session, prefix))
    items, rank, previous = [], 0, None
    for index, (member_id, name, points) in enumerate(session.execute(query), start=1):
        if points != previous:
            rank, previous = index, points
        items.append({"rank": rank, "member_id": member_id, "name": name, "points": int(points)})
    return {"period": period, "items": items}


def volunteer_hours(session: Session, caller: Caller, member_id: str) -> dict:
    member = get_member(session, caller, member_id)
    rows = session.execute(
        select(Activity.id, Activity.title, Activity.held_on, Participation.volunteer_hours)
        .join(Participation, Participation.activity_id == Activity.id)
        .where(Participation.member_id == member.id, Participation.status == ATTENDED,
               Participation.volunteer_hours > 0)
        .order_by(Activity.held_on)).all()
    items = [{"activity_id": a, "title": t, "held_on": h, "hours": hours} for a, t, h, hours in rows]
    return {"member_id": member.id, "total": sum((i["hours"] for i in items), Decimal("0.00")),
            "items": items}
