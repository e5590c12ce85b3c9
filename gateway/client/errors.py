"""What the client raises for an error answer: one class per status family, all `ApiError`.

    try:
        api.get_member(member_id)
    except NotFound: ...             # 404: no such member, or not yours
    except ApiError as exc: ...      # anything else: exc.status, exc.code, exc.fields
"""
from __future__ import annotations


class ApiError(Exception):
    """An error answer: `status`, `code` (stable), `message`, `fields` (per-field messages),
    `request_id` (quote it when asking for help), `retry_after` (seconds, 0 if not said)."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 request_id: str | None = None, retry_after: float = 0):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.request_id = request_id
        self.retry_after = retry_after


class ValidationError(ApiError):
    """400 (bad input: see `fields`) or 413 (body too large)."""


class AuthenticationError(ApiError):
    """401: no key, or an unknown, expired or revoked one."""


class PermissionDenied(ApiError):
    """403: the key's role may not call this route."""


class NotFound(ApiError):
    """404: no such object in your tenant (the same answer as for another tenant's)."""


class Conflict(ApiError):
    """409: conflicts with the current state (duplicate, wrong status, a reused
    Idempotency-Key with another body, a disabled webhook)."""


class RateLimited(ApiError):
    """429: over the key's rate limit; wait `retry_after` seconds."""


class Unavailable(ApiError):
    """502/503: a service or the broker is down; retry later (`retry_after`)."""


class OutcomeUnknown(Unavailable):
    """504: a service did not answer in time; the call may or may not have happened. Retry
    only with the same Idempotency-Key (the client does so for reads and idempotent writes)."""


class ServerError(ApiError):
    """500 and other 5xx answers."""


_BY_STATUS = {400: ValidationError, 413: ValidationError, 422: ValidationError,
              401: AuthenticationError, 403: PermissionDenied, 404: NotFound, 409: Conflict,
              429: RateLimited, 502: Unavailable, 503: Unavailable, 504: OutcomeUnknown}


def error_class(status: int) -> type[ApiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError
