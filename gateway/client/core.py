"""The client's transport: one call with retries, errors raised by status family, pagination,
and what goes on the wire (standard library only)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .errors import ApiError, error_class

RETRYABLE_BEFORE_PROCESSING = (429, 503)
OUTCOME_UNKNOWN = (502, 504)


class Unset:
    """The default of every optional argument: left out of the request (None is sent as null)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


class BaseClient:
    def __init__(self, base_url: str, key: str | None = None, *, timeout: float = 30.0,
                 retries: int = 4, backoff: float = 0.5, max_backoff: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.last_request_id: str | None = None

    # -- transport -----------------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict | None = None,
                query: dict | None = None, idempotency_key: str | None = None) -> Any:
        """One API call with retries; returns the decoded JSON answer (text for text/*, bytes
        for spreadsheets, None for 204). Raises an `ApiError` subclass for an error answer."""
        safe_to_repeat = method in ("GET", "HEAD") or idempotency_key is not None
        url = self.base_url + path
        if query:
            pairs = {k: _wire(v) for k, v in query.items() if v is not None and v is not UNSET}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        data = json.dumps(body, default=_wire).encode() if body is not None else None
        headers = {"Accept": "application/json", "X-Request-Id": uuid.uuid4().hex}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        while True:
            attempt += 1
            wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            try:
                return self._send(method, url, data, headers)
            except ApiError as exc:
                retry = (exc.status in RETRYABLE_BEFORE_PROCESSING
                         or (exc.status in OUTCOME_UNKNOWN and safe_to_repeat))
                if not retry or attempt > self.retries:
                    raise
                wait = max(wait, exc.retry_after)
            except urllib.error.URLError as exc:
                refused = isinstance(exc.reason, ConnectionRefusedError)
                if not (refused or safe_to_repeat) or attempt > self.retries:
                    raise
            except (ConnectionError, TimeoutError):
                if not safe_to_repeat or attempt > self.retries:
                    raise
            time.sleep(wait)

    def _send(self, method, url, data, headers):
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                self.last_request_id = response.headers.get("X-Request-Id")
                raw = response.read()
                kind = response.headers.get("Content-Type") or ""
                if not raw:
                    return None
                if "json" in kind:
                    return json.loads(raw)
                if kind.startswith("text/"):
                    return raw.decode()
                return raw
        except urllib.error.HTTPError as exc:
            self.last_request_id = exc.headers.get("X-Request-Id")
            try:
                error = json.loads(exc.read() or b"{}").get("error", {})
            except (ValueError, AttributeError):
                error = {}
            retry_after = exc.headers.get("Retry-After")
            raise error_class(exc.code)(
                exc.code, error.get("code", "http_error"), error.get("message", exc.reason),
                error.get("fields"), self.last_request_id,
                float(retry_after) if retry_after and retry_after.isdigit() else 0) from None

    def paginate(self, path: str, **query) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page (stable under inserts)."""
        cursor = None
        while True:
            page = self.request("GET", path, query=dict(query, cursor=cursor))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # -- what the generated operations call ----------------------------------------------------
    def _operation(self, method: str, path: str, body: dict | None = None,
                   query: dict | None = None, idempotency_key: str | None = None) -> Any:
        return self.request(method, path, body, query, idempotency_key)

    @staticmethod
    def _body(payload: dict | None, fields: dict) -> dict:
        """`payload=` as given, with every argument that was passed on top of it."""
        merged = dict(payload or {})
        merged.update({k: v for k, v in fields.items() if v is not UNSET})
        return merged

    @staticmethod
    def _new_idempotency_key() -> str:
        return uuid.uuid4().hex


def seg(value: str) -> str:
    """One path segment, escaped."""
    return urllib.parse.quote(str(value), safe="")


def _wire(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (str, int)):
        return value
    raise TypeError(f"cannot send {type(value).__name__}")
