"""Bodies and answers of the webhook routes (the gateway's OpenAPI document uses these)."""
from marshmallow import Schema, ValidationError, fields, validate

from .addresses import RefusedAddress, split_url
from .deliveries import STATUSES
from .events import EVENT_TYPES


def _webhook_url(value: str) -> None:
    """The URL's shape (scheme, no credentials, a host); where it points is checked by the
    service, on the addresses the host resolves to."""
    try:
        split_url(value)
    except RefusedAddress as exc:
        raise ValidationError(str(exc)) from None


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _webhook_url],
                        metadata={"format": "uri", "description": (
                            "Where deliveries are POSTed: http or https (https in production), "
                            "no credentials in the URL. Its host must be public: loopback, "
                            "private, link-local, CGNAT, multicast and unspecified addresses "
                            "are refused (400), here and again at every delivery after "
                            "resolving the name, unless the platform's configuration allows "
                            "that network (`WEBHOOK_ALLOWED_NETWORKS`, for on-premise "
                            "receivers).")})
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                              required=True, validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                              metadata={"description": "Any of: " + ", ".join(EVENT_TYPES) +
                                        " (payloads: the document's `webhooks` section)"})


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
    replay = fields.Integer(metadata={
        "description": "The round this attempt belongs to: 0 the first sending, n the n-th "
                       "replay"})
    status_code = fields.Integer(allow_none=True, metadata={
        "description": "The receiver's HTTP status; null when no answer came"})
    error = fields.String(allow_none=True, metadata={
        "description": "A short reason of the platform's own (never the receiver's answer "
                       "body); null when delivered"})
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.String()
    webhook_id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer(metadata={
        "description": "Every attempt ever made, over all rounds (one `log` entry each)"})
    replays = fields.Integer(metadata={"description": "How many times it was replayed"})
    replayed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    delivered_at = fields.String(allow_none=True, metadata={
        "format": "date-time", "description": "The first time a receiver answered 2xx (a "
                                              "replay delivered again shows in `log`)"})
    next_attempt_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    log = fields.List(fields.Nested(AttemptSchema), metadata={
        "description": "Every attempt, oldest first"})


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


class DeliveryListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
