"""Schemas of the gateway's own replies (the services' schemas describe everything else)."""
from marshmallow import Schema, fields

from services.members.schemas import OrgUnitSchema


class OrgUnitListSchema(Schema):
    items = fields.List(fields.Nested(OrgUnitSchema))


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok, or degraded when anything is down"})
    broker = fields.String(metadata={"description": "ok or unavailable"})
    services = fields.Dict(keys=fields.String(), values=fields.String(),
                           metadata={"description": "per service: ok, unavailable or timeout"})
