"""Schemas of the gateway's own replies (the services' schemas describe everything else)."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.plumbing.caller import ROLES
from services.plumbing.envelope import utcnow
from services.plumbing.fields import UtcDateTime


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok, or degraded when anything is down"})
    broker = fields.String(metadata={"description": "ok or unavailable"})
    services = fields.Dict(keys=fields.String(), values=fields.String(),
                           metadata={"description": "per service: ok, unavailable or timeout"})


# -- keys, staff logins, sessions, audit (answered by the gateway itself) ----------------------
ID = validate.Length(min=1, max=64)
RATE_LIMIT = r"^[1-9][0-9]{0,8}/(second|minute|hour|day)$"


class KeyCreateSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    org_id = fields.String(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "Required for office and desk_staff keys; omit for platform-wide "
                       "admin and ops keys."})
    expires_at = UtcDateTime(load_default=None, allow_none=True, metadata={
        "description": "When the key stops working; in the future (a key born expired is a "
                       "mistake). Leave out for no expiry."})
    rate_limit = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        RATE_LIMIT, error="expected <count>/<second|minute|hour|day>, e.g. 120/minute"),
        metadata={"description": "Requests per window, e.g. `120/minute`; default: the "
                                 "gateway's (`GATEWAY_RATE_LIMIT`)."})


    @validates("expires_at")
    def _in_the_future(self, value, **_kwargs):
        if value is not None and value <= utcnow():
            raise ValidationError("must be in the future")


class KeySchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    org_id = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    revoked_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    last_used_at = fields.String(allow_none=True, metadata={
        "format": "date-time", "description": "Updated at most once a minute."})
    expires_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    replaced_by = fields.String(allow_none=True, metadata={
        "description": "The key that replaced this one in a rotation."})
    rate_limit = fields.String(allow_none=True)
    active = fields.Boolean()


class KeyCreatedSchema(KeySchema):
    key = fields.String(metadata={"description": "The plain key. Shown once, never again."})


class KeyListSchema(Schema):
    items = fields.List(fields.Nested(KeySchema))


class KeyRotateSchema(Schema):
    overlap_seconds = fields.Integer(strict=True, load_default=86400,
                                     validate=validate.Range(min=0, max=30 * 86400), metadata={
        "description": "How long the old key keeps working (default one day)."})


class KeyRotatedSchema(Schema):
    old = fields.Nested(KeySchema)
    new = fields.Nested(KeyCreatedSchema)


class StaffUserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9._-]{2,63}$", error="3 to 64 of a-z, 0-9, dot, dash, underscore"))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    org_id = fields.String(required=True, validate=ID, metadata={
        "description": "The service centre the person works at."})
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=10, max=200))


class StaffUserSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    org_id = fields.String()
    role = fields.String()
    created_at = fields.String(metadata={"format": "date-time"})
    disabled_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class StaffUserListSchema(Schema):
    items = fields.List(fields.Nested(StaffUserSchema))


class SessionCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))


class SessionSchema(Schema):
    token = fields.String(metadata={"description": "Send as `Authorization: Bearer <token>` "
                                                   "until `expires_at`."})
    expires_at = fields.String(metadata={"format": "date-time"})
    user = fields.Nested(StaffUserSchema)


class AuditQuerySchema(Schema):
    org_id = fields.String(load_default=None, validate=ID)
    since = UtcDateTime(load_default=None, metadata={"description": "inclusive"})
    until = UtcDateTime(load_default=None, metadata={"description": "exclusive"})
    outcome = fields.String(load_default=None,
                            validate=validate.OneOf(("succeeded", "failed", "denied")))
    actor_id = fields.String(load_default=None, validate=ID)
    route = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                          metadata={"description": "A route as the document writes it, e.g. "
                                                   "`/api/v1/members/<member_id>`"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{1,18}$"))


class AuditExportQuerySchema(AuditQuerySchema):
    class Meta:
        exclude = ("limit", "cursor")


class AuditRecordSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.String(metadata={"format": "date-time"})
    request_id = fields.String()
    actor_kind = fields.String(metadata={"description": "key, user, session or anonymous"})
    actor_id = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    org_id = fields.String(allow_none=True)
    method = fields.String()
    route = fields.String()
    object_id = fields.String(allow_none=True)
    status = fields.Integer()
    outcome = fields.String(metadata={"description": "succeeded, failed or denied"})
    error_code = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditRecordSchema))
    next_cursor = fields.String(allow_none=True)
