"""Proxy requests (全程代办) and their ledger: submit, claim, complete, read, list within the
caller's tenant. Plain Python: the entrypoints pass a Transaction (session + emit) and data
already loaded through the schemas.

A request belongs to the centre whose key took it in, and is visible from the subtree of that
centre's org unit. Its life:  submitted --claim--> in_progress --complete--> completed.
"""
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.members import phones
from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.pagination import as_utc, page

from . import events
from .models import TENANCY, Request, RequestStep

CATEGORIES = ("social_insurance", "medical_insurance", "employment_subsidy", "pension",
              "work_injury", "maternity", "policy_consultation", "job_help", "hardship_help",
              "other")

SUBMITTED = "submitted"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
STATUSES = (SUBMITTED, IN_PROGRESS, COMPLETED)

# Names of ledger steps (request_steps.step).
STEP_SUBMITTED = "submitted"
STEP_CLAIMED = "claimed"
STEP_COMPLETED = "completed"


# -- changing requests ----------------------------------------------------------------------
def submit_request(tx: Transaction, caller: Caller, data: dict) -> Request:
    """Takes a request in at the caller's centre; `data` is a loaded RequestSubmitSchema."""
    session = tx.session
    if caller.platform_wide:
        raise Forbidden("requests are taken in by a centre; a platform-wide key belongs to none",
                        {"caller": ["needs a key of a service centre"]})
    if TENANCY.org_path(session, caller.org_id) is None:
        raise ValidationFailed("unknown centre", {
            "caller": ["your org unit is not known to the service desk (yet)"]})

    name, phone = data["requester_name"], data["requester_phone"]
    if data["requester_member_id"]:
        member_id = data["requester_member_id"]
        if not TENANCY.member_visible(session, caller, member_id):
            raise ValidationFailed("unknown member", {
                "requester_member_id": ["no such member in your scope"]})
        name = TENANCY.member(session, member_id).name

    now = utcnow()
    request = Request(
        id=str(uuid.uuid4()), centre_org_id=caller.org_id, category=data["category"],
        description=data["description"], requester_member_id=data["requester_member_id"],
        requester_name=name.strip(), requester_phone=phone, status=SUBMITTED,
        submitted_by=caller.key_id, created_at=now)
    session.add(request)
    session.flush()
    _record_step(session, request, STEP_SUBMITTED, caller, now)
    tx.emit(events.request_submitted(request))
    return request


def claim_request(tx: Transaction, caller: Caller, request_id) -> Request:
    """首问责任制: the first key to claim a submitted request owns it for good."""
    request = get_request(tx.session, caller, request_id, for_update=True)
    _require_status(request, SUBMITTED, "claim")
    now = utcnow()
    request.status = IN_PROGRESS
    request.first_owner = caller.key_id
    request.assignee = caller.key_id
    request.claimed_at = now
    _record_step(tx.session, request, STEP_CLAIMED, caller, now)
    tx.emit(events.request_claimed(request))
    return request


def complete_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Request:
    """Closes a request in progress with its outcome; `data` is a loaded RequestCompleteSchema."""
    request = get_request(tx.session, caller, request_id, for_update=True)
    _require_status(request, IN_PROGRESS, "complete")
    now = utcnow()
    request.status = COMPLETED
    request.outcome = data["outcome"]
    request.completed_at = now
    _record_step(tx.session, request, STEP_COMPLETED, caller, now, note=data["outcome"])
    tx.emit(events.request_completed(request))
    return request


def _require_status(request: Request, expected: str, action: str) -> None:
    if request.status != expected:
        raise InvalidTransition(f"cannot {action} a request that is {request.status}", {
            "status": [f"is {request.status}, must be {expected} to {action}"]})


def _record_step(session: Session, request: Request, step: str, caller: Caller, at,
                 note: str | None = None) -> None:
    session.add(RequestStep(request_id=request.id, step=step, actor_key_id=caller.key_id, at=at,
                            note=note))
    session.flush()


# -- reading requests -----------------------------------------------------------------------
def _visible(session: Session, caller: Caller, query):
    clause = TENANCY.org_column_in_scope(session, caller, Request.centre_org_id)
    return query if clause is None else query.where(clause)


def _looks_like_id(request_id) -> bool:
    # Anything else cannot name a request; answering NotFound keeps odd input away from the DB.
    return isinstance(request_id, str) and 0 < len(request_id) <= 36


def get_request(session: Session, caller: Caller, request_id, for_update: bool = False) -> Request:
    """The request if it lies in the caller's tenant; NotFound otherwise, as if it did not exist.
    `for_update` locks the row: of two concurrent claims one waits for the other's commit and
    then sees the request no longer submitted (SQLite serialises writers anyway)."""
    request = None
    if _looks_like_id(request_id):
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
    return page(session, query, Request.created_at, Request.id, query_params["limit"],
                query_params["cursor"])


def steps_of(session: Session, request: Request) -> list[RequestStep]:
    return list(session.scalars(select(RequestStep).where(RequestStep.request_id == request.id)
                                .order_by(RequestStep.id)))


# -- views ----------------------------------------------------------------------------------
def _utc_or_none(moment):
    return as_utc(moment) if moment is not None else None


def _masked_or_none(phone):
    return phones.mask(phone) if phone else None


def request_view(request: Request) -> dict:
    """The request as every caller sees it: the requester's phone masked, as the registry does."""
    return {
        "id": request.id, "centre_org_id": request.centre_org_id, "category": request.category,
        "description": request.description, "requester_member_id": request.requester_member_id,
        "requester_name": request.requester_name,
        "requester_phone": _masked_or_none(request.requester_phone),
        "status": request.status, "submitted_by": request.submitted_by,
        "first_owner": request.first_owner, "assignee": request.assignee,
        "outcome": request.outcome, "created_at": as_utc(request.created_at),
        "claimed_at": _utc_or_none(request.claimed_at),
        "completed_at": _utc_or_none(request.completed_at),
    }


def request_detail_view(session: Session, request: Request) -> dict:
    """The request with its ledger."""
    return {**request_view(request), "steps": [
        {"step": step.step, "actor_key_id": step.actor_key_id, "at": as_utc(step.at),
         "note": step.note}
        for step in steps_of(session, request)]}
