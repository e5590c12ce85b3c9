"""The Python client of the platform's HTTP API, for county offices' systems (standard library
only; installable on its own: `pip install ./gateway/client`, then `import liudong_client`).

    from gateway.client import Client, NotFound, Conflict
    api = Client("https://liudong.example.cn", key="ld_…")
    for member in api.iter_list_members(status="active"):     # follows next_cursor for you
        ...
    gift = api.record_donation(campaign_id, "3000.00", member_id=m["id"])   # safe to retry
    try:
        api.replay_webhook_delivery(delivery_id)
    except Conflict:                                           # the webhook is disabled
        ...

Every operation of the OpenAPI document is a method named after its operationId (generated:
`python -m gateway.client.generate`). Errors are `ApiError` subclasses by status family:
`ValidationError` (400, 413), `AuthenticationError` (401), `PermissionDenied` (403),
`NotFound` (404), `Conflict` (409), `RateLimited` (429), `Unavailable` (502, 503),
`OutcomeUnknown` (504, a subclass of `Unavailable`), `ServerError` (other 5xx).

Retries: a call that may not have reached the service (connection refused, 429, 503) is
retried with backoff, honouring `Retry-After`. A call whose outcome is unknown (504, a dropped
connection after sending) is retried only when it is safe: reads, and writes that carry an
`Idempotency-Key` — the client makes one per logical call and sends the same one on every
retry, so the platform records a gift or a batch once. Other writes raise for you to decide.

Money is `decimal.Decimal` or a string in, a string out (never a float).
"""
from typing import TypedDict

from .client import Client
from .core import UNSET
from .errors import (
    ApiError,
    AuthenticationError,
    Conflict,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unavailable,
    ValidationError,
    error_class,
)
from .signatures import verify_signature

__all__ = ["Client", "ApiError", "ValidationError", "AuthenticationError", "PermissionDenied",
           "NotFound", "Conflict", "RateLimited", "Unavailable", "OutcomeUnknown",
           "ServerError", "error_class", "Page", "UNSET", "verify_signature"]


class Page(TypedDict):
    items: list[dict]
    next_cursor: str | None
