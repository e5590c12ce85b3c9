"""Webhook rules (plain Python, no nameko): who receives an event, signing, the retry
schedule, the delivery log and replay.

Signature: header `X-Liudong-Signature: t=<unix seconds>,v1=<hex>` where
hex = HMAC-SHA256(endpoint secret, f"{t}." + raw body). A receiver recomputes it over the raw
body and rejects a `t` too far from its clock (see `gateway.client.verify_signature`).
"""
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from services.plumbing.errors import NotFound, ValidationFailed
from services.plumbing.envelope import utcnow
from services.plumbing.pagination import iso_utc, page

from .models import TENANCY, Attempt, Delivery, Endpoint

# The events an org may subscribe to, and which of their org ids say whom they concern: an
# endpoint receives an event when one of those orgs lies in the endpoint org's subtree.
MEMBER_FLOW_ORGS = ("home_org_id", "host_org_id", "previous_host_org_id")
EVENT_ORGS = {
    "member_flowed_out": MEMBER_FLOW_ORGS,        # a member of ours left for another city
    "member_flow_accepted": MEMBER_FLOW_ORGS,     # ... was taken in by the host side
    "member_moved": MEMBER_FLOW_ORGS,
    "member_returned": MEMBER_FLOW_ORGS,          # ... came home
    "home_task_created": ("home_org_id",),        # a desk forwarded a request to us
    "campaign_closed": ("organiser_org_id",),
}
EVENT_PRODUCERS = {"member_flowed_out": "members", "member_flow_accepted": "members",
                   "member_moved": "members", "member_returned": "members",
                   "home_task_created": "services_desk", "campaign_closed": "donations"}
SIGNATURE_HEADER = "X-Liudong-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"



# -- endpoints -------------------------------------------------------------------------------
def create_endpoint(session, caller, data: dict) -> tuple[Endpoint, str]:
    if caller.org_id is None or not TENANCY.org_path(session, caller.org_id):
        raise ValidationFailed("invalid input", {"_schema": [
            "webhooks belong to an org unit: use the org's own key"]})
    unknown = sorted(set(data["event_types"]) - set(EVENT_ORGS))
    if unknown:
        raise ValidationFailed("invalid input", {"event_types": [
            f"unknown event types: {', '.join(unknown)}"]})
    endpoint = Endpoint(id=str(uuid.uuid4()), org_id=caller.org_id, url=data["url"],
                        event_types=sorted(set(data["event_types"])),
                        secret="whsec_" + secrets.token_urlsafe(32), created_by=caller.key_id,
                        created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint, endpoint.secret


def endpoint_view(endpoint: Endpoint, secret: str | None = None) -> dict:
    view = {"id": endpoint.id, "org_id": endpoint.org_id, "url": endpoint.url,
            "event_types": list(endpoint.event_types), "created_at": iso_utc(endpoint.created_at),
            "disabled_at": iso_utc(endpoint.disabled_at)}
    if secret is not None:
        view["secret"] = secret
    return view


def visible_endpoint(session, caller, endpoint_id: str) -> Endpoint:
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None or not TENANCY.org_in_scope(session, caller, endpoint.org_id):
        raise NotFound("webhook not found")
    return endpoint


def list_endpoints(session, caller) -> list[Endpoint]:
    query = select(Endpoint).order_by(Endpoint.created_at, Endpoint.id)
    clause = TENANCY.org_column_in_scope(session, caller, Endpoint.org_id)
    if clause is not None:
        query = query.where(clause)
    return list(session.scalars(query))


def disable_endpoint(session, caller, endpoint_id: str) -> Endpoint:
    endpoint = visible_endpoint(session, caller, endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = utcnow()
    return endpoint


# -- fan-out: one delivery per event and receiving endpoint, in the handler's transaction -----
def fan_out(session, envelope: dict) -> int:
    event_type = envelope["event_type"]
    paths = [TENANCY.org_path(session, envelope["data"].get(name))
             for name in EVENT_ORGS[event_type]]
    paths = [p for p in paths if p]
    if not paths:
        return 0
    body = json.dumps({"event_id": envelope["event_id"], "event_type": event_type,
                       "version": envelope["version"], "occurred_at": envelope["occurred_at"],
                       "data": envelope["data"]}, ensure_ascii=False, sort_keys=True)
    created = 0
    now = utcnow()
    for endpoint in session.scalars(select(Endpoint).where(Endpoint.disabled_at.is_(None))):
        if event_type not in endpoint.event_types:
            continue
        prefix = TENANCY.org_path(session, endpoint.org_id)
        if not prefix or not any(path.startswith(prefix) for path in paths):
            continue
        session.add(Delivery(id=str(uuid.uuid4()), endpoint_id=endpoint.id,
                             org_id=endpoint.org_id, event_id=envelope["event_id"],
                             event_type=event_type, body=body, status="pending", attempts=0,
                             next_attempt_at=now, created_at=now))
        created += 1
    return created


# -- sending -----------------------------------------------------------------------------------
def claim_due(session, now: datetime, lease: timedelta, limit: int = 20) -> list[str]:
    """Ids of pending deliveries that are due, leased to this worker (their next attempt
    pushed past the lease) so another replica does not send them at the same time."""
    query = (select(Delivery.id).where(Delivery.status == "pending",
                                       Delivery.next_attempt_at <= _for_db(session, now))
             .order_by(Delivery.next_attempt_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids))
                        .values(next_attempt_at=now + lease))
    return ids


def _for_db(session, moment: datetime):
    if session.get_bind().dialect.name == "sqlite":
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def record_attempt(session, delivery_id: str, status_code: int | None, error: str | None,
                   duration_ms: int, now: datetime, max_attempts: int, base: float,
                   cap: float) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = (error or None) and error[:500]
    session.add(Attempt(delivery_id=delivery_id, attempted_at=now, status_code=status_code,
                        error=delivery.last_error, duration_ms=duration_ms))
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = "delivered", now
    elif delivery.attempts >= max_attempts:
        delivery.status = "failed"          # kept; an admin or the org can replay it
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, base, cap)
    return delivery


# -- the log and replay -------------------------------------------------------------------------
def delivery_view(session, delivery: Delivery, with_attempts: bool = True) -> dict:
    view = {"id": delivery.id, "webhook_id": delivery.endpoint_id, "event_id": delivery.event_id,
            "event_type": delivery.event_type, "status": delivery.status,
            "attempts": delivery.attempts, "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error, "created_at": iso_utc(delivery.created_at),
            "delivered_at": iso_utc(delivery.delivered_at),
            "next_attempt_at": iso_utc(delivery.next_attempt_at)
            if delivery.status == "pending" else None}
    if with_attempts:
        attempts = session.scalars(select(Attempt).where(Attempt.delivery_id == delivery.id)
                                   .order_by(Attempt.id))
        view["log"] = [{"at": iso_utc(a.attempted_at), "status_code": a.status_code,
                        "error": a.error, "duration_ms": a.duration_ms} for a in attempts]
    return view


def list_deliveries(session, caller, endpoint_id: str, params: dict) -> dict:
    visible_endpoint(session, caller, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if params.get("status"):
        query = query.where(Delivery.status == params["status"])
    rows, cursor = page(session, query, Delivery.created_at, Delivery.id, params["limit"],
                        params.get("cursor"))
    return {"items": [delivery_view(session, row) for row in rows], "next_cursor": cursor}


def replay(session, caller, delivery_id: str) -> Delivery:
    """Send a delivery again (delivered or failed alike), from now, with a fresh count."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    visible_endpoint(session, caller, delivery.endpoint_id)
    delivery.status, delivery.attempts = "pending", 0
    delivery.next_attempt_at = utcnow()
    return delivery


