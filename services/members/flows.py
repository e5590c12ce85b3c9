"""The flow lifecycle (流出 → 待报到 → 已流入 / 拒收 → 转移 → 回归 → 失联 → 找到), self-reports
(主动报到) and finding lost members (组织找人). Plain Python, no nameko: the entrypoints pass data
already loaded through the schemas.

Every transition locks the member, checks the caller's side and the current state, changes the
member, appends one FlowRecord (never updated) and emits exactly one event.
"""
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.clock import today_in_china
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.pagination import as_utc, page

from . import events, id_numbers
from .models import ContactAttempt, FlowRecord, Member, SelfReport
from .orgs import HOME_KINDS, HOST_KINDS, caller_path, get_org, in_scope, plausible_id, visible_orgs_subquery
from .registry import (
    ACTIVE,
    LOST,
    PENDING,
    REFUSED,
    REGISTERED,
    RETURNED,
    get_member,
    new_member,
    parse_id_number,
    registration_record,
    visible_member_query,
)

# A self-report's own states (not a member's: a member refused by a host is REFUSED above).
REPORT_UNVERIFIED, REPORT_ACCEPTED, REPORT_REFUSED = "unverified", "accepted", "refused"
REPORT_STATUSES = (REPORT_UNVERIFIED, REPORT_ACCEPTED, REPORT_REFUSED)
CONTACT_METHODS = ("phone", "visit", "relatives", "online", "other")


@dataclass(frozen=True)
class Transition:
    allowed_from: tuple
    side: str                 # whose step it is: "home", "host" or "either"
    needs_target: bool = False
    needs_reason: bool = False
    clears_host: bool = False


TRANSITIONS = {
    "flow_out": Transition((REGISTERED, REFUSED, RETURNED), "home", needs_target=True),
    "accept": Transition((PENDING,), "host"),
    "refuse": Transition((PENDING,), "host", needs_reason=True, clears_host=True),
    "move": Transition((ACTIVE,), "host", needs_target=True),
    "return_home": Transition((ACTIVE, PENDING, LOST), "either", clears_host=True),
    "lose_contact": Transition((ACTIVE, PENDING), "either"),
    "found": Transition((LOST,), "either"),
}


def _caller_side_ok(session, caller, member, side) -> bool:
    if caller.platform_wide:
        return True
    home_ok = in_scope(session, caller, get_org(session, member.home_org_id))
    host_ok = in_scope(session, caller, get_org(session, member.host_org_id))
    return {"home": home_ok, "host": host_ok, "either": home_ok or host_ok}[side]


def _append(session, member, caller, action, from_status, from_host, reason, occurred_on):
    record = FlowRecord(
        member_id=member.id, action=action, from_status=from_status, to_status=member.status,
        from_host_org_id=from_host, to_host_org_id=member.host_org_id,
        actor_key_id=caller.key_id, actor_org_id=caller.org_id, reason=reason,
        occurred_on=occurred_on, month=occurred_on.strftime("%Y-%m"), created_at=utcnow())
    session.add(record)
    session.flush()
    return record


def transition(tx: Transaction, caller: Caller, member_id: str, action: str, data: dict) -> Member:
    if action not in TRANSITIONS:
        raise NotFound("no such flow action")
    rule = TRANSITIONS[action]
    problems = {}
    if rule.needs_target and not data.get("host_org_id"):
        problems["host_org_id"] = ["required for this step"]
    if not rule.needs_target and data.get("host_org_id"):
        problems["host_org_id"] = ["not taken by this step"]
    if rule.needs_reason and not (data.get("reason") or "").strip():
        problems["reason"] = ["a reason is required"]
    today = today_in_china()
    occurred_on = data.get("occurred_on") or today
    if occurred_on > today:
        problems["occurred_on"] = ["must not be in the future"]
    if problems:
        raise ValidationFailed("invalid input", problems)

    session = tx.session
    member = get_member(session, caller, member_id, for_update=True)
    if member.status not in rule.allowed_from:
        raise InvalidTransition(f"cannot {action} a member who is {member.status}",
                                {"status": [f"is {member.status}; {action} needs one of "
                                            f"{', '.join(rule.allowed_from)}"]})
    if not _caller_side_ok(session, caller, member, rule.side):
        raise Forbidden(f"{action} is a step for the member's {rule.side} org",
                        {"member_id": [f"only the {rule.side} side may {action}"]})
    target = None
    if rule.needs_target:
        target = get_org(session, data["host_org_id"])
        if (target is None or target.kind not in HOST_KINDS or target.closed_at is not None
                or (action == "move" and not in_scope(session, caller, target))):
            raise ValidationFailed("invalid input", {"host_org_id": ["no such host-side org unit in your scope"]})
        if target.id == member.host_org_id:
            raise ValidationFailed("invalid input", {"host_org_id": ["the member is already there"]})

    from_status, from_host = member.status, member.host_org_id
    apply_change(member, action, target.id if target else None, occurred_on)
    record = _append(session, member, caller, action, from_status, from_host,
                     data.get("reason"), occurred_on)
    tx.emit(events.member_flow(action, member, record))
    return member


def apply_change(member: Member, action: str, target_id: str | None, occurred_on: date) -> None:
    rule = TRANSITIONS[action]
    if action == "flow_out":
        member.status, member.host_org_id = PENDING, target_id
    elif action == "accept":
        member.status = ACTIVE
    elif action == "move":
        member.host_org_id = target_id
    elif action == "lose_contact":
        member.status_before_lost, member.status = member.status, LOST
        member.lost_contact_on = occurred_on
    elif action == "found":
        member.status, member.status_before_lost = member.status_before_lost or ACTIVE, None
        member.lost_contact_on = None
    elif action == "refuse":
        member.status = REFUSED
    elif action == "return_home":
        member.status, member.status_before_lost, member.lost_contact_on = RETURNED, None, None
    if rule.clears_host:
        member.host_org_id = None


def history(session: Session, caller: Caller, member_id: str) -> list[dict]:
    get_member(session, caller, member_id)
    records = session.scalars(select(FlowRecord).where(FlowRecord.member_id == member_id)
                              .order_by(FlowRecord.id))
    return [{**{c.key: getattr(r, c.key) for c in FlowRecord.__table__.columns},
             "created_at": as_utc(r.created_at)} for r in records]


# -- self-reports (主动报到) --------------------------------------------------------------------------
def create_self_report(session: Session, caller: Caller, data: dict, protector) -> SelfReport:
    number = parse_id_number(data["id_number"])
    problems = {}
    host = get_org(session, data["host_org_id"])
    if host is None or host.kind not in HOST_KINDS or not in_scope(session, caller, host):
        problems["host_org_id"] = ["no such host-side org unit in your scope"]
    home = get_org(session, data["home_org_id"])
    if home is None or home.kind not in HOME_KINDS:
        problems["home_org_id"] = ["no such home-side org unit"]
    if problems:
        raise ValidationFailed("invalid input", problems)
    report = SelfReport(
        id=str(uuid.uuid4()), host_org_id=host.id, home_org_id=home.id, name=data["name"].strip(),
        id_number_hash=protector.fingerprint(number), id_number_encrypted=protector.encrypt(number),
        id_number_masked=id_numbers.mask(number), phone=data["phone"], status=REPORT_UNVERIFIED,
        created_at=utcnow())
    session.add(report)
    session.flush()
    return report


def _visible_report(session, caller, report_id, for_update=False) -> SelfReport:
    if not plausible_id(report_id):
        raise NotFound("self-report not found")
    query = select(SelfReport).where(SelfReport.id == report_id)
    prefix = caller_path(session, caller)
    if prefix is not None:
        query = query.where(SelfReport.host_org_id.in_(visible_orgs_subquery(prefix)))
    if for_update:
        query = query.with_for_update()
    report = session.scalar(query)
    if report is None:
        raise NotFound("self-report not found")
    return report


def list_self_reports(session: Session, caller: Caller, params: dict):
    query = select(SelfReport).where(SelfReport.status == params["status"])
    prefix = caller_path(session, caller)
    if prefix is not None:
        query = query.where(SelfReport.host_org_id.in_(visible_orgs_subquery(prefix)))
    return page(session, query, SelfReport.created_at, SelfReport.id, params["limit"], params["cursor"])


def decide_self_report(tx: Transaction, caller: Caller, report_id: str, accept: bool, data: dict,
                       protector) -> SelfReport:
    """Accepting links the report to the member (registering a new one if the ID number is
    unknown) and flows the member in at the report's host org, as one lifecycle step."""
    session = tx.session
    report = _visible_report(session, caller, report_id, for_update=True)
    if report.status != REPORT_UNVERIFIED:
        raise InvalidTransition(f"the report is already {report.status}",
                                {"status": [f"is {report.status}"]})
    report.decided_by = caller.key_id
    if not accept:
        if not (data.get("reason") or "").strip():
            raise ValidationFailed("invalid input", {"reason": ["a reason is required"]})
        report.status, report.reason = REPORT_REFUSED, data["reason"]
        session.flush()
        return report
    report.status, report.reason = REPORT_ACCEPTED, data.get("reason")
    member = session.scalar(select(Member).where(Member.id_number_hash == report.id_number_hash)
                            .with_for_update())
    today = today_in_china()
    came_from = "self-report " + report.id
    if member is None:
        # The same steps and events as a home office registering the member for this host
        # (member_registered, 待报到) followed by the host's acceptance (member_flow_accepted),
        # so the home county hears of the newcomer like of any member arriving at a host.
        home = get_org(session, report.home_org_id)
        host = get_org(session, report.host_org_id)
        number = protector.decrypt(report.id_number_encrypted)
        member = new_member({"name": report.name, "phone": report.phone}, number, home, host,
                            protector, report.id_number_hash)
        session.add(member)
        session.flush()
        registered = registration_record(member, caller)
        registered.reason = came_from
        session.add(registered)
        tx.emit(events.member_registered(member))
        from_status = member.status
        apply_change(member, "accept", None, today)
        record = _append(session, member, caller, "accept", from_status, member.host_org_id,
                         came_from, today)
        tx.emit(events.member_flow("accept", member, record))
    else:
        from_status, from_host = member.status, member.host_org_id
        if member.status == LOST:
            action = "found"
        elif member.status in (ACTIVE,) and member.host_org_id != report.host_org_id:
            action = "move"
        elif member.status == ACTIVE:
            raise InvalidTransition("the member is already active here", {"status": ["is active"]})
        else:
            action = "accept"
        member.status, member.host_org_id = ACTIVE, report.host_org_id
        member.status_before_lost, member.lost_contact_on = None, None
        record = _append(session, member, caller, action, from_status, from_host,
                         came_from, today)
        tx.emit(events.member_flow(action, member, record))
    report.member_id = member.id
    session.flush()
    return report


def self_report_view(report: SelfReport) -> dict:
    return {"id": report.id, "host_org_id": report.host_org_id, "home_org_id": report.home_org_id,
            "name": report.name, "id_number": report.id_number_masked, "status": report.status,
            "reason": report.reason, "member_id": report.member_id,
            "created_at": as_utc(report.created_at)}


# -- finding members (组织找人) ---------------------------------------------------------------------
def log_contact_attempt(session: Session, caller: Caller, member_id: str, data: dict) -> ContactAttempt:
    member = get_member(session, caller, member_id)
    if member.status != LOST:
        raise InvalidTransition("contact attempts are for lost-contact members",
                                {"status": [f"is {member.status}"]})
    if data["attempted_on"] > today_in_china():
        raise ValidationFailed("invalid input", {"attempted_on": ["must not be in the future"]})
    attempt = ContactAttempt(id=str(uuid.uuid4()), member_id=member.id, org_id=caller.org_id,
                             actor_key_id=caller.key_id, attempted_on=data["attempted_on"],
                             method=data["method"], outcome=data["outcome"], created_at=utcnow())
    session.add(attempt)
    session.flush()
    return attempt


def contact_attempts(session: Session, caller: Caller, member_id: str) -> list[ContactAttempt]:
    get_member(session, caller, member_id)
    return list(session.scalars(select(ContactAttempt).where(ContactAttempt.member_id == member_id)
                                .order_by(ContactAttempt.attempted_on, ContactAttempt.created_at)))


def found_stats(session: Session, caller: Caller, params: dict) -> list[dict]:
    """Members found again, per finding org and month, among the members the caller sees."""
    visible = visible_member_query(session, caller).with_only_columns(Member.id)
    query = (select(FlowRecord.actor_org_id, FlowRecord.month, func.count())
             .where(FlowRecord.action == "found", FlowRecord.member_id.in_(visible))
             .group_by(FlowRecord.actor_org_id, FlowRecord.month)
             .order_by(FlowRecord.month, FlowRecord.actor_org_id))
    if params.get("year"):
        query = query.where(FlowRecord.month.startswith(f"{params['year']:04d}-"))
    return [{"org_id": org, "month": month, "found": count}
            for org, month, count in session.execute(query)]
