"""Care (members aged 60+, visits, hardship help, honours) and returning talent (人才回引).
Plain Python, no nameko: the entrypoints pass data already loaded through the schemas."""
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed
from services.plumbing.pagination import page

from .models import CareVisit, HardshipHelp, Honour, Member, TalentReturn
from .orgs import caller_path, get_org, get_visible_org, in_scope, members_under_clause
from .registry import RETURNED, filtered_members_query, get_member

HARDSHIP_KINDS = ("living", "business", "family")
TALENT_KINDS = ("business_founder", "village_cadre", "branch_secretary")


def elderly(session: Session, caller: Caller, data: dict):
    """Members aged `age` (60) or more as of a date, from their birth dates."""
    query = filtered_members_query(session, caller, {"age_min": data["age"], "as_of": data["as_of"]})
    if data.get("org_id"):
        query = query.where(members_under_clause(session, get_visible_org(session, caller, data["org_id"]).path))
    return page(session, query, Member.created_at, Member.id, data["limit"], data["cursor"])


def log_visit(session: Session, caller: Caller, member_id: str, data: dict) -> CareVisit:
    member = get_member(session, caller, member_id)
    visit = CareVisit(id=str(uuid.uuid4()), member_id=member.id, org_id=caller.org_id,
                      visited_on=data["visited_on"], notes=data["notes"], created_at=utcnow())
    session.add(visit)
    session.flush()
    return visit


def visits(session: Session, caller: Caller, member_id: str) -> list[CareVisit]:
    get_member(session, caller, member_id)
    return list(session.scalars(select(CareVisit).where(CareVisit.member_id == member_id)
                                .order_by(CareVisit.visited_on)))


def grant_help(session: Session, caller: Caller, member_id: str, data: dict) -> HardshipHelp:
    member = get_member(session, caller, member_id)
    help_ = HardshipHelp(id=str(uuid.uuid4()), member_id=member.id, org_id=caller.org_id,
                         kind=data["kind"], amount=data["amount"], granted_on=data["granted_on"],
                         notes=data["notes"], created_at=utcnow())
    session.add(help_)
    session.flush()
    return help_


def help_records(session: Session, caller: Caller, member_id: str) -> dict:
    get_member(session, caller, member_id)
    items = list(session.scalars(select(HardshipHelp).where(HardshipHelp.member_id == member_id)
                                 .order_by(HardshipHelp.granted_on)))
    return {"total": sum((i.amount for i in items), Decimal("0.00")), "items": items}


def award_honour(session: Session, caller: Caller, data: dict) -> Honour:
    if bool(data["member_id"]) == bool(data["org_id"]):
        raise ValidationFailed("invalid input", {"member_id": ["give exactly one of member_id, org_id"]})
    if data["member_id"]:
        try:
            get_member(session, caller, data["member_id"])
        except NotFound:
            raise ValidationFailed("invalid input", {"member_id": ["no such member in your scope"]}) from None
    elif not in_scope(session, caller, get_org(session, data["org_id"])):
        raise ValidationFailed("invalid input", {"org_id": ["no such org unit in your scope"]})
    honour = Honour(id=str(uuid.uuid4()), member_id=data["member_id"], org_id=data["org_id"],
                    title=data["title"], awarded_on=data["awarded_on"],
                    awarded_by_org_id=caller.org_id, created_at=utcnow())
    session.add(honour)
    session.flush()
    return honour


def honours(session: Session, caller: Caller, data: dict) -> list[Honour]:
    query = select(Honour).order_by(Honour.awarded_on, Honour.created_at)
    if data["member_id"]:
        get_member(session, caller, data["member_id"])
        return list(session.scalars(query.where(Honour.member_id == data["member_id"])))
    if data["org_id"]:
        get_visible_org(session, caller, data["org_id"])
        return list(session.scalars(query.where(Honour.org_id == data["org_id"])))
    raise ValidationFailed("invalid input", {"member_id": ["give member_id or org_id"]})


def record_talent_return(session: Session, caller: Caller, member_id: str, data: dict) -> TalentReturn:
    member = get_member(session, caller, member_id)
    if member.status != RETURNED:
        raise InvalidTransition("only a member who returned home (回归)", {"status": [f"is {member.status}"]})
    row = TalentReturn(id=str(uuid.uuid4()), member_id=member.id, kind=data["kind"],
                       returned_on=data["returned_on"], notes=data["notes"], created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def talent_report(session: Session, caller: Caller, data: dict) -> dict:
    """Returning talent of a county's members, counted by kind (one grouped query) and listed."""
    prefix = get_visible_org(session, caller, data["org_id"]).path if data["org_id"] else caller_path(session, caller)
    base = select(TalentReturn).join(Member, Member.id == TalentReturn.member_id)
    counts = select(TalentReturn.kind, func.count()).join(Member, Member.id == TalentReturn.member_id)
    if prefix is not None:
        under = members_under_clause(session, prefix)
        base, counts = base.where(under), counts.where(under)
    if data["year"]:
        start, end = date(data["year"], 1, 1), date(data["year"], 12, 31)
        base = base.where(TalentReturn.returned_on.between(start, end))
        counts = counts.where(TalentReturn.returned_on.between(start, end))
    return {"counts": dict(session.execute(counts.group_by(TalentReturn.kind)).all()),
            "items": list(session.scalars(base.order_by(TalentReturn.returned_on)))}
