"""The member registry: register, read, update, list within the caller's tenant with filters,
credit giving. Plain Python: the entrypoints pass a Transaction (session + emit) and data already
loaded through the schemas."""
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.plumbing import phones
from services.plumbing.caller import Caller
from services.plumbing.clock import today_in_china
from services.plumbing.db import Transaction, takes_a_unique_value
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.plumbing.pagination import as_utc, page

from . import events, id_numbers
from .models import FlowRecord, Member, OrgUnit
from .orgs import (
    HOME_KINDS,
    HOST_KINDS,
    CachedOrg,
    cached_org,
    get_org,
    in_scope,
    member_in_scope,
    plausible_id,
    visible_members_clause,
)

# The flow lifecycle's states (see flows.py for the transitions).
REGISTERED = "registered"      # in the registry, not flowed out (or never flowed)
PENDING = "pending"            # 待报到: flow-out registered, the host has not accepted yet
ACTIVE = "active"              # 已流入: accepted by the host org
REFUSED = "refused"            # the host refused; the home org may flow the member out again
RETURNED = "returned"          # 回归: back home
LOST = "lost"                  # 失联
STATUSES = (REGISTERED, PENDING, ACTIVE, REFUSED, RETURNED, LOST)
CATEGORIES = ("working", "non_working_resident", "stationed")
OCCUPATIONS = ("migrant_worker", "business_owner", "company_employee", "other")


def gender_from_id(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def check_orgs(session: Session, caller: Caller, home_org_id, host_org_id) -> tuple:
    """The home and host units (CachedOrg: orgs.ORG_CACHE) once both exist, are open and on
    the right side, and one of them is in the caller's scope."""
    problems = {}
    home = cached_org(session, home_org_id)
    host = cached_org(session, host_org_id)
    if home is None or home.kind not in HOME_KINDS or home.closed_at is not None:
        problems["home_org_id"] = ["no such home-side org unit"]
    if host_org_id and (host is None or host.kind not in HOST_KINDS or host.closed_at is not None):
        problems["host_org_id"] = ["no such host-side org unit"]
    if not problems and not (in_scope(session, caller, home) or in_scope(session, caller, host)):
        problems["home_org_id"] = ["neither the home nor the host org unit is in your scope"]
    if problems:
        raise ValidationFailed("invalid input", problems)
    return home, host


def parse_id_number(raw: str) -> str:
    try:
        return id_numbers.normalise(raw)
    except id_numbers.InvalidIdNumber as exc:
        raise ValidationFailed("invalid input", {"id_number": [str(exc)]}) from None


def new_member(data: dict, number: str, home: CachedOrg, host: CachedOrg | None,
               protector: id_numbers.IdProtector, fingerprint: str) -> Member:
    return Member(**member_values(data, number, home.id, host.id if host else None, protector,
                                  fingerprint))


def member_values(data: dict, number: str, home_org_id: str, host_org_id: str | None,
                  protector: id_numbers.IdProtector, fingerprint: str, **columns) -> dict:
    """A new member's columns (one registration builds a Member of them; an import inserts
    a thousand at once, its rows checked in a process of their own: see import_worker.py);
    `columns` adds the import's own. The org units are checked already (check_orgs)."""
    return dict(
        id=str(uuid.uuid4()), name=data["name"].strip(), id_number_hash=fingerprint,
        id_number_encrypted=protector.encrypt(number), id_number_masked=id_numbers.mask(number),
        phone=data["phone"], gender=gender_from_id(number), birth_date=id_numbers.birth_date(number),
        joined_party_on=data.get("joined_party_on"), category=data.get("category"),
        occupation=data.get("occupation"), languages=data.get("languages") or [],
        skills=data.get("skills") or [], notes=data.get("notes"),
        home_org_id=home_org_id, host_org_id=host_org_id,
        status=PENDING if host_org_id else REGISTERED, giving_total=Decimal("0.00"),
        created_at=utcnow(), **columns)


def registration_record(member: Member, caller: Caller) -> FlowRecord:
    return FlowRecord(**registration_values(member.id, member.status, member.host_org_id, caller))


def registration_values(member_id: str, status: str, host_org_id: str | None,
                        caller: Caller) -> dict:
    today = today_in_china()
    return dict(member_id=member_id, action="registered", from_status=None,
                to_status=status, from_host_org_id=None,
                to_host_org_id=host_org_id, actor_key_id=caller.key_id,
                actor_org_id=caller.org_id, reason=None, occurred_on=today,
                month=today.strftime("%Y-%m"), created_at=utcnow())


def register_member(tx: Transaction, caller: Caller, data: dict,
                    protector: id_numbers.IdProtector) -> Member:
    """Registering with a host org is the home org's flow-out registration: the member is 待报到
    until the host accepts."""
    session = tx.session
    number = parse_id_number(data["id_number"])
    home, host = check_orgs(session, caller, data["home_org_id"], data["host_org_id"])
    values = member_values(data, number, home.id, host.id if host else None, protector,
                           protector.fingerprint(number))
    # The row as inserted (nothing is filled in by the database): the reply and the event need
    # no read back, and no ORM flush.
    member = Member(**values)
    flow = registration_values(values["id"], values["status"], values["host_org_id"], caller)
    try:
        # Member, flow record and event in one round trip (issue 13).
        tx.write_and_emit([(Member.__table__, values), (FlowRecord.__table__, flow)],
                           events.member_registered(member))
    except IntegrityError as error:
        # The unique index answers (no SELECT first): two registrations of one number at the
        # same moment end as one member and a 409, as one after the other do.
        if takes_a_unique_value(error, Member.__table__.c.id_number_hash):
            raise Conflict("a member with this ID number is already registered",
                           {"id_number": ["already registered"]}) from None
        raise
    return member


def visible_member_query(session: Session, caller: Caller):
    query = select(Member)
    clause = visible_members_clause(session, caller)
    return query if clause is None else query.where(clause)


def get_member(session: Session, caller: Caller, member_id: str, for_update=False) -> Member:
    """The member by its key, then its scope from the org-unit cache: one statement, where the
    scope as SQL first read the caller's whole subtree (issue 13)."""
    if not plausible_id(member_id):
        raise NotFound("member not found")
    query = select(Member).where(Member.id == member_id)
    if for_update:
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None or not member_in_scope(session, caller, member.home_org_id,
                                             member.host_org_id):
        raise NotFound("member not found")
    return member


def update_member(session: Session, caller: Caller, member_id: str, data: dict) -> Member:
    """Record fields only; home, host and status change through the flow lifecycle."""
    member = get_member(session, caller, member_id, for_update=True)
    for field, value in data.items():
        setattr(member, field, value.strip() if field == "name" else value)
    session.flush()
    return member


def reveal_id_number(session: Session, caller: Caller, member_id: str,
                     protector: id_numbers.IdProtector) -> str:
    """The full number, only for the home side (the record's owner) or a platform admin."""
    member = get_member(session, caller, member_id)
    if not (caller.role == "admin" or (caller.role == "office" and in_scope(
            session, caller, get_org(session, member.home_org_id)))):
        raise Forbidden("only the member's home org may see the full ID number")
    return protector.decrypt(member.id_number_encrypted)


def org_subtree_ids(session: Session, org_id: str) -> list[str]:
    """The ids of an org's subtree (a filter narrows the scope; it never widens it)."""
    org = get_org(session, org_id)
    if org is None:
        return []
    return list(session.scalars(select(OrgUnit.id).where(
        OrgUnit.path.startswith(org.path, autoescape=True))))


def filtered_members_query(session: Session, caller: Caller, params: dict):
    """The list endpoint's filters; the export uses the same query."""
    query = visible_member_query(session, caller)
    if params.get("home_org_id"):
        query = query.where(Member.home_org_id.in_(org_subtree_ids(session, params["home_org_id"])))
    if params.get("host_org_id"):
        query = query.where(Member.host_org_id.in_(org_subtree_ids(session, params["host_org_id"])))
    if params.get("status"):
        query = query.where(Member.status == params["status"])
    if params.get("lost_contact") is not None:
        query = query.where((Member.status == LOST) if params["lost_contact"] else (Member.status != LOST))
    if params.get("category"):
        query = query.where(Member.category == params["category"])
    if params.get("occupation"):
        query = query.where(Member.occupation == params["occupation"])
    as_of = params.get("as_of") or today_in_china()
    if params.get("age_min") is not None:
        query = query.where(Member.birth_date <= years_before(as_of, params["age_min"]))
    if params.get("age_max") is not None:
        query = query.where(Member.birth_date > years_before(as_of, params["age_max"] + 1))
    if params.get("name"):
        query = query.where(Member.name.contains(params["name"], autoescape=True))
    return query


def list_members(session: Session, caller: Caller, params: dict) -> tuple[list[Member], str | None]:
    query = filtered_members_query(session, caller, params)
    return page(session, query, Member.created_at, Member.id, params["limit"], params["cursor"])


def credit_giving(session: Session, member_id: str, amount: Decimal) -> bool:
    """Adds a gift to the member's giving total; False if the member is unknown here."""
    result = session.execute(update(Member).where(Member.id == member_id)
                             .values(giving_total=Member.giving_total + amount))
    return result.rowcount == 1


def member_view(member: Member) -> dict:
    """The member as every caller sees it: ID number and phone masked."""
    return {
        "id": member.id, "name": member.name, "id_number": member.id_number_masked,
        "phone": phones.mask(member.phone), "gender": member.gender,
        "birth_date": member.birth_date, "joined_party_on": member.joined_party_on,
        "category": member.category, "occupation": member.occupation,
        "languages": member.languages or [], "skills": member.skills or [], "notes": member.notes,
        "home_org_id": member.home_org_id, "host_org_id": member.host_org_id,
        "status": member.status, "lost_contact_on": member.lost_contact_on,
        "giving_total": member.giving_total, "created_at": as_utc(member.created_at),
    }
