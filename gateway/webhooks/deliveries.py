"""Webhook rules (plain Python, no nameko): endpoints, who receives an event, signing, the retry
schedule, the delivery log and replay. The entrypoints load bodies through the schemas and pass
plain values; the HTTP POST itself is in `sending`, the address rules in `addresses`.

Signature: header `X-Liudong-Signature: t=<unix seconds>,v1=<hex>` where
hex = HMAC-SHA256(endpoint secret, f"{t}." + raw body). A receiver recomputes it over the raw
body and rejects a `t` too far from its clock (see `gateway.client.verify_signature`).

History: a delivery counts every attempt it ever made (`attempts`, one log entry each); a
replay starts a new round (`replays`, and each log entry says its round) with a fresh retry
budget, and never rewrites what happened before; `delivered_at` is the first delivery.
"""
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.plumbing.db import as_stored, is_postgresql
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, NotFound, ValidationFailed
from services.plumbing.pagination import iso_utc, page

from . import events, sending
from .addresses import AddressPolicy, RefusedAddress
from .models import TENANCY, Attempt, Delivery, Endpoint
from .sending import USER_AGENT, Outcome, Outgoing

SIGNATURE_HEADER = "X-Liudong-Signature"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
DISABLED_REASON = "the webhook was disabled before this was sent"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12          # per round (the first sending, then each replay)
    base_seconds: float = 5.0
    max_seconds: float = 3600.0

    @classmethod
    def from_config(cls, config) -> "RetryPolicy":
        return cls(int(config.get("WEBHOOK_MAX_ATTEMPTS", cls.max_attempts)),
                   float(config.get("WEBHOOK_RETRY_BASE_SECONDS", cls.base_seconds)),
                   float(config.get("WEBHOOK_RETRY_MAX_SECONDS", cls.max_seconds)))

    def backoff(self, attempts_in_round: int) -> timedelta:
        return timedelta(seconds=min(self.max_seconds,
                                     self.base_seconds * 2 ** max(0, attempts_in_round - 1)))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


# -- endpoints -------------------------------------------------------------------------------
def create_endpoint(session, caller, url: str, event_types: list, policy: AddressPolicy
                    ) -> Endpoint:
    if caller.org_id is None or not TENANCY.org_path(session, caller.org_id):
        raise ValidationFailed("invalid input", {"_schema": [
            "webhooks belong to an org unit: use the org's own key"]})
    try:
        policy.check_url(url)
    except RefusedAddress as exc:
        raise ValidationFailed("invalid input", {"url": [str(exc)]}) from None
    endpoint = Endpoint(id=str(uuid.uuid4()), org_id=caller.org_id, url=url,
                        event_types=sorted(set(event_types)),
                        secret="whsec_" + secrets.token_urlsafe(32), created_by=caller.key_id,
                        created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoint_view(endpoint: Endpoint, with_secret: bool = False) -> dict:
    view = {"id": endpoint.id, "org_id": endpoint.org_id, "url": endpoint.url,
            "event_types": list(endpoint.event_types), "created_at": iso_utc(endpoint.created_at),
            "disabled_at": iso_utc(endpoint.disabled_at)}
    if with_secret:
        view["secret"] = endpoint.secret
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
    """Nothing is sent to a disabled endpoint again: what was still waiting fails, saying why."""
    endpoint = visible_endpoint(session, caller, endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = utcnow()
        session.execute(update(Delivery).where(Delivery.endpoint_id == endpoint.id,
                                               Delivery.status == PENDING)
                        .values(status=FAILED, last_error=DISABLED_REASON))
    return endpoint


# -- fan-out: one delivery per event and receiving endpoint, in the handler's transaction -----
def fan_out(session, event_id: str, event_type: str, version: int, occurred_at: str,
            data: dict) -> int:
    paths = [TENANCY.org_path(session, org_id)
             for org_id in events.concerned_orgs(event_type, data)]
    paths = [p for p in paths if p]
    if not paths:
        return 0
    body = json.dumps({"event_id": event_id, "event_type": event_type, "version": version,
                       "occurred_at": occurred_at, "data": data},
                      ensure_ascii=False, sort_keys=True)
    created = 0
    now = utcnow()
    for endpoint in session.scalars(select(Endpoint).where(Endpoint.disabled_at.is_(None))):
        if event_type not in endpoint.event_types:
            continue
        prefix = TENANCY.org_path(session, endpoint.org_id)
        if not prefix or not any(path.startswith(prefix) for path in paths):
            continue
        session.add(Delivery(id=str(uuid.uuid4()), endpoint_id=endpoint.id,
                             org_id=endpoint.org_id, event_id=event_id, event_type=event_type,
                             body=body, status=PENDING, attempts=0, replays=0,
                             attempts_at_replay=0, next_attempt_at=now, created_at=now))
        created += 1
    return created


# -- sending -----------------------------------------------------------------------------------
def claim_due(session, now: datetime, lease: timedelta, limit: int = 20) -> list[str]:
    """Ids of pending deliveries to enabled endpoints that are due, leased to this worker
    (their next attempt pushed past the lease) so another replica does not send them at the
    same time."""
    enabled = select(Endpoint.id).where(Endpoint.disabled_at.is_(None))
    query = (select(Delivery.id).where(Delivery.status == PENDING,
                                       Delivery.next_attempt_at <= as_stored(session, now),
                                       Delivery.endpoint_id.in_(enabled))
             .order_by(Delivery.next_attempt_at).limit(limit))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids))
                        .values(next_attempt_at=now + lease))
    return ids


def outgoing(session, delivery_id: str, timestamp: int) -> Outgoing | None:
    """The signed request for a claimed delivery, or None when it must not be sent (its
    endpoint was disabled meanwhile, or a replay already finished it)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != PENDING:
        return None
    endpoint = session.get(Endpoint, delivery.endpoint_id)
    if endpoint.disabled_at is not None:
        delivery.status, delivery.last_error = FAILED, DISABLED_REASON
        return None
    body = delivery.body.encode()
    return Outgoing(delivery.id, endpoint.url, body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        "X-Liudong-Event-Type": delivery.event_type,
        "X-Liudong-Event-Id": delivery.event_id,
        "X-Liudong-Delivery-Id": delivery.id,
        "User-Agent": USER_AGENT})


def deliver(db, delivery_id: str, policy: AddressPolicy, retry: RetryPolicy,
            timeout: float) -> Outcome | None:
    """One attempt at a claimed delivery, in three steps so that no database transaction stays
    open during the HTTP call: read and sign, POST, record. None when it was not sent."""
    with db.transaction() as tx:
        request = outgoing(tx.session, delivery_id, int(time.time()))
    if request is None:
        return None
    outcome = sending.post(request, policy, timeout)
    with db.transaction() as tx:
        record_attempt(tx.session, delivery_id, outcome, utcnow(), retry)
    return outcome


def record_attempt(session, delivery_id: str, outcome: Outcome, now: datetime,
                   retry: RetryPolicy) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.reason and outcome.reason[:500]
    session.add(Attempt(delivery_id=delivery_id, attempted_at=now,
                        status_code=outcome.status_code, error=delivery.last_error,
                        duration_ms=outcome.duration_ms, replay=delivery.replays))
    in_round = delivery.attempts - delivery.attempts_at_replay
    if outcome.delivered:
        delivery.status = DELIVERED
        delivery.delivered_at = delivery.delivered_at or now
    elif in_round >= retry.max_attempts:
        delivery.status = FAILED          # kept; the org or an admin can replay it
    else:
        delivery.next_attempt_at = now + retry.backoff(in_round)
    return delivery


# -- the log and replay -------------------------------------------------------------------------
def delivery_view(session, delivery: Delivery) -> dict:
    attempts = session.scalars(select(Attempt).where(Attempt.delivery_id == delivery.id)
                               .order_by(Attempt.id))
    return {"id": delivery.id, "webhook_id": delivery.endpoint_id,
            "event_id": delivery.event_id, "event_type": delivery.event_type,
            "status": delivery.status, "attempts": delivery.attempts,
            "replays": delivery.replays, "replayed_at": iso_utc(delivery.replayed_at),
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
            "created_at": iso_utc(delivery.created_at),
            "delivered_at": iso_utc(delivery.delivered_at),
            "next_attempt_at": iso_utc(delivery.next_attempt_at)
            if delivery.status == PENDING else None,
            "log": [{"at": iso_utc(a.attempted_at), "replay": a.replay,
                     "status_code": a.status_code, "error": a.error,
                     "duration_ms": a.duration_ms} for a in attempts]}


def list_deliveries(session, caller, endpoint_id: str, limit: int, cursor: str | None,
                    status: str | None) -> dict:
    visible_endpoint(session, caller, endpoint_id)
    query = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(Delivery.status == status)
    rows, next_cursor = page(session, query, Delivery.created_at, Delivery.id, limit, cursor)
    return {"items": [delivery_view(session, row) for row in rows], "next_cursor": next_cursor}


def replay(session, caller, delivery_id: str) -> Delivery:
    """Send a delivery again (delivered or failed alike), from now, as a new round with a
    fresh retry budget; never to a disabled endpoint (409: nothing is sent)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    endpoint = visible_endpoint(session, caller, delivery.endpoint_id)
    if endpoint.disabled_at is not None:
        raise Conflict("the webhook is disabled: nothing is sent to it",
                       {"webhook_id": [f"disabled at {iso_utc(endpoint.disabled_at)}"]})
    now = utcnow()
    delivery.status, delivery.next_attempt_at = PENDING, now
    delivery.replays += 1
    delivery.attempts_at_replay, delivery.replayed_at = delivery.attempts, now
    return delivery
