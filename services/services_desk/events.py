"""The services desk's event contract: what it publishes and what it consumes.

Published (exchange `services_desk.events`, routing key = event type):
    request_submitted   v1   a centre took in a proxy request
    request_claimed     v1   a staff key claimed it and became its first owner (首问责任制)
    request_completed   v1   the request was done and has its outcome
Consumed:
    members.org_unit_registered v1 -> on_org_unit_registered (tenancy projection)
    members.member_registered   v1 -> on_member_registered   (tenancy projection)
"""
from marshmallow import Schema, fields

from services.plumbing.contract import EventContract

PRODUCER = "services_desk"


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


REQUEST_SUBMITTED = EventContract(PRODUCER, "request_submitted", 1, RequestSubmittedV1)
REQUEST_CLAIMED = EventContract(PRODUCER, "request_claimed", 1, RequestClaimedV1)
REQUEST_COMPLETED = EventContract(PRODUCER, "request_completed", 1, RequestCompletedV1)

PUBLISHES = (REQUEST_SUBMITTED, REQUEST_CLAIMED, REQUEST_COMPLETED)


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
