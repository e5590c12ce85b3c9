"""Rate limit per API key (or console session): a moving window, 429 with Retry-After.

The default is `GATEWAY_RATE_LIMIT` (limits notation, default `600/minute`); a key may carry
its own (`api_keys.rate_limit`). Counters live in this process's memory (`limits`'
MemoryStorage): exact for one gateway replica. With N replicas behind a load balancer each
counts on its own, so a key gets up to N times its limit; to make the limit global, point
`GATEWAY_RATE_LIMIT_STORAGE` at a shared store `limits` understands (e.g. `redis://host:6379`)
— the code path is the same, only the storage URI changes.
"""
import math
import time

from limits import parse, storage, strategies


from .errors import HttpError


class RateLimits:
    def __init__(self, default: str | None = None, storage_uri: str | None = None):
        import os
        self.default = parse(default or os.environ.get("GATEWAY_RATE_LIMIT", "600/minute"))
        uri = storage_uri or os.environ.get("GATEWAY_RATE_LIMIT_STORAGE", "memory://")
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))
        self._parsed = {}

    def _limit(self, key_limit: str | None):
        if not key_limit:
            return self.default
        if key_limit not in self._parsed:
            self._parsed[key_limit] = parse(key_limit)
        return self._parsed[key_limit]

    def hit(self, identity: str, key_limit: str | None = None) -> None:
        """Count one request; 429 with Retry-After (whole seconds) when over the limit."""
        item = self._limit(key_limit)
        if self.limiter.hit(item, identity):
            return
        reset_at, _remaining = self.limiter.get_window_stats(item, identity)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise HttpError(429, "rate_limited",
                        f"more than {item} requests for this key; retry after {retry_after}s",
                        headers={"Retry-After": str(retry_after)})
