"""Bodies and answers of the webhook routes (the gateway's OpenAPI document uses these)."""
from marshmallow import Schema, fields, validate

from .deliveries import EVENT_ORGS

EVENT_TYPES = sorted(EVENT_ORGS)


class WebhookCreateSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000), metadata={
                         "description": "Where deliveries are POSTed (https in production)."})
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                              required=True, validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                              metadata={"description": "Any of: " + ", ".join(EVENT_TYPES)})


class WebhookSchema(Schema):
    id = fields.String()
    org_id = fields.String(metadata={"description": "The key's org: events inside its subtree "
                                                    "are sent, nothing else."})
    url = fields.String()
    event_types = fields.List(fields.String())
    created_at = fields.String(metadata={"format": "date-time"})
    disabled_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={
        "description": "Shown once. Verify `X-Liudong-Signature: t=<unix>,v1=<hex>`: hex = "
                       "HMAC-SHA256(secret, t + '.' + raw body)."})


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))


class AttemptSchema(Schema):
    at = fields.String(metadata={"format": "date-time"})
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.String()
    webhook_id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    delivered_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    next_attempt_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    log = fields.List(fields.Nested(AttemptSchema))


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


class DeliveryListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None,
                           validate=validate.OneOf(("pending", "delivered", "failed")))
