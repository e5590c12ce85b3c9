"""CORS for browser-based integrators: an allow-list of origins in configuration.

`GATEWAY_CORS_ORIGINS` is a comma-separated list of exact origins (`https://portal.example.cn`);
empty (the default) allows none, and a browser page on another origin cannot read any answer.
The API authenticates with a bearer key, never a cookie, so credentials are not allowed and
`*` is not accepted. A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
by the gateway itself, without a key: 204 with the allowed method and headers for an allowed
origin and an existing route, 403 for another origin, 404/405 like any request otherwise.
"""
import os

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def configured_origins() -> frozenset:
    raw = os.environ.get("GATEWAY_CORS_ORIGINS", "")
    origins = frozenset(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    if "*" in origins:
        raise ValueError("GATEWAY_CORS_ORIGINS lists exact origins; '*' is not allowed")
    return origins


class CorsPolicy:
    def __init__(self, origins=None):
        self.origins = frozenset(origins) if origins is not None else configured_origins()

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.origins

    def response_headers(self, origin: str | None) -> dict:
        """Headers for an actual (non-preflight) answer to an allowed origin."""
        if not self.allows(origin):
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Expose-Headers": EXPOSED_HEADERS}

    def preflight_headers(self, origin: str, method: str) -> dict:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Allow-Methods": method,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE}
