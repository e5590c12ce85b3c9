"""Entrypoints of the members service. Thin: unpack, call the domain modules, dump the reply."""
from nameko.dependency_providers import Config
from services.plumbing.entrypoints import HealthCheck
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.subscriber import subscribe
from services.plumbing.validation import load
from services.donations import events as donation_events

from . import events, orgs, registry
from .id_numbers import IdProtector
from .models import PLUMBING, Base
from .schemas import MemberPageSchema, MemberSchema, OrgUnitCreateSchema, OrgUnitSchema


class MembersService(HealthCheck):
    name = "members"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()

    def _protector(self) -> IdProtector:
        return IdProtector(self.config["ID_HASH_KEY"], self.config["ID_ENCRYPTION_KEY"])

    # -- org units ------------------------------------------------------------------------------
    @rpc
    def create_org_unit(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(OrgUnitCreateSchema, body)
        with self.db.transaction() as tx:
            org = orgs.create_org_unit(tx.session, caller, data)
            tx.emit(events.org_unit_registered(org))
        return OrgUnitSchema().dump(org)

    @rpc
    def get_org_unit(self, caller, org_id):
        with self.db.read() as session:
            return OrgUnitSchema().dump(orgs.get_visible_org(session, Caller.from_wire(caller), org_id))

    @rpc
    def list_org_units(self, caller):
        with self.db.read() as session:
            return OrgUnitSchema(many=True).dump(
                orgs.list_visible_orgs(session, Caller.from_wire(caller)))

    # -- members --------------------------------------------------------------------------------
    @rpc
    def register_member(self, caller, body):
        with self.db.transaction() as tx:
            member = registry.register_member(tx, Caller.from_wire(caller), body, self._protector())
            return MemberSchema().dump(registry.member_view(member))

    @rpc
    def get_member(self, caller, member_id):
        with self.db.read() as session:
            member = registry.get_member(session, Caller.from_wire(caller), member_id)
            return MemberSchema().dump(registry.member_view(member))

    @rpc
    def list_members(self, caller, params):
        with self.db.read() as session:
            members, next_cursor = registry.list_members(session, Caller.from_wire(caller), params)
            return MemberPageSchema().dump({
                "items": [registry.member_view(m) for m in members], "next_cursor": next_cursor})

    # -- events ---------------------------------------------------------------------------------
    @subscribe("donations", "donation_received")
    def on_donation_received(self, event):
        data = donation_events.DONATION_RECEIVED.load(event)
        with self.db.transaction() as tx:
            if not record_first_delivery(tx, event):
                return
            if data["member_id"]:
                registry.credit_giving(tx.session, data["member_id"], data["amount"])
