"""Desk staff as data, keyed by their API key id: centre, languages spoken, lead or not.

An admin manages anyone; a centre lead manages the staff of their own centre but cannot make
anyone a lead (that is the admin's decision).
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, ValidationFailed

from .models import TENANCY, Staff

CHINESE = "zh"


def staff_member(session: Session, key_id: str) -> Staff | None:
    return session.get(Staff, key_id) if key_id else None


def is_lead_of(session: Session, caller: Caller, centre_org_id: str) -> bool:
    member = staff_member(session, caller.key_id)
    return (member is not None and member.is_lead and caller.role == "desk_staff"
            and member.centre_org_id == centre_org_id)


def put_staff(session: Session, caller: Caller, key_id: str, data: dict) -> Staff:
    centre = data["centre_org_id"]
    if caller.role == "admin":
        if not TENANCY.org_in_scope(session, caller, centre):
            raise ValidationFailed("unknown centre", {"centre_org_id": ["no such org unit"]})
    else:
        if not is_lead_of(session, caller, centre):
            raise Forbidden("only an admin or the centre's lead manages its staff",
                            {"centre_org_id": ["you do not lead this centre"]})
        existing = staff_member(session, key_id)
        if existing is not None and existing.centre_org_id != centre:
            raise Forbidden("this key belongs to another centre", {"key_id": ["not yours"]})
        if data["is_lead"] and not (existing and existing.is_lead):
            raise Forbidden("only an admin appoints leads", {"is_lead": ["admin only"]})
    member = staff_member(session, key_id)
    if member is None:
        member = Staff(key_id=key_id)
        session.add(member)
    member.centre_org_id = centre
    member.name = data["name"].strip()
    member.languages = sorted(set(data["languages"]) | {CHINESE})
    member.is_lead = data["is_lead"]
    member.updated_by = caller.key_id
    member.updated_at = utcnow()
    session.flush()
    return member


def list_staff(session: Session, caller: Caller) -> list[Staff]:
    query = select(Staff).order_by(Staff.centre_org_id, Staff.key_id)
    clause = TENANCY.org_column_in_scope(session, caller, Staff.centre_org_id)
    return list(session.scalars(query if clause is None else query.where(clause)))


def speakers_at(session: Session, centre_org_id: str, language: str) -> list[str]:
    """Key ids of the centre's staff who speak `language`."""
    return [member.key_id for member in session.scalars(
        select(Staff).where(Staff.centre_org_id == centre_org_id))
        if language in member.languages]


def staff_view(member: Staff) -> dict:
    return {"key_id": member.key_id, "centre_org_id": member.centre_org_id, "name": member.name,
            "languages": list(member.languages), "is_lead": member.is_lead}
