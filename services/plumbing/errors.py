"""Error types that cross the RPC boundary and become HTTP errors at the gateway.

Plain exceptions (no nameko import) so that domain modules can raise them. `rpc.py` registers
them with nameko so the gateway receives the same class with its fields, not a RemoteError.
Their constructor arguments must stay JSON-serialisable: nameko rebuilds them from `args`.
"""


class ServiceError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        # `code` refines the class's code (forbidden -> not_your_request) so that a client can
        # tell two refusals of the same status apart; it travels in `args` across RPC.
        super().__init__(*((message, fields or {}) + ((code,) if code else ())))
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def __str__(self):
        return self.message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationFailed(ServiceError):
    """The request is well-formed JSON but some fields are wrong; `fields` says which and why."""
    code = "validation_failed"
    http_status = 400


class NotFound(ServiceError):
    """The object does not exist *or* is outside the caller's tenant: callers cannot tell apart."""
    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


class InvalidTransition(ServiceError):
    """The object exists but is not in a state that allows this step."""
    code = "invalid_transition"
    http_status = 409


class Unavailable(ServiceError):
    """Something the service needs (its database) is away for a moment: the request changed
    nothing and may be retried (with the same Idempotency-Key)."""
    code = "service_unavailable"
    http_status = 503


ALL_ERRORS = (ServiceError, ValidationFailed, NotFound, Conflict, Forbidden, InvalidTransition,
              Unavailable)


def fields_from_marshmallow(messages) -> dict:
    """marshmallow's messages as {field: [message, ...]}; nested fields are dotted."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat[prefix or "_schema"] = value
        else:
            flat[prefix or "_schema"] = [str(value)]

    walk("", messages)
    return flat
