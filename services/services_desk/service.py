"""Entrypoints of the services desk. Thin: unpack, call the domain modules, dump the reply."""
import logging

from nameko.dependency_providers import Config

from services.members import events as member_events
from services.plumbing.clock import today_in_china
from services.plumbing.entrypoints import HealthCheck, TenancyProjection
from services.plumbing.errors import NotFound, ValidationFailed
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.timer import configured_timer
from services.plumbing.validation import dump, load

from . import categories, deadlines, home_tasks, proxy_requests, reports, staff, workspace
from .extensions import DEFAULT_SWEEP_SECONDS, DeskMetrics
from .models import PLUMBING, TENANCY, Base
from .schemas import (
    AssignSchema,
    CalendarYearBodySchema,
    CalendarYearSchema,
    CategoryListSchema,
    CategoryQuerySchema,
    CategoryRuleBodySchema,
    CategoryRuleSchema,
    ConsoleQueueQuerySchema,
    ConsoleQueueSchema,
    ConsoleRequestSchema,
    DeadlinePreviewQuerySchema,
    DeadlinePreviewSchema,
    ExportQuerySchema,
    ExportSchema,
    ExtendSchema,
    ForwardSchema,
    MaterialsMissingSchema,
    MonthQuerySchema,
    OptionalMonthQuerySchema,
    QueueQuerySchema,
    QueueSchema,
    RatingReplySchema,
    RatingSchema,
    ReasonSchema,
    RegisterSchema,
    RequestCompleteSchema,
    RequestDetailSchema,
    RequestListQuerySchema,
    RequestPageSchema,
    RequestSchema,
    RequestSubmitSchema,
    ServiceDayBodySchema,
    ServiceDayListSchema,
    ServiceDayReportSchema,
    ServiceDaySchema,
    StaffBodySchema,
    StaffListSchema,
    StaffSchema,
    StatisticsSchema,
    SupplementSchema,
    TaskAnswerSchema,
    TaskListQuerySchema,
    TaskPageSchema,
    TaskSchema,
)

log = logging.getLogger(__name__)


def _request_reply(request):
    return dump(RequestSchema, proxy_requests.request_view(request))


class ServicesDeskService(HealthCheck, TenancyProjection):
    name = "services_desk"

    db = Database(Base.metadata, PLUMBING)
    metrics = Metrics()
    desk_metrics = DeskMetrics()
    log_context = LogContext()
    tenancy = TENANCY
    tenancy_contracts = member_events.PUBLISHES

    config = Config()

    @property
    def _warning_share(self) -> float:
        return float(self.config.get("DESK_WARNING_SHARE", deadlines.DEFAULT_WARNING_SHARE))

    # -- requests -------------------------------------------------------------------------------
    @rpc
    def submit_request(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(RequestSubmitSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.submit_request(tx, caller, data,
                                                                self._warning_share))

    @rpc
    def claim_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.claim_request(tx, caller, request_id))

    @rpc
    def accept_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.accept_request(tx, caller, request_id))

    @rpc
    def start_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.start_request(tx, caller, request_id))

    @rpc
    def request_materials(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(MaterialsMissingSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.request_materials(tx, caller, request_id, data))

    @rpc
    def supplement_materials(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(SupplementSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.supplement_materials(
                tx, caller, request_id, data, self._warning_share))

    @rpc
    def forward_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(ForwardSchema, body)
        with self.db.transaction() as tx:
            task = proxy_requests.forward_request(tx, caller, request_id, data)
            return dump(TaskSchema, home_tasks.task_view(tx.session, task))

    @rpc
    def complete_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(RequestCompleteSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.complete_request(tx, caller, request_id, data))

    @rpc
    def reject_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(ReasonSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.reject_request(tx, caller, request_id, data))

    @rpc
    def withdraw_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(ReasonSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.withdraw_request(tx, caller, request_id, data))

    @rpc
    def reopen_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(ReasonSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.reopen_request(
                tx, caller, request_id, data, self._warning_share))

    @rpc
    def assign_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(AssignSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.assign_request(tx, caller, request_id, data))

    @rpc
    def extend_deadline(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(ExtendSchema, body)
        with self.db.transaction() as tx:
            return _request_reply(proxy_requests.extend_deadline(
                tx, caller, request_id, data, self._warning_share))

    @rpc
    def rate_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(RatingSchema, body)
        with self.db.transaction() as tx:
            rating = reports.rate_request(tx, caller, request_id, data)
            return dump(RatingReplySchema, {
                "request_id": rating.request_id, "score": rating.score,
                "comment": rating.comment, "recorded_by": rating.recorded_by,
                "created_at": rating.created_at})

    @rpc
    def get_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            request = proxy_requests.get_request(session, caller, request_id)
            return dump(RequestDetailSchema, proxy_requests.request_detail_view(session, request))

    @rpc
    def list_requests(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(RequestListQuerySchema, params)
        with self.db.read() as session:
            rows, next_cursor = proxy_requests.list_requests(session, caller, query_params)
            return dump(RequestPageSchema, {
                "items": [proxy_requests.request_view(r) for r in rows], "next_cursor": next_cursor})

    @rpc
    def my_queue(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(QueueQuerySchema, params)
        with self.db.read() as session:
            rows = proxy_requests.queue_for(session, caller, query_params["limit"])
            return dump(QueueSchema, {"items": [proxy_requests.request_view(r) for r in rows]})

    # -- the staff console's workspace -----------------------------------------------------------
    @rpc
    def console_queue(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(ConsoleQueueQuerySchema, params)
        with self.db.read() as session:
            return dump(ConsoleQueueSchema,
                        workspace.queue_page(session, caller, query_params, today_in_china()))

    @rpc
    def console_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(ConsoleRequestSchema, workspace.request_workspace(
                session, caller, request_id, today_in_china()))

    # -- home-county tasks (收受分离) ----------------------------------------------------------------
    @rpc
    def list_home_tasks(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(TaskListQuerySchema, params)
        with self.db.read() as session:
            rows, next_cursor = home_tasks.list_tasks(session, caller, query_params)
            return dump(TaskPageSchema, {
                "items": [home_tasks.task_view(session, t) for t in rows],
                "next_cursor": next_cursor})

    @rpc
    def get_home_task(self, caller, task_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(TaskSchema, home_tasks.task_view(
                session, home_tasks.get_task(session, caller, task_id)))

    @rpc
    def accept_home_task(self, caller, task_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            task = home_tasks.accept_task(tx, caller, task_id)
            return dump(TaskSchema, home_tasks.task_view(tx.session, task))

    @rpc
    def answer_home_task(self, caller, task_id, body):
        caller = Caller.from_wire(caller)
        data = load(TaskAnswerSchema, body)
        with self.db.transaction() as tx:
            task = home_tasks.answer_task(tx, caller, task_id, data)
            return dump(TaskSchema, home_tasks.task_view(tx.session, task))

    # -- rules as data -------------------------------------------------------------------------
    @rpc
    def list_categories(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(CategoryQuerySchema, params)
        with self.db.read() as session:
            county = query_params["county_org_id"]
            if county is not None and TENANCY.org_path(session, county) is None:
                raise ValidationFailed("unknown county", {"county_org_id": ["no such org unit"]})
            return dump(CategoryListSchema, {"items": categories.list_rules(session, county)})

    @rpc
    def set_category_rule(self, caller, category, body):
        caller = Caller.from_wire(caller)
        data = load(CategoryRuleBodySchema, body)
        with self.db.transaction() as tx:
            return dump(CategoryRuleSchema, categories.set_rule(tx.session, caller, category, data))

    @rpc
    def put_staff(self, caller, key_id, body):
        caller = Caller.from_wire(caller)
        data = load(StaffBodySchema, body)
        if not isinstance(key_id, str) or not 0 < len(key_id) <= 32:
            raise NotFound("no such key")
        with self.db.transaction() as tx:
            return dump(StaffSchema,
                        staff.staff_view(staff.put_staff(tx.session, caller, key_id, data)))

    @rpc
    def list_staff(self, caller):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(StaffListSchema,
                        {"items": [staff.staff_view(m) for m in staff.list_staff(session, caller)]})

    @rpc
    def put_calendar_year(self, caller, year, body):
        caller = Caller.from_wire(caller)
        data = load(CalendarYearBodySchema, body)
        year = _year(year)
        with self.db.transaction() as tx:
            view = deadlines.put_year(tx.session, caller, year, data)
            proxy_requests.follow_calendar(tx, caller, year, self._warning_share)
            return dump(CalendarYearSchema, view)

    @rpc
    def preview_deadline(self, caller, params):
        Caller.from_wire(caller)
        query_params = load(DeadlinePreviewQuerySchema, params)
        with self.db.read() as session:
            county = query_params["county_org_id"]
            if county is not None and TENANCY.org_path(session, county) is None:
                raise ValidationFailed("unknown county", {"county_org_id": ["no such org unit"]})
            return dump(DeadlinePreviewSchema, deadlines.preview(
                session, query_params["category"], query_params["received_on"], county,
                self._warning_share))

    @rpc
    def get_calendar_year(self, caller, year):
        Caller.from_wire(caller)
        year = _year(year)
        with self.db.read() as session:
            return dump(CalendarYearSchema, deadlines.year_view(session, year))

    # -- ledger, register, statistics, service days ---------------------------------------------
    @rpc
    def monthly_register(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(MonthQuerySchema, params)
        with self.db.read() as session:
            return dump(RegisterSchema, {"items": reports.monthly_register(
                session, caller, query_params["month"], today_in_china())})

    @rpc
    def statistics(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(OptionalMonthQuerySchema, params)
        with self.db.read() as session:
            return dump(StatisticsSchema,
                        reports.statistics(session, caller, query_params["month"]))

    @rpc
    def export_ledger(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(ExportQuerySchema, params)
        with self.db.read() as session:
            return dump(ExportSchema, reports.export_ledger(
                session, caller, query_params["month"], query_params["format"]))

    @rpc
    def export_register(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(ExportQuerySchema, params)
        with self.db.read() as session:
            return dump(ExportSchema, reports.export_register(
                session, caller, query_params["month"], query_params["format"],
                today_in_china()))

    @rpc
    def schedule_service_day(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(ServiceDayBodySchema, body)
        with self.db.transaction() as tx:
            return dump(ServiceDaySchema, reports.service_day_view(
                reports.schedule_service_day(tx, caller, data)))

    @rpc
    def list_service_days(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(OptionalMonthQuerySchema, params)
        with self.db.read() as session:
            return dump(ServiceDayListSchema, {"items": [
                reports.service_day_view(d)
                for d in reports.list_service_days(session, caller, query_params["month"])]})

    @rpc
    def service_day_report(self, caller, day_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(ServiceDayReportSchema,
                        reports.service_day_report(session, caller, day_id))

    # -- 限时办结: early warnings and overdue, in every replica, once per request ----------------
    @configured_timer(interval=DEFAULT_SWEEP_SECONDS, setting="DESK_SWEEP_SECONDS")
    def sweep_deadlines(self):
        with self.db.transaction() as tx:
            counts = deadlines.sweep(tx, today_in_china())
        if counts["warned"] or counts["overdue"]:
            log.info("deadline sweep: %(warned)s warned, %(overdue)s overdue", counts)
        return counts


def _year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("invalid year", {"year": ["a year such as 2027"]}) from None
    if not 2000 <= year <= 2100:
        raise ValidationFailed("invalid year", {"year": ["between 2000 and 2100"]})
    return year
