"""The webhooks service: subscribes to the events county offices may receive, writes one
delivery per receiving endpoint in the handler's transaction (so a receiver that is down loses
nothing), and sends due deliveries on a timer, signed, with backoff. Thin entrypoints: bodies
are loaded and replies dumped through `schemas`; the rules are in `deliveries`, the HTTP POST
in `sending`, where a webhook may point in `addresses`, what is forwarded in `events`.

Config: WEBHOOK_POLL_SECONDS (1), WEBHOOK_TIMEOUT_SECONDS (10), WEBHOOK_MAX_ATTEMPTS (12 per
round), WEBHOOK_RETRY_BASE_SECONDS (5), WEBHOOK_RETRY_MAX_SECONDS (3600): with the defaults a
receiver may be away for about four hours before a delivery is marked failed (still
replayable). WEBHOOK_ALLOWED_NETWORKS (none): comma-separated CIDRs of non-public networks
that endpoints may point to anyway (a county's on-premise receivers, local runs, tests).
"""
from datetime import timedelta

from nameko.dependency_providers import Config

from services.members import events as member_events
from services.plumbing.entrypoints import HealthCheck, OrgTreeProjection
from services.plumbing.envelope import utcnow
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.subscriber import subscribe
from services.plumbing.timer import configured_timer
from services.plumbing.validation import dump, load

from . import deliveries, events
from . import schemas as s
from .addresses import AddressPolicy
from .models import PLUMBING, TENANCY, Base

SEND_BATCH = 5  # deliveries one sender claims at a time


class WebhooksService(HealthCheck, OrgTreeProjection):
    name = "webhooks"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()
    tenancy = TENANCY
    tenancy_contracts = member_events.PUBLISHES

    # -- events to forward (method names are permanent: they name queues). Named forward_*, apart
    # from the org-tree mixin's on_* handlers, which keep the projection of org units (scoping
    # here is by org unit only: no members projection, issue 13).
    def _fan_out(self, event):
        data = events.forwarded_data(event)
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                deliveries.fan_out(tx.session, event.event_id, event.event_type, event.version,
                                   event.occurred_at, data)

    @subscribe("members", "member_flowed_out", batched=True)
    def forward_member_flowed_out(self, event):
        self._fan_out(event)

    @subscribe("members", "member_flow_accepted", batched=True)
    def forward_member_flow_accepted(self, event):
        self._fan_out(event)

    @subscribe("members", "member_moved", batched=True)
    def forward_member_moved(self, event):
        self._fan_out(event)

    @subscribe("members", "member_returned", batched=True)
    def forward_member_returned(self, event):
        self._fan_out(event)

    @subscribe("services_desk", "home_task_created", batched=True)
    def forward_home_task_created(self, event):
        self._fan_out(event)

    @subscribe("donations", "campaign_closed", batched=True)
    def forward_campaign_closed(self, event):
        self._fan_out(event)

    # -- sending -----------------------------------------------------------------------------------
    @configured_timer(interval=1.0, setting="WEBHOOK_POLL_SECONDS")
    def send_due(self):
        timeout = float(self.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
        policy = AddressPolicy.from_config(self.config)
        retry = deliveries.RetryPolicy.from_config(self.config)
        # The lease must outlast the whole batch, sent one after another, or another replica
        # would send its tail again (receivers still deduplicate on X-Liudong-Event-Id).
        with self.db.transaction() as tx:
            due = deliveries.claim_due(tx.session, utcnow(),
                                       timedelta(seconds=SEND_BATCH * timeout + 30),
                                       limit=SEND_BATCH)
        for delivery_id in due:
            deliveries.deliver(self.db, delivery_id, policy, retry, timeout)
        return len(due)

    # -- what the gateway calls ---------------------------------------------------------------
    @rpc
    def create_webhook(self, caller, body):
        data = load(s.WebhookCreateSchema, body)
        with self.db.transaction() as tx:
            endpoint = deliveries.create_endpoint(
                tx.session, Caller.from_wire(caller), data["url"], data["event_types"],
                AddressPolicy.from_config(self.config))
            return dump(s.WebhookCreatedSchema,
                        deliveries.endpoint_view(endpoint, with_secret=True))

    @rpc
    def list_webhooks(self, caller):
        with self.db.read() as session:
            endpoints = deliveries.list_endpoints(session, Caller.from_wire(caller))
            return dump(s.WebhookListSchema,
                        {"items": [deliveries.endpoint_view(e) for e in endpoints]})

    @rpc
    def disable_webhook(self, caller, webhook_id):
        with self.db.transaction() as tx:
            endpoint = deliveries.disable_endpoint(tx.session, Caller.from_wire(caller),
                                                   webhook_id)
            return dump(s.WebhookSchema, deliveries.endpoint_view(endpoint))

    @rpc
    def list_deliveries(self, caller, webhook_id, params):
        query = load(s.DeliveryListQuerySchema, params)
        with self.db.read() as session:
            return dump(s.DeliveryPageSchema, deliveries.list_deliveries(
                session, Caller.from_wire(caller), webhook_id, query["limit"],
                query["cursor"], query["status"]))

    @rpc
    def replay_delivery(self, caller, delivery_id):
        with self.db.transaction() as tx:
            delivery = deliveries.replay(tx.session, Caller.from_wire(caller), delivery_id)
            return dump(s.DeliverySchema, deliveries.delivery_view(tx.session, delivery))
