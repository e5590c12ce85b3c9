"""Rate limit per API key (or console session): a moving window, 429 with Retry-After.

The default is `GATEWAY_RATE_LIMIT` (limits notation, default `600/minute`); a key may carry
its own (`api_keys.rate_limit`). Counters live in this process's memory (`limits`'
MemoryStorage): exact for one gateway replica. With N replicas behind a load balancer each
counts on its own, so a key gets up to N times its limit; to make the limit global, point
`GATEWAY_RATE_LIMIT_STORAGE` at a shared store `limits` understands (e.g. `redis://host:6379`)
— the code path is the same, only the storage URI changes.

Routes without a key (health, the OpenAPI document and docs, the public ledger, signing in, the
console pages before sign-in; after it, the person's own) are limited per client address
instead: `GATEWAY_PUBLIC_RATE_LIMIT` (default
`120/minute`). Signing in is also throttled per client address and username with a growing
delay (`SignInThrottle`), so guessing is slow while a stranger elsewhere cannot lock a clerk out.
"""
import math
import os
import threading
import time
from collections import OrderedDict

from limits import parse, storage, strategies

from .errors import HttpError


def client_address(request) -> str:
    """The peer's address. Behind a reverse proxy, run the gateway with the proxy's own
    address translation (e.g. werkzeug's ProxyFix) so this is the client's, not the proxy's."""
    return request.remote_addr or "unknown"


class RateLimits:
    def __init__(self, default: str | None = None, storage_uri: str | None = None,
                 public: str | None = None):
        self.default = parse(default or os.environ.get("GATEWAY_RATE_LIMIT", "600/minute"))
        self.public = parse(public or os.environ.get("GATEWAY_PUBLIC_RATE_LIMIT", "120/minute"))
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
        self._hit(self._limit(key_limit), identity, "for this key")

    def hit_public(self, address: str) -> None:
        """Count one request without a key, per client address."""
        self._hit(self.public, "address:" + address, "from this address")

    def _hit(self, item, identity: str, whose: str) -> None:
        if self.limiter.hit(item, identity):
            return
        reset_at, _remaining = self.limiter.get_window_stats(item, identity)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise HttpError(429, "rate_limited",
                        f"more than {item} requests {whose}; retry after {retry_after}s",
                        headers={"Retry-After": str(retry_after)})


class SignInThrottle:
    """Failed sign-ins per (client address, username): the first `free_failures` cost nothing,
    then each further failure doubles the wait before the next attempt from that address for
    that username (1 s, 2 s, 4 s … at most `max_delay`). A success clears the count. Only the
    address that failed waits: a clerk signing in from her own desk is never locked out by
    someone else's guesses. Kept in this process's memory, at most `max_entries` pairs (the
    oldest forgotten first); the public limit per address bounds how many pairs one address
    can make."""

    def __init__(self, free_failures: int = 5, max_delay: float = 300.0,
                 max_entries: int = 100_000, clock=time.monotonic):
        self.free_failures, self.max_delay = free_failures, max_delay
        self.max_entries, self.clock = max_entries, clock
        self._failures = OrderedDict()  # (address, username) -> (count, next allowed at)
        self._lock = threading.Lock()

    def check(self, address: str, username: str) -> None:
        """429 with Retry-After while this address must wait before trying this username."""
        with self._lock:
            _count, allowed_at = self._failures.get((address, username), (0, 0.0))
        wait = allowed_at - self.clock()
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise HttpError(429, "sign_in_throttled",
                            f"too many failed sign-ins for this username from this address; "
                            f"retry after {retry_after}s", headers={"Retry-After": str(retry_after)})

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            count, _allowed_at = self._failures.pop((address, username), (0, 0.0))
            count += 1
            delay = 0.0
            if count > self.free_failures:
                delay = min(self.max_delay, 2.0 ** (count - self.free_failures - 1))
            self._failures[(address, username)] = (count, self.clock() + delay)
            while len(self._failures) > self.max_entries:
                self._failures.popitem(last=False)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username), None)
