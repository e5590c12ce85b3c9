"""Proxy requests (全程代办) and their ledger: intake, every step of their life, reading and
listing within the caller's tenant. Plain Python: the entrypoints pass a Transaction (session +
emit) and data already loaded through the schemas.

A request belongs to the centre whose key took it in, and is visible from the subtree of that
centre's org unit. Its life (TRANSITIONS below is the whole rule):

    submitted --accept--> accepted --start--> in_progress --complete--> completed
    submitted --claim (accept and start)--> in_progress
    completed --reopen (within REOPEN_WINDOW_DAYS, clock restarts from zero)--> in_progress
    accepted | in_progress --materials missing (一次性告知, clock stops)--> materials_missing
    materials_missing --supplement (clock restarts from zero)--> in_progress
    accepted | in_progress --forward (收受分离)--> forwarded --home county answers--> answer_received
    answer_received --complete--> completed
    any open status but forwarded --reject (with reason)--> rejected
    any open status --withdraw (the requester)--> withdrawn
Every step is a ledger row (actor, time, reason) and an event. The first key that accepts or
claims is the 首问 owner for good; the assignee changes with hand-offs. Who at the centre may
take each step is ownership.py's rule.
"""
import uuid
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.plumbing import phones
from services.plumbing.caller import Caller
from services.plumbing.clock import china_date
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.ids import plausible_id
from services.plumbing.pagination import as_utc, page

from . import categories, deadlines, events, notices, ownership, staff
from .models import TENANCY, HomeTask, Request, RequestStep, ServiceDay

SUBMITTED = "submitted"
ACCEPTED = "accepted"
MATERIALS_MISSING = "materials_missing"
IN_PROGRESS = "in_progress"
FORWARDED = "forwarded"
ANSWER_RECEIVED = "answer_received"
COMPLETED = "completed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
STATUSES = (SUBMITTED, ACCEPTED, MATERIALS_MISSING, IN_PROGRESS, FORWARDED, ANSWER_RECEIVED,
            COMPLETED, REJECTED, WITHDRAWN)
OPEN = (SUBMITTED, ACCEPTED, MATERIALS_MISSING, IN_PROGRESS, FORWARDED, ANSWER_RECEIVED)
CHANNELS = ("walk_in", "phone", "service_day", "system")
LANGUAGE_MISMATCH = "language_mismatch"
REOPEN_WINDOW_DAYS = 30

# action: (statuses it may start from, status it leads to (None: unchanged), ledger step)
TRANSITIONS = {
    "accept": ((SUBMITTED,), ACCEPTED, "accepted"),
    "claim": ((SUBMITTED,), IN_PROGRESS, "claimed"),
    "start": ((ACCEPTED,), IN_PROGRESS, "started"),
    "request_materials": ((ACCEPTED, IN_PROGRESS), MATERIALS_MISSING, "materials_missing"),
    "supplement": ((MATERIALS_MISSING,), IN_PROGRESS, "supplemented"),
    "forward": ((ACCEPTED, IN_PROGRESS), FORWARDED, "forwarded"),
    "receive_answer": ((FORWARDED,), ANSWER_RECEIVED, "answer_received"),
    "complete": ((IN_PROGRESS, ANSWER_RECEIVED), COMPLETED, "completed"),
    "reject": ((SUBMITTED, ACCEPTED, MATERIALS_MISSING, IN_PROGRESS, ANSWER_RECEIVED), REJECTED,
               "rejected"),
    "withdraw": (OPEN, WITHDRAWN, "withdrawn"),
    "reopen": ((COMPLETED,), IN_PROGRESS, "reopened"),
    "assign": ((ACCEPTED, MATERIALS_MISSING, IN_PROGRESS, FORWARDED, ANSWER_RECEIVED), None,
               "assigned"),
    "extend": ((SUBMITTED, ACCEPTED, IN_PROGRESS, FORWARDED, ANSWER_RECEIVED), None, "extended"),
}

# Names of ledger steps (request_steps.step) that have an event of their own.
STEP_SUBMITTED = "submitted"
STEP_CLAIMED = "claimed"
STEP_COMPLETED = "completed"


# -- changing requests ----------------------------------------------------------------------
def submit_request(tx: Transaction, caller: Caller, data: dict,
                   warning_share: float = deadlines.DEFAULT_WARNING_SHARE) -> Request:
    """Takes a request in at the caller's centre; `data` is a loaded RequestSubmitSchema."""
    session = tx.session
    if caller.platform_wide:
        raise Forbidden("requests are taken in by a centre; a platform-wide key belongs to none",
                        {"caller": ["needs a key of a service centre"]})
    if TENANCY.org_path(session, caller.org_id) is None:
        raise ValidationFailed("unknown centre", {
            "caller": ["your org unit is not known to the service desk (yet)"]})

    name, phone = data["requester_name"], data["requester_phone"]
    home_org_id = data.get("requester_home_org_id")
    if data["requester_member_id"]:
        member_id = data["requester_member_id"]
        if not TENANCY.member_visible(session, caller, member_id):
            raise ValidationFailed("unknown member", {
                "requester_member_id": ["no such member in your scope"]})
        member = TENANCY.member(session, member_id)
        name, home_org_id = member.name, member.home_org_id
    elif home_org_id is not None and TENANCY.org_path(session, home_org_id) is None:
        raise ValidationFailed("unknown home county", {
            "requester_home_org_id": ["no such org unit"]})

    channel = data.get("channel") or ("system" if caller.role == "office" else "walk_in")
    service_day_id = data.get("service_day_id")
    now = utcnow()
    received_on = china_date(now)
    if service_day_id is not None:
        day = session.get(ServiceDay, service_day_id) if plausible_id(service_day_id) else None
        if day is None or not TENANCY.org_in_scope(session, caller, day.centre_org_id):
            raise ValidationFailed("unknown service day", {
                "service_day_id": ["no such service day in your scope"]})
        channel = "service_day"
        # 逢场式服务: a booking is received at the service day, not when it was booked.
        received_on = day.day

    rule = categories.rule_for(session, data["category"], home_org_id)
    request = Request(
        id=str(uuid.uuid4()), centre_org_id=caller.org_id, category=data["category"],
        description=data["description"], requester_member_id=data["requester_member_id"],
        requester_name=name.strip(), requester_phone=phone, status=SUBMITTED,
        submitted_by=caller.key_id, created_at=now, requester_home_org_id=home_org_id,
        language=data.get("language") or "zh", channel=channel,
        time_limit_days=rule["time_limit_days"], home_must_act=rule["home_must_act"],
        materials_required=rule["materials"], materials_missing=None, materials_notified=False,
        extended_days=0, calendar_estimated=False, service_day_id=service_day_id)
    # Deadline: the category's limit in working days counted from the day after receipt.
    deadlines.start_clock(session, request, received_on, warning_share)
    # The request as built (nothing is filled in by the database), its ledger's first step and
    # its event: one round trip, no ORM flush (issue 13).
    tx.write_and_emit([(Request.__table__, {key: getattr(request, key) for key in REQUEST_COLUMNS}),
                       (RequestStep.__table__, _step_row(request, STEP_SUBMITTED, caller, now))],
                      events.request_submitted(request))
    return request


REQUEST_COLUMNS = tuple(column.key for column in Request.__table__.columns)


def _require_allowed(request: Request, action: str) -> None:
    allowed = TRANSITIONS[action][0]
    if request.status not in allowed:
        verb = ownership.verb(action)
        raise InvalidTransition(f"cannot {verb} a request that is {request.status}", {
            "status": [f"is {request.status}, must be {' or '.join(allowed)} to {verb} it"]})


def _acting_on(tx: Transaction, caller: Caller, request_id, action: str) -> Request:
    """The request, locked, once the caller may take `action` on it (首问责任制)."""
    request = get_request(tx.session, caller, request_id, for_update=True)
    ownership.require_may_act(tx.session, caller, request, action)
    return request


def _transition(tx: Transaction, caller: Caller, request: Request, action: str,
                reason: str | None = None, now=None, actor_key_id: str | None = None):
    """Moves the request along an allowed transition, records the ledger step and its event."""
    _require_allowed(request, action)
    _allowed, to_status, step = TRANSITIONS[action]
    now = now or utcnow()
    from_status = request.status
    if to_status is not None:
        request.status = to_status
    actor = actor_key_id or caller.key_id
    _record_step(tx.session, request, step, caller, now, note=reason, actor_key_id=actor)
    if step == STEP_CLAIMED:
        tx.emit(events.request_claimed(request))
    elif step == STEP_COMPLETED:
        tx.emit(events.request_completed(request))
    else:
        tx.emit(events.request_step_recorded(request, step, from_status, actor, reason, now))
    return now


def _take(tx: Transaction, caller: Caller, request: Request, action: str) -> Request:
    """accept/claim: language routing, then 首问责任制 (the first taker owns it for good)."""
    holder = ownership.holder_of(request)
    if request.status != SUBMITTED and holder is not None:
        name = ownership.display_name(tx.session, holder)
        raise InvalidTransition(f"cannot {action} this request: {name} holds it "
                                f"({request.status})", {
                                    "status": [f"is {request.status}, must be submitted to "
                                               f"{action} it"],
                                    "assignee": [f"held by {name}"]})
    _require_allowed(request, action)
    _route_by_language(tx.session, request, caller.key_id, "caller")
    now = utcnow()
    request.first_owner = request.first_owner or caller.key_id
    request.claimed_at = request.claimed_at or now
    request.assignee = caller.key_id
    _transition(tx, caller, request, action, now=now)
    if action == "accept":
        tx.emit(events.request_claimed(request))
    notices.send(tx.session, request, "accepted", now)
    return request


def _route_by_language(session: Session, request: Request, key_id: str, field: str) -> None:
    """A request in another language than Chinese goes to the centre's staff who speak it, as
    long as the centre has any."""
    if request.language == staff.CHINESE:
        return
    speakers = staff.speakers_at(session, request.centre_org_id, request.language)
    if speakers and key_id not in speakers:
        raise Forbidden(f"this request goes to staff who speak {request.language}", {
            field: [f"does not speak {request.language}; ask one of the centre's speakers"]},
            code=LANGUAGE_MISMATCH)


def claim_request(tx: Transaction, caller: Caller, request_id) -> Request:
    """首问责任制: the first key to claim a submitted request owns it for good; claiming takes
    the request in (受理) and starts the work."""
    return _take(tx, caller, get_request(tx.session, caller, request_id, for_update=True), "claim")


def accept_request(tx: Transaction, caller: Caller, request_id) -> Request:
    """受理 without starting (e.g. to check the materials first); the acceptor owns it."""
    return _take(tx, caller, get_request(tx.session, caller, request_id, for_update=True), "accept")


def start_request(tx: Transaction, caller: Caller, request_id) -> Request:
    request = _acting_on(tx, caller, request_id, "start")
    _transition(tx, caller, request, "start")
    request.assignee = request.assignee or caller.key_id
    return request


def request_materials(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    """一次性告知: every missing item at once, once per request; the clock stops."""
    request = _acting_on(tx, caller, request_id, "request_materials")
    if request.materials_notified and request.status in TRANSITIONS["request_materials"][0]:
        raise InvalidTransition("一次性告知: the missing materials were already listed once", {
            "missing": ["all missing items must be listed in the one notice already sent"]})
    unknown = [item for item in data["missing"] if item not in request.materials_required]
    if unknown:
        raise ValidationFailed("not on the category's checklist", {"missing": [
            f"not on the checklist ({', '.join(request.materials_required) or 'empty'}): "
            f"{', '.join(unknown)}"]})
    missing = list(dict.fromkeys(data["missing"]))
    now = _transition(tx, caller, request, "request_materials", reason="、".join(missing))
    request.materials_missing = missing
    request.materials_notified = True
    deadlines.stop_clock(request)
    notices.send(tx.session, request, "materials_missing", now, missing=missing)
    return request


def supplement_materials(tx: Transaction, caller: Caller, request_id, data: dict,
                         warning_share: float = deadlines.DEFAULT_WARNING_SHARE) -> Request:
    """The supplement arrived: the clock restarts from zero on today's date."""
    request = _acting_on(tx, caller, request_id, "supplement")
    now = _transition(tx, caller, request, "supplement", reason=data.get("note"))
    request.materials_missing = []
    request.warned_at = None
    deadlines.start_clock(tx.session, request, china_date(now), warning_share)
    return request


def forward_request(tx: Transaction, caller: Caller, request_id, data: dict) -> HomeTask:
    """收受分离: hands the home county's part to the requester's home county office."""
    request = _acting_on(tx, caller, request_id, "forward")
    if not request.requester_home_org_id:
        raise ValidationFailed("the requester's home county is not known", {
            "requester_home_org_id": ["the request names no home county to forward to"]})
    now = _transition(tx, caller, request, "forward", reason=data.get("note"))
    task = HomeTask(id=str(uuid.uuid4()), request_id=request.id,
                    home_org_id=request.requester_home_org_id, status="open", created_at=now,
                    forwarded_by=caller.key_id, note=data.get("note"))
    tx.session.add(task)
    tx.session.flush()
    tx.emit(events.home_task_created(task, request))
    notices.send(tx.session, request, "forwarded", now, home=_org_name(tx.session, task.home_org_id))
    return task


def receive_answer(tx: Transaction, caller: Caller, request: Request, task: HomeTask) -> None:
    """The home county answered: the request leaves `forwarded` and the desk goes on."""
    _transition(tx, caller, request, "receive_answer", now=task.answered_at,
                reason=f"{task.result}: {task.result_note or ''}".strip(": "))


def complete_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    """Closes a request in progress with its outcome; `data` is a loaded RequestCompleteSchema."""
    request = _acting_on(tx, caller, request_id, "complete")
    if request.home_must_act and request.status in TRANSITIONS["complete"][0]:
        answered = tx.session.scalar(select(HomeTask.id).where(
            HomeTask.request_id == request.id, HomeTask.status == "answered").limit(1))
        if answered is None:
            raise InvalidTransition("the home county must act on this category first (收受分离)", {
                "status": ["forward the request and wait for the home county's answer"]})
    request.completed_at = utcnow()
    request.outcome = data["outcome"]
    now = _transition(tx, caller, request, "complete", reason=data["outcome"],
                      now=request.completed_at)
    request.ended_at = now
    notices.send(tx.session, request, "completed", now, outcome=data["outcome"])
    return request


def reject_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    request = _acting_on(tx, caller, request_id, "reject")
    now = _transition(tx, caller, request, "reject", reason=data["reason"])
    request.ended_at = now
    request.outcome = data["reason"]
    notices.send(tx.session, request, "rejected", now, reason=data["reason"])
    return request


def withdraw_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    """The requester withdrew (told the desk, which records it)."""
    request = _acting_on(tx, caller, request_id, "withdraw")
    now = _transition(tx, caller, request, "withdraw", reason=data["reason"])
    request.ended_at = now
    for task in tx.session.scalars(select(HomeTask).where(
            HomeTask.request_id == request.id, HomeTask.status.in_(("open", "accepted")))):
        task.status = "withdrawn"
    return request


def reopen_request(tx: Transaction, caller: Caller, request_id, data: dict,
                   warning_share: float = deadlines.DEFAULT_WARNING_SHARE) -> Request:
    """Within REOPEN_WINDOW_DAYS of completion; the clock starts again from zero."""
    request = _acting_on(tx, caller, request_id, "reopen")
    now = utcnow()
    if request.status == COMPLETED and now - as_utc(request.completed_at) > timedelta(
            days=REOPEN_WINDOW_DAYS):
        raise InvalidTransition("the reopening window has closed", {
            "status": [f"completed more than {REOPEN_WINDOW_DAYS} days ago"]})
    _transition(tx, caller, request, "reopen", reason=data["reason"], now=now)
    request.completed_at = None
    request.ended_at = None
    request.outcome = None
    request.warned_at = None
    deadlines.start_clock(tx.session, request, china_date(now), warning_share)
    return request


def assign_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    """Hands the work to another staff member of the centre; the 首问 owner stays."""
    request = _acting_on(tx, caller, request_id, "assign")
    member = staff.staff_member(tx.session, data["assignee"])
    if member is None or member.centre_org_id != request.centre_org_id:
        raise ValidationFailed("not a staff member of the request's centre", {
            "assignee": ["no such staff member at this centre"]})
    _route_by_language(tx.session, request, member.key_id, "assignee")
    _transition(tx, caller, request, "assign",
                reason=f"{request.assignee} → {member.key_id}: {data['reason']}")
    request.assignee = member.key_id
    return request


def extend_deadline(tx: Transaction, caller: Caller, request_id, data: dict,
                    warning_share: float = deadlines.DEFAULT_WARNING_SHARE) -> Request:
    """An extension: approved by a lead of the centre (who calls this), once per request, with
    a notice to the requester. Asked after the deadline it is granted but the request counts
    as overdue (request_overdue, reason extension_after_deadline)."""
    request = _acting_on(tx, caller, request_id, "extend")
    if not staff.is_lead_of(tx.session, caller, request.centre_org_id):
        raise Forbidden("an extension needs the approval of a lead of the centre", {
            "caller": ["you are not a lead of this request's centre"]})
    if request.extended_days and request.status in TRANSITIONS["extend"][0]:
        raise InvalidTransition("the deadline was already extended once", {
            "extra_working_days": ["a request can be extended once"]})
    now = utcnow()
    late = deadlines.is_past_deadline(request, china_date(now))
    _transition(tx, caller, request, "extend", now=now,
                reason=f"+{data['extra_working_days']}: {data['reason']}")
    deadlines.extend(tx.session, request, data["extra_working_days"], warning_share)
    request.warned_at = None
    if late:
        deadlines.flag_overdue(tx, request.id, "extension_after_deadline", now)
    notices.send(tx.session, request, "extended", now, days=data["extra_working_days"],
                 reason=data["reason"])
    return request


STEP_DEADLINE_RECOUNTED = "deadline_recounted"


def follow_calendar(tx: Transaction, caller: Caller, year: int,
                    warning_share: float = deadlines.DEFAULT_WARNING_SHARE) -> int:
    """A year's official schedule was entered or changed: every open request whose running
    clock counts days of that year is counted again. A change is a ledger step (and its event);
    the requester is told when the deadline moved. Returns how many requests changed."""
    session, now = tx.session, utcnow()
    calendar = deadlines.calendar_of(session)
    affected = session.scalars(
        select(Request).where(Request.status.in_(OPEN), Request.deadline.is_not(None),
                              Request.deadline >= date(year, 1, 1),
                              Request.clock_started_on <= date(year, 12, 31))
        .order_by(Request.id).with_for_update(of=Request)).all()
    changed = 0
    for request in affected:
        before = (request.deadline, request.warn_on, request.calendar_estimated)
        deadlines.recount(request, calendar, warning_share)
        if (request.deadline, request.warn_on, request.calendar_estimated) == before:
            continue
        changed += 1
        if request.warned_at is not None and request.warn_on > china_date(request.warned_at):
            request.warned_at = None  # warned too early for the new count: warn again in time
        note = (f"calendar {year}: deadline {before[0].isoformat()} → "
                f"{request.deadline.isoformat()}"
                + ("" if request.calendar_estimated else ", no longer estimated"))
        _record_step(session, request, STEP_DEADLINE_RECOUNTED, caller, now, note=note)
        tx.emit(events.request_step_recorded(request, STEP_DEADLINE_RECOUNTED, request.status,
                                             caller.key_id, note, now))
        if request.deadline != before[0]:
            notices.send(session, request, "deadline_changed", now,
                         previous=before[0].isoformat())
    return changed


def _org_name(session: Session, org_id: str) -> str:
    table = TENANCY.tables.org_units
    return session.scalar(select(table.c.name).where(table.c.org_id == org_id)) or org_id


def _record_step(session: Session, request: Request, step: str, caller: Caller, at,
                 note: str | None = None, actor_key_id: str | None = None) -> None:
    session.add(RequestStep(**_step_row(request, step, caller, at, note, actor_key_id)))
    session.flush()


def _step_row(request: Request, step: str, caller: Caller, at, note: str | None = None,
              actor_key_id: str | None = None) -> dict:
    """A step of the request's ledger, by the caller unless another key acted."""
    return {"request_id": request.id, "step": step, "actor_key_id": actor_key_id or caller.key_id,
            "at": at, "note": note}


# -- reading requests -----------------------------------------------------------------------
def _visible(session: Session, caller: Caller, query):
    clause = TENANCY.org_column_in_scope(session, caller, Request.centre_org_id)
    return query if clause is None else query.where(clause)


def get_request(session: Session, caller: Caller, request_id, for_update: bool = False) -> Request:
    """The request if it lies in the caller's tenant; NotFound otherwise, as if it did not exist.
    `for_update` locks the row: of two concurrent claims one waits for the other's commit and
    then sees the request no longer submitted (SQLite serialises writers anyway)."""
    request = None
    if plausible_id(request_id):
        query = select(Request).where(Request.id == request_id)
        if for_update:
            query = query.with_for_update(of=Request)
        request = session.scalar(_visible(session, caller, query))
    if request is None:
        raise NotFound("request not found")
    return request


def list_requests(session: Session, caller: Caller,
                  query_params: dict) -> tuple[list[Request], str | None]:
    """One page of the caller's tenant, oldest first; `query_params` is a loaded
    RequestListQuerySchema."""
    query = _visible(session, caller, select(Request))
    if query_params["status"]:
        query = query.where(Request.status == query_params["status"])
    if query_params.get("assignee"):
        query = query.where(Request.assignee == query_params["assignee"])
    if query_params.get("first_owner"):
        query = query.where(Request.first_owner == query_params["first_owner"])
    if query_params.get("mine"):
        # "Mine": what the caller works on now and what it took first (首问), handed on or not.
        query = query.where(or_(Request.assignee == caller.key_id,
                                Request.first_owner == caller.key_id))
    if query_params.get("overdue") is not None:
        flag = Request.overdue_notified_at
        query = query.where(flag.is_not(None) if query_params["overdue"] else flag.is_(None))
    return page(session, query, Request.created_at, Request.id, query_params["limit"],
                query_params["cursor"])


def queue_for(session: Session, caller: Caller, limit: int) -> list[Request]:
    """What the caller may take now: submitted requests of its scope that language routing lets
    it claim, those in a language it speaks (other than Chinese) first, then oldest first."""
    me = staff.staff_member(session, caller.key_id)
    spoken = set(me.languages) if me else {staff.CHINESE}
    rows = session.scalars(_visible(session, caller, select(Request))
                           .where(Request.status == SUBMITTED)
                           .order_by(Request.created_at, Request.id)).all()
    claimable = []
    for request in rows:
        if request.language != staff.CHINESE and request.language not in spoken:
            if staff.speakers_at(session, request.centre_org_id, request.language):
                continue
        claimable.append(request)
    claimable.sort(key=lambda r: (0 if r.language != staff.CHINESE and r.language in spoken else 1))
    return claimable[:limit]


def steps_of(session: Session, request: Request) -> list[RequestStep]:
    return list(session.scalars(select(RequestStep).where(RequestStep.request_id == request.id)
                                .order_by(RequestStep.id)))


# -- views ----------------------------------------------------------------------------------
def _utc_or_none(moment):
    return as_utc(moment) if moment is not None else None


def _masked_or_none(phone):
    return phones.mask(phone) if phone else None


def request_view(request: Request) -> dict:
    """The request as every caller sees it: the requester's phone masked, as the registry does.
    The 首问 owner and the current assignee are always shown apart."""
    return {
        "id": request.id, "centre_org_id": request.centre_org_id, "category": request.category,
        "description": request.description, "requester_member_id": request.requester_member_id,
        "requester_name": request.requester_name,
        "requester_phone": _masked_or_none(request.requester_phone),
        "requester_home_org_id": request.requester_home_org_id,
        "language": request.language, "channel": request.channel,
        "service_day_id": request.service_day_id,
        "status": request.status, "submitted_by": request.submitted_by,
        "first_owner": request.first_owner, "assignee": request.assignee,
        "outcome": request.outcome, "created_at": as_utc(request.created_at),
        "claimed_at": _utc_or_none(request.claimed_at),
        "completed_at": _utc_or_none(request.completed_at),
        "time_limit_days": request.time_limit_days, "extended_days": request.extended_days,
        "home_must_act": request.home_must_act,
        "materials_required": list(request.materials_required or []),
        "materials_missing": list(request.materials_missing or []),
        "clock_started_on": request.clock_started_on, "deadline": request.deadline,
        "clock_stopped": request.status == MATERIALS_MISSING,
        "calendar_estimated": request.calendar_estimated,
        "overdue": request.overdue_notified_at is not None,
        "overdue_reason": request.overdue_reason,
    }


def request_detail_view(session: Session, request: Request) -> dict:
    """The request with its ledger, its notices and its home-county tasks."""
    tasks = session.scalars(select(HomeTask).where(HomeTask.request_id == request.id)
                            .order_by(HomeTask.created_at)).all()
    return {**request_view(request), "steps": [
        {"step": step.step, "actor_key_id": step.actor_key_id, "at": as_utc(step.at),
         "note": step.note}
        for step in steps_of(session, request)],
        "notices": [notices.notice_view(n) for n in notices.notices_of(session, request.id)],
        "home_tasks": [{"id": t.id, "home_org_id": t.home_org_id, "status": t.status,
                        "result": t.result, "result_note": t.result_note,
                        "reference_number": t.reference_number} for t in tasks]}
