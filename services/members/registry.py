"""The member registry: register, read, list within the caller's tenant, credit giving.
Plain Python: the entrypoints pass a Transaction (session + emit)."""
import uuid
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, NotFound, ValidationFailed
from services.plumbing.pagination import as_utc, page
from services.plumbing.validation import load

from . import events, id_numbers, phones
from .models import Member
from .orgs import HOME_KINDS, HOST_KINDS, get_org, in_scope, visible_members_clause
from .schemas import MemberCreateSchema, MemberListQuerySchema

REGISTERED = "registered"


def register_member(tx: Transaction, caller: Caller, body: dict,
                    protector: id_numbers.IdProtector) -> Member:
    data = load(MemberCreateSchema, body)
    session = tx.session
    try:
        number = id_numbers.normalise(data["id_number"])
    except id_numbers.InvalidIdNumber as exc:
        raise ValidationFailed("invalid input", {"id_number": [str(exc)]})

    problems = {}
    home = get_org(session, data["home_org_id"])
    host = get_org(session, data["host_org_id"])
    if home is None or home.kind not in HOME_KINDS:
        problems["home_org_id"] = ["no such home-side org unit"]
    if data["host_org_id"] and (host is None or host.kind not in HOST_KINDS):
        problems["host_org_id"] = ["no such host-side org unit"]
    if not problems and not (in_scope(session, caller, home) or in_scope(session, caller, host)):
        problems["home_org_id"] = ["neither the home nor the host org unit is in your scope"]
    if problems:
        raise ValidationFailed("invalid input", problems)

    fingerprint = protector.fingerprint(number)
    if session.scalar(select(Member.id).where(Member.id_number_hash == fingerprint)):
        raise Conflict("a member with this ID number is already registered",
                       {"id_number": ["already registered"]})
    member = Member(
        id=str(uuid.uuid4()), name=data["name"].strip(), id_number_hash=fingerprint,
        id_number_encrypted=protector.encrypt(number), id_number_masked=id_numbers.mask(number),
        phone=data["phone"], home_org_id=home.id, host_org_id=host.id if host else None,
        status=REGISTERED, giving_total=Decimal("0.00"), created_at=utcnow())
    session.add(member)
    session.flush()
    tx.emit(events.member_registered(member))
    return member


def get_member(session: Session, caller: Caller, member_id: str) -> Member:
    query = select(Member).where(Member.id == member_id)
    clause = visible_members_clause(session, caller)
    if clause is not None:
        query = query.where(clause)
    member = session.scalar(query)
    if member is None:
        raise NotFound("member not found")
    return member


def list_members(session: Session, caller: Caller, params: dict) -> tuple[list[Member], str | None]:
    query_params = load(MemberListQuerySchema, params)
    query = select(Member)
    clause = visible_members_clause(session, caller)
    if clause is not None:
        query = query.where(clause)
    if query_params["home_org_id"]:
        query = query.where(Member.home_org_id == query_params["home_org_id"])
    if query_params["host_org_id"]:
        query = query.where(Member.host_org_id == query_params["host_org_id"])
    if query_params["name"]:
        query = query.where(Member.name.contains(query_params["name"], autoescape=True))
    return page(session, query, Member.created_at, Member.id, query_params["limit"],
                query_params["cursor"])


def credit_giving(session: Session, member_id: str, amount: Decimal) -> bool:
    """Adds a gift to the member's giving total; False if the member is unknown here."""
    result = session.execute(update(Member).where(Member.id == member_id)
                             .values(giving_total=Member.giving_total + amount))
    return result.rowcount == 1


def member_view(member: Member) -> dict:
    """The member as every caller sees it: ID number and phone masked."""
    return {
        "id": member.id, "name": member.name, "id_number": member.id_number_masked,
        "phone": phones.mask(member.phone), "home_org_id": member.home_org_id,
        "host_org_id": member.host_org_id, "status": member.status,
        "giving_total": member.giving_total, "created_at": as_utc(member.created_at),
    }
