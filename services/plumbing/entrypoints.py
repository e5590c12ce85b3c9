"""Entrypoints every service (or every tenancy-projecting service) has, written once.

A service class mixes these in; nameko finds inherited entrypoints like its own. Method names
are permanent: the subscriber ones name queues.
"""
from sqlalchemy import text

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


class TenancyProjection:
    """Keeps the service's projection of org units and members from the members service's
    events; the service class sets `tenancy` (a `plumbing.tenancy.Tenancy`)."""

    tenancy = None

    @subscribe("members", "org_unit_registered")
    def on_org_unit_registered(self, event):
        from services.members.events import ORG_UNIT_REGISTERED
        self._project(event, ORG_UNIT_REGISTERED, self.tenancy.apply_org_unit_registered)

    @subscribe("members", "member_registered")
    def on_member_registered(self, event):
        from services.members.events import MEMBER_REGISTERED
        self._project(event, MEMBER_REGISTERED, self.tenancy.apply_member_registered)

    def _project(self, event, contract, apply):
        data = contract.load(event)
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                apply(tx.session, data)
