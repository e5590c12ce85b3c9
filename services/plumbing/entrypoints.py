"""Entrypoints every service (or every tenancy-projecting service) has, written once.

A service class mixes these in; nameko finds inherited entrypoints like its own. Method names
are permanent: the subscriber ones name queues.
"""
from sqlalchemy import text

from .contract import ContractMismatch
from .idempotency import record_first_delivery
from .rpc import rpc
from .subscriber import subscribe


class HealthCheck:
    """`health()` over RPC: the service answers and its database does too."""

    @rpc
    def health(self):
        with self.db.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}


class OrgTreeProjection:
    """Keeps the service's projection of org units (their tree and paths) from the members
    service's events; the service class sets `tenancy` (a `plumbing.tenancy.Tenancy`) and
    `tenancy_contracts`: the members service's event contracts (its `events.PUBLISHES`),
    handed in by the consuming service since plumbing imports no service's code. Enough for a
    service that scopes by org unit only (webhooks: where an endpoint and an event belong)."""

    tenancy = None
    tenancy_contracts = ()

    @subscribe("members", "org_unit_registered", batched=True)
    def on_org_unit_registered(self, event):
        self._project(event, self.tenancy.apply_org_unit_registered)

    @subscribe("members", "org_unit_moved", batched=True)
    def on_org_unit_moved(self, event):
        self._project(event, self.tenancy.apply_org_unit_moved)

    def _project(self, event, apply):
        data = self._contract_of(event).load(event)
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                apply(tx.session, data)

    def _project_together(self, events: list, apply_all):
        """A batch of one event type: the first deliveries applied with one statement."""
        loaded = [(event, self._contract_of(event).load(event)) for event in events]
        with self.db.transaction() as tx:
            apply_all(tx.session, [data for event, data in loaded
                                   if record_first_delivery(tx, event)])

    def _contract_of(self, event):
        contract = next((c for c in self.tenancy_contracts
                         if (c.producer, c.event_type) == (event.producer, event.event_type)), None)
        if contract is None:
            raise ContractMismatch(f"{type(self).__name__}.tenancy_contracts has no {event.event_type}")
        return contract


class TenancyProjection(OrgTreeProjection):
    """The org units and the members too (registrations, flow steps that change a member's host
    org): for services that scope records by the member they concern (desk, donations)."""

    # The busiest queue (every registration, every import row): a batch is one INSERT.
    @subscribe("members", "member_registered", together=True)
    def on_member_registered(self, events):
        self._project_together(events, self.tenancy.apply_members_registered)

    # One handler per flow step (handler names name queues); all update where the member belongs.
    @subscribe("members", "member_flowed_out", batched=True)
    def on_member_flowed_out(self, event):
        self._project_flow(event)

    @subscribe("members", "member_flow_accepted", batched=True)
    def on_member_flow_accepted(self, event):
        self._project_flow(event)

    @subscribe("members", "member_flow_refused", batched=True)
    def on_member_flow_refused(self, event):
        self._project_flow(event)

    @subscribe("members", "member_moved", batched=True)
    def on_member_moved(self, event):
        self._project_flow(event)

    @subscribe("members", "member_returned", batched=True)
    def on_member_returned(self, event):
        self._project_flow(event)

    @subscribe("members", "member_lost_contact", batched=True)
    def on_member_lost_contact(self, event):
        self._project_flow(event)

    @subscribe("members", "member_found", batched=True)
    def on_member_found(self, event):
        self._project_flow(event)

    def _project_flow(self, event):
        self._project(event, self.tenancy.apply_member_flow)
