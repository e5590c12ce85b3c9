"""A small Python client for county offices' systems (standard library only).

    from gateway.client import Client, ApiError
    api = Client("https://liudong.example.cn", key="ld_…")
    for member in api.members(status="accepted"):          # follows next_cursor for you
        ...
    gift = api.record_donation(campaign_id, "3000.00", member_id=m["id"])   # safe to retry

Retries: a call that may not have reached the service (connection refused, 429, 503) is
retried with backoff, honouring `Retry-After`. A call whose outcome is unknown (504, a dropped
connection after sending) is retried only when it is safe: reads, and writes that carry an
`Idempotency-Key` — the client makes one per logical call and sends the same one on every
retry, so the platform records the gift once. Other writes raise `ApiError` for you to decide.

Money is `decimal.Decimal` or a string in, a string out (never a float).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal
from typing import Any, Iterator, TypedDict

__all__ = ["Client", "ApiError", "Page", "verify_signature"]

RETRYABLE_BEFORE_PROCESSING = (429, 503)
OUTCOME_UNKNOWN = (502, 504)


class ApiError(Exception):
    """An error answer: `status`, `code` (stable), `message`, `fields` (per-field messages)."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 request_id: str | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.request_id = request_id


class Page(TypedDict):
    items: list[dict]
    next_cursor: str | None


class Client:
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
        """One API call with retries; returns the decoded JSON answer (None for 204)."""
        safe_to_repeat = method in ("GET", "HEAD") or idempotency_key is not None
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: _wire(v) for k, v in query.items() if v is not None})
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
                wait = max(wait, getattr(exc, "retry_after", 0) or 0)
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
                if not raw:
                    return None
                if "json" not in (response.headers.get("Content-Type") or ""):
                    return raw.decode()
                return json.loads(raw)
        except urllib.error.HTTPError as exc:
            self.last_request_id = exc.headers.get("X-Request-Id")
            try:
                error = json.loads(exc.read() or b"{}").get("error", {})
            except ValueError:
                error = {}
            api_error = ApiError(exc.code, error.get("code", "http_error"),
                                 error.get("message", exc.reason), error.get("fields"),
                                 self.last_request_id)
            retry_after = exc.headers.get("Retry-After")
            api_error.retry_after = float(retry_after) if retry_after and \
                retry_after.isdigit() else 0
            raise api_error from None

    def paginate(self, path: str, **query) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page (stable under inserts)."""
        cursor = None
        while True:
            page = self.request("GET", path, query=dict(query, cursor=cursor))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # -- org units and members -----------------------------------------------------------------
    def health(self) -> dict:
        return self.request("GET", "/api/v1/health")

    def org_units(self) -> list[dict]:
        return self.request("GET", "/api/v1/org-units")["items"]

    def org_unit(self, org_id: str) -> dict:
        return self.request("GET", f"/api/v1/org-units/{_seg(org_id)}")

    def create_org_unit(self, kind: str, name: str, parent_id: str | None = None,
                        **extra) -> dict:
        return self.request("POST", "/api/v1/org-units",
                            dict(extra, kind=kind, name=name, parent_id=parent_id))

    def register_member(self, name: str, id_number: str, phone: str, home_org_id: str,
                        host_org_id: str | None = None, **extra) -> dict:
        body = dict(extra, name=name, id_number=id_number, phone=phone,
                    home_org_id=home_org_id)
        if host_org_id is not None:
            body["host_org_id"] = host_org_id
        return self.request("POST", "/api/v1/members", body)

    def member(self, member_id: str) -> dict:
        return self.request("GET", f"/api/v1/members/{_seg(member_id)}")

    def members(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.paginate("/api/v1/members", limit=page_size, **filters)

    # -- the services desk ---------------------------------------------------------------------
    def submit_request(self, category: str, description: str, **requester) -> dict:
        return self.request("POST", "/api/v1/requests",
                            dict(requester, category=category, description=description))

    def proxy_request(self, request_id: str) -> dict:
        return self.request("GET", f"/api/v1/requests/{_seg(request_id)}")

    def requests(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.paginate("/api/v1/requests", limit=page_size, **filters)

    def claim_request(self, request_id: str) -> dict:
        return self.request("POST", f"/api/v1/requests/{_seg(request_id)}/claim", {})

    def complete_request(self, request_id: str, outcome: str) -> dict:
        return self.request("POST", f"/api/v1/requests/{_seg(request_id)}/complete",
                            {"outcome": outcome})

    # -- campaigns -----------------------------------------------------------------------------
    def create_campaign(self, title: str, purpose: str, opens_on: str, closes_on: str,
                        goal: Decimal | str | None = None, **extra) -> dict:
        body = dict(extra, title=title, purpose=purpose, opens_on=opens_on, closes_on=closes_on)
        if goal is not None:
            body["goal"] = goal
        return self.request("POST", "/api/v1/campaigns", body)

    def campaign(self, campaign_id: str) -> dict:
        return self.request("GET", f"/api/v1/campaigns/{_seg(campaign_id)}")

    def campaigns(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.paginate("/api/v1/campaigns", limit=page_size, **filters)

    def record_donation(self, campaign_id: str, amount: Decimal | str,
                        member_id: str | None = None, donor_name: str | None = None,
                        idempotency_key: str | None = None, **extra) -> dict:
        """Record a gift once, however many retries it takes (pass your own key to make the
        call safe across restarts of your program too)."""
        body = dict(extra, amount=amount)
        if member_id is not None:
            body["member_id"] = member_id
        if donor_name is not None:
            body["donor_name"] = donor_name
        return self.request("POST", f"/api/v1/campaigns/{_seg(campaign_id)}/donations", body,
                            idempotency_key=idempotency_key or uuid.uuid4().hex)

    # -- webhooks (see /api/v1/docs) -------------------------------------------------------------
    def create_webhook(self, url: str, event_types: list[str]) -> dict:
        return self.request("POST", "/api/v1/webhooks", {"url": url, "event_types": event_types})

    def webhooks(self) -> list[dict]:
        return self.request("GET", "/api/v1/webhooks")["items"]

    def webhook_deliveries(self, webhook_id: str, page_size: int = 100) -> Iterator[dict]:
        return self.paginate(f"/api/v1/webhooks/{_seg(webhook_id)}/deliveries",
                             limit=page_size)


def _seg(value: str) -> str:
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


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300,
                     now: float | None = None) -> bool:
    """For a webhook receiver: is `X-Liudong-Signature` right for this raw body and recent?"""
    import hashlib
    import hmac
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        presented = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, presented)
