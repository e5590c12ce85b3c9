"""The members service's event contract: what it publishes and what it consumes.

Published (exchange `members.events`, routing key = event type):
    org_unit_registered  v1   a unit joined one of the org trees (consumers keep its path for scoping)
    org_unit_moved       v1   a unit got a new parent: every path starting with old_path now
                              starts with new_path instead (the whole subtree moved)
    org_unit_closed      v1   a unit was closed (it had no members and no open units left)
    member_registered    v1   a member was entered in the registry
    member_flowed_out    v1   the home org registered a flow-out to a host org (待报到)
    member_flow_accepted v1   the host org accepted the member (已流入)
    member_flow_refused  v1   the host org refused, with a reason; host_org_id is now null
    member_moved         v1   moved to another host org (host_org_id is the new one)
    member_returned      v1   returned home (回归); host_org_id is now null
    member_lost_contact  v1   lost contact (失联) on a date
    member_found         v1   found again
    notice_published     v1   a notice (家乡来信) to all mobile members under an org; the members
                              service itself consumes it to write the per-member deliveries
    member_import_requested v1 a bulk import was uploaded; the members service itself consumes
                              it to import the rows in batches (progress on the batch)
Every member_* flow event carries the member's home_org_id and host_org_id *after* the change,
so a tenancy projection only has to overwrite both columns (when flow_seq is newer).
Consumed: see the `@subscribe(producer, event_type)` entrypoints in service.py, the one list of
what this service consumes (a copy here would go stale).
"""
from marshmallow import Schema, fields

from services.plumbing.contract import EventContract

PRODUCER = "members"


class OrgUnitRegisteredV1(Schema):
    org_id = fields.String(required=True)
    parent_id = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    path = fields.String(required=True)


class OrgUnitMovedV1(Schema):
    org_id = fields.String(required=True)
    parent_id = fields.String(required=True)
    old_path = fields.String(required=True)
    new_path = fields.String(required=True)


class OrgUnitClosedV1(Schema):
    org_id = fields.String(required=True)
    closed_at = fields.DateTime(required=True)


class MemberRegisteredV1(Schema):
    member_id = fields.String(required=True)
    name = fields.String(required=True)
    home_org_id = fields.String(required=True)
    host_org_id = fields.String(required=True, allow_none=True)
    registered_at = fields.DateTime(required=True)


class MemberFlowV1(Schema):
    member_id = fields.String(required=True, metadata={"description": "The member"})
    home_org_id = fields.String(required=True, metadata={
        "description": "The member's home org (county, township or village branch)"})
    host_org_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The host org after this step; null once refused or returned home"})
    previous_host_org_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The host org before this step (null if none)"})
    status = fields.String(required=True, metadata={
        "description": "The member's status after this step: registered, pending, active, "
                       "refused, returned or lost"})
    actor_org_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The org whose key took the step (null: a platform admin)"})
    reason = fields.String(required=True, allow_none=True, metadata={
        "description": "Why, when given; `self-report <id>` when the step came from a "
                       "verified self-report (主动报到)"})
    occurred_on = fields.Date(required=True, metadata={"description": "When it happened"})
    flow_seq = fields.Integer(required=True, metadata={
        "description": "Increases with every lifecycle step of the platform: a projection "
                       "applies a step only if its flow_seq is above the last one it applied "
                       "for that member, so a retried (late) event never undoes a newer one"})


class MemberImportRequestedV1(Schema):
    batch_id = fields.String(required=True)
    total_rows = fields.Integer(required=True)


class NoticePublishedV1(Schema):
    notice_id = fields.String(required=True)
    org_id = fields.String(required=True)
    path = fields.String(required=True)
    title = fields.String(required=True)


ORG_UNIT_REGISTERED = EventContract(PRODUCER, "org_unit_registered", 1, OrgUnitRegisteredV1)
ORG_UNIT_MOVED = EventContract(PRODUCER, "org_unit_moved", 1, OrgUnitMovedV1)
ORG_UNIT_CLOSED = EventContract(PRODUCER, "org_unit_closed", 1, OrgUnitClosedV1)
MEMBER_REGISTERED = EventContract(PRODUCER, "member_registered", 1, MemberRegisteredV1)
MEMBER_FLOWED_OUT = EventContract(PRODUCER, "member_flowed_out", 1, MemberFlowV1)
MEMBER_FLOW_ACCEPTED = EventContract(PRODUCER, "member_flow_accepted", 1, MemberFlowV1)
MEMBER_FLOW_REFUSED = EventContract(PRODUCER, "member_flow_refused", 1, MemberFlowV1)
MEMBER_MOVED = EventContract(PRODUCER, "member_moved", 1, MemberFlowV1)
MEMBER_RETURNED = EventContract(PRODUCER, "member_returned", 1, MemberFlowV1)
MEMBER_LOST_CONTACT = EventContract(PRODUCER, "member_lost_contact", 1, MemberFlowV1)
MEMBER_FOUND = EventContract(PRODUCER, "member_found", 1, MemberFlowV1)
NOTICE_PUBLISHED = EventContract(PRODUCER, "notice_published", 1, NoticePublishedV1)
MEMBER_IMPORT_REQUESTED = EventContract(PRODUCER, "member_import_requested", 1,
                                        MemberImportRequestedV1)

FLOW_CONTRACTS = {
    "flow_out": MEMBER_FLOWED_OUT, "accept": MEMBER_FLOW_ACCEPTED, "refuse": MEMBER_FLOW_REFUSED,
    "move": MEMBER_MOVED, "return_home": MEMBER_RETURNED, "lose_contact": MEMBER_LOST_CONTACT,
    "found": MEMBER_FOUND,
}

PUBLISHES = (ORG_UNIT_REGISTERED, ORG_UNIT_MOVED, ORG_UNIT_CLOSED, MEMBER_REGISTERED,
             *FLOW_CONTRACTS.values(), NOTICE_PUBLISHED, MEMBER_IMPORT_REQUESTED)


def org_unit_registered(org) -> dict:
    return ORG_UNIT_REGISTERED.envelope({
        "org_id": org.id, "parent_id": org.parent_id, "kind": org.kind, "name": org.name,
        "path": org.path})


def org_unit_moved(org, old_path: str) -> dict:
    return ORG_UNIT_MOVED.envelope({"org_id": org.id, "parent_id": org.parent_id,
                                    "old_path": old_path, "new_path": org.path})


def org_unit_closed(org) -> dict:
    return ORG_UNIT_CLOSED.envelope({"org_id": org.id, "closed_at": org.closed_at})


def member_registered(member) -> dict:
    return members_registered([{"id": member.id, "name": member.name, "home_org_id": member.home_org_id,
                                "host_org_id": member.host_org_id, "created_at": member.created_at}])[0]


def members_registered(members: list[dict]) -> list[dict]:
    """One member_registered per member, from their column values (a bulk import)."""
    return MEMBER_REGISTERED.envelopes([{
        "member_id": m["id"], "name": m["name"], "home_org_id": m["home_org_id"],
        "host_org_id": m["host_org_id"], "registered_at": m["created_at"]} for m in members])


def member_flow(action: str, member, record) -> dict:
    return FLOW_CONTRACTS[action].envelope({
        "member_id": member.id, "home_org_id": member.home_org_id,
        "host_org_id": member.host_org_id, "previous_host_org_id": record.from_host_org_id,
        "status": member.status, "actor_org_id": record.actor_org_id, "reason": record.reason,
        "occurred_on": record.occurred_on, "flow_seq": record.id})


def notice_published(notice, path: str) -> dict:
    return NOTICE_PUBLISHED.envelope({"notice_id": notice.id, "org_id": notice.org_id,
                                      "path": path, "title": notice.title})


def member_import_requested(batch) -> dict:
    return MEMBER_IMPORT_REQUESTED.envelope({"batch_id": batch.id, "total_rows": batch.total_rows})
