"""The services desk's event contract: what it publishes and what it consumes.

Published (exchange `services_desk.events`, routing key = event type):
    request_submitted   v1   a centre took in a proxy request
    request_claimed     v1   a staff key claimed it and became its first owner (首问责任制)
    request_completed   v1   the request was done and has its outcome
    request_step_recorded v1 every step of the ledger (accepted, materials_missing, supplemented,
                             started, forwarded, answer_received, assigned, extended, rejected,
                             withdrawn, reopened, ... and the three above)
    home_task_created   v1   收受分离: a request was forwarded to the home county
    home_task_answered  v1   the home county returned its result (approved/declined)
    request_deadline_approaching v1  the set share of the time limit is used (once per request)
    request_overdue     v1   the deadline passed (or a late extension): once per request
What it consumes is declared where it is handled: the `@subscribe` entrypoints of the service
class (`service.py`), here only those of the tenancy projection it mixes in
(`plumbing.entrypoints.TenancyProjection`).
"""
from marshmallow import Schema, fields

from services.plumbing.contract import EventContract

PRODUCER = "services_desk"
# The category codes requests (and their events) carry, with the names people read: part of the
# contract, so that a consumer (the gateway's console) names them without desk code.
CATEGORY_NAMES = {
    "social_insurance": "社保", "medical_insurance": "医保", "employment_subsidy": "就业/创业补贴",
    "pension": "养老", "work_injury": "工伤", "maternity": "生育", "policy_consultation": "政策咨询",
    "job_help": "就业帮助", "hardship_help": "困难救助", "other": "其他",
}


class RequestSubmittedV1(Schema):
    request_id = fields.String(required=True)
    centre_org_id = fields.String(required=True)
    category = fields.String(required=True)
    requester_member_id = fields.String(required=True, allow_none=True)
    submitted_at = fields.DateTime(required=True)


class RequestClaimedV1(Schema):
    request_id = fields.String(required=True)
    centre_org_id = fields.String(required=True)
    first_owner = fields.String(required=True)
    claimed_at = fields.DateTime(required=True)


class RequestCompletedV1(Schema):
    request_id = fields.String(required=True)
    centre_org_id = fields.String(required=True)
    first_owner = fields.String(required=True)
    completed_at = fields.DateTime(required=True)


class RequestStepRecordedV1(Schema):
    request_id = fields.String(required=True)
    centre_org_id = fields.String(required=True)
    step = fields.String(required=True)
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True)
    actor_key_id = fields.String(required=True)
    reason = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)


class HomeTaskCreatedV1(Schema):
    task_id = fields.String(required=True, metadata={
        "description": "The task for the home county (`GET /api/v1/home-tasks/{task_id}`)"})
    request_id = fields.String(required=True, metadata={
        "description": "The proxy request at the host-city service centre"})
    home_org_id = fields.String(required=True, metadata={
        "description": "The home county (or township) that must act"})
    category = fields.String(required=True, metadata={
        "description": "The request's category, e.g. social_insurance"})
    created_at = fields.DateTime(required=True)


class HomeTaskAnsweredV1(Schema):
    task_id = fields.String(required=True)
    request_id = fields.String(required=True)
    home_org_id = fields.String(required=True)
    result = fields.String(required=True)
    reference_number = fields.String(required=True, allow_none=True)
    answered_at = fields.DateTime(required=True)


class RequestDeadlineV1(Schema):
    request_id = fields.String(required=True)
    centre_org_id = fields.String(required=True)
    category = fields.String(required=True)
    first_owner = fields.String(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)
    deadline = fields.Date(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


REQUEST_SUBMITTED = EventContract(PRODUCER, "request_submitted", 1, RequestSubmittedV1)
REQUEST_CLAIMED = EventContract(PRODUCER, "request_claimed", 1, RequestClaimedV1)
REQUEST_COMPLETED = EventContract(PRODUCER, "request_completed", 1, RequestCompletedV1)

REQUEST_STEP_RECORDED = EventContract(PRODUCER, "request_step_recorded", 1, RequestStepRecordedV1)
HOME_TASK_CREATED = EventContract(PRODUCER, "home_task_created", 1, HomeTaskCreatedV1)
HOME_TASK_ANSWERED = EventContract(PRODUCER, "home_task_answered", 1, HomeTaskAnsweredV1)
REQUEST_DEADLINE_APPROACHING = EventContract(PRODUCER, "request_deadline_approaching", 1,
                                             RequestDeadlineV1)
REQUEST_OVERDUE = EventContract(PRODUCER, "request_overdue", 1, RequestDeadlineV1)

PUBLISHES = (REQUEST_SUBMITTED, REQUEST_CLAIMED, REQUEST_COMPLETED, REQUEST_STEP_RECORDED,
             HOME_TASK_CREATED, HOME_TASK_ANSWERED, REQUEST_DEADLINE_APPROACHING, REQUEST_OVERDUE)


def request_submitted(request) -> dict:
    return REQUEST_SUBMITTED.envelope({
        "request_id": request.id, "centre_org_id": request.centre_org_id,
        "category": request.category, "requester_member_id": request.requester_member_id,
        "submitted_at": request.created_at})


def request_claimed(request) -> dict:
    return REQUEST_CLAIMED.envelope({
        "request_id": request.id, "centre_org_id": request.centre_org_id,
        "first_owner": request.first_owner, "claimed_at": request.claimed_at})


def request_completed(request) -> dict:
    return REQUEST_COMPLETED.envelope({
        "request_id": request.id, "centre_org_id": request.centre_org_id,
        "first_owner": request.first_owner, "completed_at": request.completed_at})


def request_step_recorded(request, step: str, from_status, actor_key_id: str, reason, at) -> dict:
    return REQUEST_STEP_RECORDED.envelope({
        "request_id": request.id, "centre_org_id": request.centre_org_id, "step": step,
        "from_status": from_status, "to_status": request.status, "actor_key_id": actor_key_id,
        "reason": reason, "at": at})


def home_task_created(task, request) -> dict:
    return HOME_TASK_CREATED.envelope({
        "task_id": task.id, "request_id": request.id, "home_org_id": task.home_org_id,
        "category": request.category, "created_at": task.created_at})


def home_task_answered(task) -> dict:
    return HOME_TASK_ANSWERED.envelope({
        "task_id": task.id, "request_id": task.request_id, "home_org_id": task.home_org_id,
        "result": task.result, "reference_number": task.reference_number,
        "answered_at": task.answered_at})


def _deadline_payload(request) -> dict:
    return {"request_id": request.id, "centre_org_id": request.centre_org_id,
            "category": request.category, "first_owner": request.first_owner,
            "assignee": request.assignee, "deadline": request.deadline,
            "reason": request.overdue_reason}


def request_deadline_approaching(request) -> dict:
    return REQUEST_DEADLINE_APPROACHING.envelope({**_deadline_payload(request), "reason": None})


def request_overdue(request) -> dict:
    return REQUEST_OVERDUE.envelope(_deadline_payload(request))
