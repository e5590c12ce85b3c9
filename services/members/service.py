"""Entrypoints of the members service. Thin: load the body or query with its schema, call the
domain modules with plain values, dump the reply."""
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from services.donations import events as donation_events
from services.plumbing.entrypoints import HealthCheck
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.subscriber import subscribe
from services.plumbing.validation import dump, load

from . import activities, bulk, care, events, flows, notices, orgs, registry, reports
from . import schemas as s
from .id_numbers import IdProtector
from .import_worker import ImportWorkers
from .models import PLUMBING, Base


def _caller(wire) -> Caller:
    return Caller.from_wire(wire)


class ImportWorkerPool(DependencyProvider):
    """`self.import_workers`: the import worker processes of this service process (config
    MEMBER_IMPORT_WORKERS, default 1 kept started; 0 checks an import's rows in this process)."""

    def setup(self):
        self.workers = ImportWorkers(int(self.container.config.get("MEMBER_IMPORT_WORKERS", 1)))

    def start(self):
        self.workers.start()

    def stop(self):
        self.workers.stop()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self.workers if self.workers.warm else None


class MembersService(HealthCheck):
    name = "members"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()
    import_workers = ImportWorkerPool()

    def _protector(self) -> IdProtector:
        return IdProtector(self.config["ID_HASH_KEY"], self.config["ID_ENCRYPTION_KEY"])

    # -- org units ------------------------------------------------------------------------------
    @rpc
    def create_org_unit(self, caller, body):
        caller = _caller(caller)
        data = load(s.OrgUnitCreateSchema, body)
        with self.db.transaction() as tx:
            org = orgs.create_org_unit(tx, caller, data)
        return dump(s.OrgUnitSchema, org)

    @rpc
    def get_org_unit(self, caller, org_id):
        with self.db.read() as session:
            return dump(s.OrgUnitSchema, orgs.get_visible_org(session, _caller(caller), org_id))

    @rpc
    def list_org_units(self, caller):
        with self.db.read() as session:
            return dump(s.OrgUnitListSchema,
                        {"items": orgs.list_visible_orgs(session, _caller(caller))})

    @rpc
    def move_org_unit(self, caller, org_id, body):
        data = load(s.OrgUnitMoveSchema, body)
        with self.db.transaction() as tx:
            return dump(s.OrgUnitSchema, orgs.move_org_unit(tx, _caller(caller), org_id, data))

    @rpc
    def close_org_unit(self, caller, org_id):
        with self.db.transaction() as tx:
            return dump(s.OrgUnitSchema, orgs.close_org_unit(tx, _caller(caller), org_id))

    @rpc
    def org_subtree(self, caller, org_id):
        with self.db.read() as session:
            return dump(s.OrgSubtreeSchema,
                        {"items": orgs.subtree_with_counts(session, _caller(caller), org_id)})

    # -- members --------------------------------------------------------------------------------
    @rpc
    def register_member(self, caller, body):
        data = load(s.MemberCreateSchema, body)
        with self.db.transaction() as tx:
            member = registry.register_member(tx, _caller(caller), data, self._protector())
            return dump(s.MemberSchema, registry.member_view(member))

    @rpc
    def get_member(self, caller, member_id):
        with self.db.read() as session:
            member = registry.get_member(session, _caller(caller), member_id)
            return dump(s.MemberSchema, registry.member_view(member))

    @rpc
    def update_member(self, caller, member_id, body):
        data = load(s.MemberUpdateSchema, body)
        with self.db.transaction() as tx:
            member = registry.update_member(tx.session, _caller(caller), member_id, data)
            return dump(s.MemberSchema, registry.member_view(member))

    @rpc
    def reveal_id_number(self, caller, member_id):
        with self.db.read() as session:
            return {"id_number": registry.reveal_id_number(session, _caller(caller), member_id,
                                                           self._protector())}

    @rpc
    def list_members(self, caller, params):
        query = load(s.MemberListQuerySchema, params)
        with self.db.read() as session:
            members, next_cursor = registry.list_members(session, _caller(caller), query)
            return dump(s.MemberPageSchema, {
                "items": [registry.member_view(m) for m in members], "next_cursor": next_cursor})

    # -- flow lifecycle -------------------------------------------------------------------------
    @rpc
    def flow_step(self, caller, member_id, action, body):
        data = load(s.FlowActionSchema, body)
        with self.db.transaction() as tx:
            member = flows.transition(tx, _caller(caller), member_id, action, data)
            return dump(s.MemberSchema, registry.member_view(member))

    @rpc
    def member_history(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.FlowHistorySchema,
                        {"items": flows.history(session, _caller(caller), member_id)})

    @rpc
    def create_self_report(self, caller, body):
        data = load(s.SelfReportCreateSchema, body)
        with self.db.transaction() as tx:
            report = flows.create_self_report(tx.session, _caller(caller), data, self._protector())
            return dump(s.SelfReportSchema, flows.self_report_view(report))

    @rpc
    def list_self_reports(self, caller, params):
        query = load(s.SelfReportListQuerySchema, params)
        with self.db.read() as session:
            reports, next_cursor = flows.list_self_reports(session, _caller(caller), query)
            return dump(s.SelfReportPageSchema, {
                "items": [flows.self_report_view(r) for r in reports], "next_cursor": next_cursor})

    @rpc
    def decide_self_report(self, caller, report_id, accept, body):
        data = load(s.SelfReportDecisionSchema, body)
        with self.db.transaction() as tx:
            report = flows.decide_self_report(tx, _caller(caller), report_id, bool(accept), data,
                                              self._protector())
            return dump(s.SelfReportSchema, flows.self_report_view(report))

    @rpc
    def log_contact_attempt(self, caller, member_id, body):
        data = load(s.ContactAttemptCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.ContactAttemptSchema,
                        flows.log_contact_attempt(tx.session, _caller(caller), member_id, data))

    @rpc
    def list_contact_attempts(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.ContactAttemptListSchema,
                        {"items": flows.contact_attempts(session, _caller(caller), member_id)})

    @rpc
    def found_stats(self, caller, params):
        query = load(s.YearQuerySchema, params)
        with self.db.read() as session:
            return dump(s.FoundStatsSchema,
                        {"items": flows.found_stats(session, _caller(caller), query)})

    # -- life of the branch ---------------------------------------------------------------------
    @rpc
    def create_activity(self, caller, body):
        data = load(s.ActivityCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.ActivitySchema, activities.create_activity(tx.session, _caller(caller), data))

    @rpc
    def get_activity(self, caller, activity_id):
        with self.db.read() as session:
            return dump(s.ActivitySchema,
                        activities.get_activity(session, _caller(caller), activity_id))

    @rpc
    def participate(self, caller, activity_id, step, body):
        """step: sign_up, attend (sign-in) or leave."""
        handler = {"sign_up": activities.sign_up, "attend": activities.attend,
                   "leave": activities.request_leave}[step]
        data = load(s.ParticipationCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.ParticipationSchema, handler(tx.session, _caller(caller), activity_id, data))

    @rpc
    def activity_tally(self, caller, params):
        query = load(s.TallyQuerySchema, params)
        with self.db.read() as session:
            return dump(s.TallySchema, activities.tally(session, _caller(caller), query))

    @rpc
    def set_point_rule(self, caller, body):
        data = load(s.PointRuleSchema, body)
        with self.db.transaction() as tx:
            return dump(s.PointRuleSchema, activities.set_point_rule(tx.session, _caller(caller), data))

    @rpc
    def list_point_rules(self, caller, params):
        query = load(s.PointRuleQuerySchema, params)
        with self.db.read() as session:
            return dump(s.PointRuleListSchema,
                        {"items": activities.point_rules(session, _caller(caller), query)})

    @rpc
    def award_points(self, caller, member_id, body):
        data = load(s.PointAwardSchema, body)
        with self.db.transaction() as tx:
            return dump(s.PointEntrySchema,
                        activities.award_points(tx.session, _caller(caller), member_id, data))

    @rpc
    def point_ledger(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.PointLedgerSchema,
                        activities.point_ledger(session, _caller(caller), member_id))

    @rpc
    def points_ranking(self, caller, params):
        query = load(s.RankingQuerySchema, params)
        with self.db.read() as session:
            return dump(s.RankingSchema, activities.ranking(session, _caller(caller), query))

    @rpc
    def volunteer_hours(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.VolunteerHoursSchema,
                        activities.volunteer_hours(session, _caller(caller), member_id))

    # -- care and talent ------------------------------------------------------------------------
    @rpc
    def list_elderly(self, caller, params):
        query = load(s.ElderlyQuerySchema, params)
        with self.db.read() as session:
            members, next_cursor = care.elderly(session, _caller(caller), query)
            return dump(s.MemberPageSchema, {
                "items": [registry.member_view(m) for m in members], "next_cursor": next_cursor})

    @rpc
    def log_care_visit(self, caller, member_id, body):
        data = load(s.CareVisitCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.CareVisitSchema, care.log_visit(tx.session, _caller(caller), member_id, data))

    @rpc
    def list_care_visits(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.CareVisitListSchema,
                        {"items": care.visits(session, _caller(caller), member_id)})

    @rpc
    def grant_hardship_help(self, caller, member_id, body):
        data = load(s.HardshipHelpCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.HardshipHelpSchema,
                        care.grant_help(tx.session, _caller(caller), member_id, data))

    @rpc
    def list_hardship_help(self, caller, member_id):
        with self.db.read() as session:
            return dump(s.HardshipHelpListSchema,
                        care.help_records(session, _caller(caller), member_id))

    @rpc
    def award_honour(self, caller, body):
        data = load(s.HonourCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.HonourSchema, care.award_honour(tx.session, _caller(caller), data))

    @rpc
    def list_honours(self, caller, params):
        query = load(s.HonourQuerySchema, params)
        with self.db.read() as session:
            return dump(s.HonourListSchema, {"items": care.honours(session, _caller(caller), query)})

    @rpc
    def record_talent_return(self, caller, member_id, body):
        data = load(s.TalentReturnCreateSchema, body)
        with self.db.transaction() as tx:
            return dump(s.TalentReturnSchema,
                        care.record_talent_return(tx.session, _caller(caller), member_id, data))

    @rpc
    def talent_report(self, caller, params):
        query = load(s.TalentReportQuerySchema, params)
        with self.db.read() as session:
            return dump(s.TalentReportSchema, care.talent_report(session, _caller(caller), query))

    # -- notices --------------------------------------------------------------------------------
    @rpc
    def publish_notice(self, caller, body):
        data = load(s.NoticeCreateSchema, body)
        with self.db.transaction() as tx:
            notice = notices.publish(tx, _caller(caller), data)
        with self.db.read() as session:
            return dump(s.MemberNoticeSchema, notices.notice_view(session, _caller(caller), notice.id))

    @rpc
    def get_notice(self, caller, notice_id):
        with self.db.read() as session:
            return dump(s.MemberNoticeSchema, notices.notice_view(session, _caller(caller), notice_id))

    @rpc
    def mark_notice_read(self, caller, notice_id, body):
        data = load(s.NoticeReadSchema, body)
        with self.db.transaction() as tx:
            return dump(s.NoticeDeliverySchema,
                        notices.mark_read(tx.session, _caller(caller), notice_id, data))

    @rpc
    def list_notice_deliveries(self, caller, notice_id, params):
        query = load(s.NoticeDeliveryQuerySchema, params)
        with self.db.read() as session:
            items, next_cursor = notices.deliveries(session, _caller(caller), notice_id, query)
            return dump(s.NoticeDeliveryPageSchema, {"items": items, "next_cursor": next_cursor})

    @subscribe("members", "notice_published")
    def on_notice_published(self, event):
        data = events.NOTICE_PUBLISHED.load(event)
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                notices.deliver(tx.session, data["notice_id"], data["path"])

    # -- bulk import and export, reports --------------------------------------------------------
    @rpc
    def start_import(self, caller, body):
        """A small file in one message (JSON form); the gateway sends large ones in pieces."""
        with self.db.transaction() as tx:
            batch = bulk.start_import(tx, _caller(caller), body, self._protector())
            return dump(s.ImportBatchSchema, bulk.batch_view(tx.session, batch))

    @rpc
    def open_import(self, caller, body, file, idempotency_key=None):
        with self.db.transaction() as tx:
            batch = bulk.open_upload(tx, _caller(caller), body, file, idempotency_key)
            return dump(s.ImportBatchSchema, bulk.batch_view(tx.session, batch))

    @rpc
    def append_import_chunk(self, caller, batch_id, seq, content_base64):
        with self.db.transaction() as tx:
            batch = bulk.append_chunk(tx, _caller(caller), batch_id, seq, content_base64,
                                      self._protector())
            return {"received_bytes": batch.received_bytes}

    @rpc
    def finish_import(self, caller, batch_id):
        with self.db.transaction() as tx:
            batch = bulk.finish_upload(tx, _caller(caller), batch_id, self._protector())
            return dump(s.ImportBatchSchema, bulk.batch_view(tx.session, batch))

    @rpc
    def discard_import(self, caller, batch_id):
        with self.db.transaction() as tx:
            bulk.discard_upload(tx, _caller(caller), batch_id)

    @rpc
    def get_import(self, caller, batch_id):
        with self.db.read() as session:
            batch = bulk.get_batch(session, _caller(caller), batch_id)
            return dump(s.ImportBatchSchema, bulk.batch_view(session, batch))

    @rpc
    def import_error_file(self, caller, batch_id, file_format):
        with self.db.read() as session:
            return dump(s.MemberExportSchema, bulk.error_file(
                session, _caller(caller), batch_id, file_format, self._protector()))

    @subscribe("members", "member_import_requested")
    def on_member_import_requested(self, event):
        data = events.MEMBER_IMPORT_REQUESTED.load(event)
        bulk.run_import(self.db, event, data["batch_id"], self._protector(), self.import_workers)

    @rpc
    def export_members(self, caller, file_format, params):
        with self.db.read() as session:
            return dump(s.MemberExportSchema,
                        bulk.export_members(session, _caller(caller), file_format, params,
                                            self._protector()))

    @rpc
    def member_report(self, caller, params):
        query = load(s.OrgReportQuerySchema, params)
        with self.db.read() as session:
            return dump(s.MemberReportSchema, reports.member_report(session, _caller(caller), query))

    @rpc
    def flow_report(self, caller, params):
        query = load(s.OrgReportQuerySchema, params)
        with self.db.read() as session:
            return dump(s.FlowReportSchema, reports.flow_report(session, _caller(caller), query))

    # -- events ---------------------------------------------------------------------------------
    @subscribe("donations", "donation_received", batched=True)
    def on_donation_received(self, event):
        data = donation_events.DONATION_RECEIVED.load(event)
        self._credit_giving(event, data["member_id"], data["amount"])

    @subscribe("donations", "donation_voided", batched=True)
    def on_donation_voided(self, event):
        # Additive and never clamped: if the gift's own event is retried after its void, the
        # total dips below the truth for a moment and then ends right.
        data = donation_events.DONATION_VOIDED.load(event)
        self._credit_giving(event, data["member_id"], -data["amount"])

    def _credit_giving(self, event, member_id, amount):
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event) and member_id:
                registry.credit_giving(tx.session, member_id, amount)
