"""收受分离: tasks the desk forwards to a requester's home county. The county office sees the
tasks whose home org lies in its subtree (and nothing else of the desk), accepts one and
answers it; the answer moves the request on at the desk (`home_task_answered`)."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing import phones
from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import InvalidTransition, NotFound
from services.plumbing.ids import plausible_id
from services.plumbing.pagination import as_utc, page

from . import events, proxy_requests
from .models import TENANCY, HomeTask, Request

OPEN, ACCEPTED, ANSWERED, WITHDRAWN = "open", "accepted", "answered", "withdrawn"
TASK_STATUSES = (OPEN, ACCEPTED, ANSWERED, WITHDRAWN)
RESULTS = ("approved", "declined")


def _visible(session: Session, caller: Caller, query):
    clause = TENANCY.org_column_in_scope(session, caller, HomeTask.home_org_id)
    return query if clause is None else query.where(clause)


def get_task(session: Session, caller: Caller, task_id, for_update: bool = False) -> HomeTask:
    task = None
    if plausible_id(task_id):
        query = select(HomeTask).where(HomeTask.id == task_id)
        if for_update:
            query = query.with_for_update(of=HomeTask)
        task = session.scalar(_visible(session, caller, query))
    if task is None:
        raise NotFound("task not found")
    return task


def list_tasks(session: Session, caller: Caller, params: dict):
    query = _visible(session, caller, select(HomeTask))
    if params["status"]:
        query = query.where(HomeTask.status == params["status"])
    return page(session, query, HomeTask.created_at, HomeTask.id, params["limit"],
                params["cursor"])


def _require(task: HomeTask, expected: str, action: str) -> None:
    if task.status != expected:
        raise InvalidTransition(f"cannot {action} a task that is {task.status}", {
            "status": [f"is {task.status}, must be {expected} to {action}"]})


def accept_task(tx: Transaction, caller: Caller, task_id) -> HomeTask:
    task = get_task(tx.session, caller, task_id, for_update=True)
    _require(task, OPEN, "accept")
    task.status, task.accepted_by, task.accepted_at = ACCEPTED, caller.key_id, utcnow()
    return task


def answer_task(tx: Transaction, caller: Caller, task_id, data: dict) -> HomeTask:
    task = get_task(tx.session, caller, task_id, for_update=True)
    _require(task, ACCEPTED, "answer")
    # The request lies outside the county's tenant: the task is the county's window onto it.
    request = tx.session.scalar(select(Request).where(Request.id == task.request_id)
                                .with_for_update(of=Request))
    task.status, task.answered_by, task.answered_at = ANSWERED, caller.key_id, utcnow()
    task.result, task.result_note = data["result"], data.get("note")
    task.reference_number = data.get("reference_number")
    proxy_requests.receive_answer(tx, caller, request, task)
    tx.emit(events.home_task_answered(task))
    return task


def task_view(session: Session, task: HomeTask) -> dict:
    request = session.get(Request, task.request_id)
    return {
        "id": task.id, "request_id": task.request_id, "home_org_id": task.home_org_id,
        "status": task.status, "created_at": as_utc(task.created_at), "note": task.note,
        "category": request.category, "description": request.description,
        "requester_name": request.requester_name,
        "requester_member_id": request.requester_member_id,
        "requester_phone": phones.mask(request.requester_phone) if request.requester_phone else None,
        "accepted_by": task.accepted_by,
        "accepted_at": as_utc(task.accepted_at) if task.accepted_at else None,
        "answered_by": task.answered_by,
        "answered_at": as_utc(task.answered_at) if task.answered_at else None,
        "result": task.result, "result_note": task.result_note,
        "reference_number": task.reference_number,
    }
