"""The members service's event contract: what it publishes and what it consumes.

Published (exchange `members.events`, routing key = event type):
    org_unit_registered v1   a unit joined one of the org trees (consumers keep its path for scoping)
    member_registered   v1   a member was entered in the registry
Consumed:
    donations.donation_received v1 -> on_donation_received (credits the member's giving total)
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


class MemberRegisteredV1(Schema):
    member_id = fields.String(required=True)
    name = fields.String(required=True)
    home_org_id = fields.String(required=True)
    host_org_id = fields.String(required=True, allow_none=True)
    registered_at = fields.DateTime(required=True)


ORG_UNIT_REGISTERED = EventContract(PRODUCER, "org_unit_registered", 1, OrgUnitRegisteredV1)
MEMBER_REGISTERED = EventContract(PRODUCER, "member_registered", 1, MemberRegisteredV1)

PUBLISHES = (ORG_UNIT_REGISTERED, MEMBER_REGISTERED)


def org_unit_registered(org) -> dict:
    return ORG_UNIT_REGISTERED.envelope({
        "org_id": org.id, "parent_id": org.parent_id, "kind": org.kind, "name": org.name,
        "path": org.path})


def member_registered(member) -> dict:
    return MEMBER_REGISTERED.envelope({
        "member_id": member.id, "name": member.name, "home_org_id": member.home_org_id,
        "host_org_id": member.host_org_id, "registered_at": member.created_at})
