"""The webhooks service: subscribes to the events county offices may receive, writes one
delivery per receiving endpoint in the handler's transaction (so a receiver that is down loses
nothing), and sends due deliveries on a timer, signed, with backoff. Thin entrypoints; the
rules are in `deliveries`.

Config: WEBHOOK_POLL_SECONDS (1), WEBHOOK_TIMEOUT_SECONDS (10), WEBHOOK_MAX_ATTEMPTS (12),
WEBHOOK_RETRY_BASE_SECONDS (5), WEBHOOK_RETRY_MAX_SECONDS (3600): with the defaults a receiver
may be away for about four hours before a delivery is marked failed (still replayable).
"""
import time
from datetime import timedelta

import requests
from nameko.dependency_providers import Config

from services.plumbing.entrypoints import HealthCheck, TenancyProjection
from services.plumbing.envelope import utcnow
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.subscriber import subscribe
from services.plumbing.validation import load
from services.plumbing.timer import configured_timer

from . import deliveries
from .models import PLUMBING, TENANCY, Base, Delivery, Endpoint
from .schemas import DeliveryListQuerySchema, WebhookCreateSchema

SEND_BATCH = 5  # deliveries one sender claims at a time


class WebhooksService(HealthCheck, TenancyProjection):
    name = "webhooks"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()
    tenancy = TENANCY

    # -- events to forward (method names are permanent: they name queues). Named forward_*, apart
    # from the tenancy mixin's on_* handlers of the same events, which keep the projection.
    def _fan_out(self, event):
        envelope = {"event_id": event.event_id, "event_type": event.event_type,
                    "version": event.version, "occurred_at": event.occurred_at,
                    "data": event.data}
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                deliveries.fan_out(tx.session, envelope)

    @subscribe("members", "member_flowed_out")
    def forward_member_flowed_out(self, event):
        self._fan_out(event)

    @subscribe("members", "member_flow_accepted")
    def forward_member_flow_accepted(self, event):
        self._fan_out(event)

    @subscribe("members", "member_moved")
    def forward_member_moved(self, event):
        self._fan_out(event)

    @subscribe("members", "member_returned")
    def forward_member_returned(self, event):
        self._fan_out(event)

    @subscribe("services_desk", "home_task_created")
    def forward_home_task_created(self, event):
        self._fan_out(event)

    @subscribe("donations", "campaign_closed")
    def forward_campaign_closed(self, event):
        self._fan_out(event)

    # -- sending -----------------------------------------------------------------------------------
    @configured_timer(interval=1.0, setting="WEBHOOK_POLL_SECONDS")
    def send_due(self):
        timeout = float(self.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
        # The lease must outlast the whole batch, sent one after another, or another replica
        # would send its tail again (receivers still deduplicate on X-Liudong-Event-Id).
        batch = SEND_BATCH
        with self.db.transaction() as tx:
            due = deliveries.claim_due(tx.session, utcnow(),
                                       timedelta(seconds=batch * timeout + 30), limit=batch)
        for delivery_id in due:
            self._send(delivery_id, timeout)
        return len(due)

    def _send(self, delivery_id, timeout):
        with self.db.read() as session:
            delivery = session.get(Delivery, delivery_id)
            endpoint = session.get(Endpoint, delivery.endpoint_id)
            body, url, secret = delivery.body.encode(), endpoint.url, endpoint.secret
            event_type, event_id = delivery.event_type, delivery.event_id
        headers = {"Content-Type": "application/json",
                   deliveries.SIGNATURE_HEADER: deliveries.sign(secret, int(time.time()), body),
                   "X-Liudong-Event-Type": event_type,
                   "X-Liudong-Event-Id": event_id,
                   "X-Liudong-Delivery-Id": delivery_id,
                   "User-Agent": "liudong-webhooks/1"}
        started = time.perf_counter()
        status_code, error = None, None
        try:
            response = requests.post(url, data=body, headers=headers, timeout=timeout,
                                     allow_redirects=False)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = response.text[:200]
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self.db.transaction() as tx:
            deliveries.record_attempt(
                tx.session, delivery_id, status_code, error,
                int((time.perf_counter() - started) * 1000), utcnow(),
                int(self.config.get("WEBHOOK_MAX_ATTEMPTS", 12)),
                float(self.config.get("WEBHOOK_RETRY_BASE_SECONDS", 5)),
                float(self.config.get("WEBHOOK_RETRY_MAX_SECONDS", 3600)))

    # -- what the gateway calls ---------------------------------------------------------------
    @rpc
    def create_webhook(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(WebhookCreateSchema, body)
        with self.db.transaction() as tx:
            endpoint, secret = deliveries.create_endpoint(tx.session, caller, data)
            return deliveries.endpoint_view(endpoint, secret)

    @rpc
    def list_webhooks(self, caller):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return {"items": [deliveries.endpoint_view(e)
                              for e in deliveries.list_endpoints(session, caller)]}

    @rpc
    def disable_webhook(self, caller, webhook_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            return deliveries.endpoint_view(
                deliveries.disable_endpoint(tx.session, caller, webhook_id))

    @rpc
    def list_deliveries(self, caller, webhook_id, params):
        caller = Caller.from_wire(caller)
        query = load(DeliveryListQuerySchema, params)
        with self.db.read() as session:
            return deliveries.list_deliveries(session, caller, webhook_id, query)

    @rpc
    def replay_delivery(self, caller, delivery_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            delivery = deliveries.replay(tx.session, caller, delivery_id)
            return deliveries.delivery_view(tx.session, delivery)
