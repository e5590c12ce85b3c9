"""Proxy-service requests (the services desk): requests and their lifecycle, home-county tasks
(收受分离), rules as data (categories, staff, the official calendar), the ledger's reports and
service days."""
from .files import CSV_TYPE, XLSX_TYPE, download
from .table import Route

DESK = "services.services_desk.schemas"
SERVICE = "services_desk"
STAFF = ("desk_staff",)
# who reads requests, rules and the ledger: the centres' staff, their offices, admins
DESK_READERS = ("desk_staff", "office", "admin")


def _call(ctx, method, *args):
    return ctx.call(SERVICE, method, *args)


def submit_request(ctx):
    return _call(ctx, "submit_request", ctx.json_body())


def list_requests(ctx):
    return _call(ctx, "list_requests", ctx.query())


def my_queue(ctx):
    return _call(ctx, "my_queue", ctx.query())


def get_request(ctx, request_id):
    return _call(ctx, "get_request", request_id)


def _bodiless(method):
    def handler(ctx, request_id):
        ctx.json_body(optional=True)
        return _call(ctx, method, request_id)
    return handler


def _with_body(method, optional=False):
    def handler(ctx, request_id):
        return _call(ctx, method, request_id, ctx.json_body(optional=optional))
    return handler


def list_home_tasks(ctx):
    return _call(ctx, "list_home_tasks", ctx.query())


def get_home_task(ctx, task_id):
    return _call(ctx, "get_home_task", task_id)


def accept_home_task(ctx, task_id):
    ctx.json_body(optional=True)
    return _call(ctx, "accept_home_task", task_id)


def answer_home_task(ctx, task_id):
    return _call(ctx, "answer_home_task", task_id, ctx.json_body())


def list_categories(ctx):
    return _call(ctx, "list_categories", ctx.query())


def set_category_rule(ctx, category):
    return _call(ctx, "set_category_rule", category, ctx.json_body())


def list_staff(ctx):
    return _call(ctx, "list_staff")


def put_staff(ctx, key_id):
    return _call(ctx, "put_staff", key_id, ctx.json_body())


def get_calendar_year(ctx, year):
    return _call(ctx, "get_calendar_year", year)


def put_calendar_year(ctx, year):
    return _call(ctx, "put_calendar_year", year, ctx.json_body())


def preview_deadline(ctx):
    return _call(ctx, "preview_deadline", ctx.query())


def monthly_register(ctx):
    return _call(ctx, "monthly_register", ctx.query())


def statistics(ctx):
    return _call(ctx, "statistics", ctx.query())


def _export(method, file_format):
    def handler(ctx):
        return download(_call(ctx, method, {**ctx.query(), "format": file_format}))
    return handler


def schedule_service_day(ctx):
    return _call(ctx, "schedule_service_day", ctx.json_body())


def list_service_days(ctx):
    return _call(ctx, "list_service_days", ctx.query())


def service_day_report(ctx, day_id):
    return _call(ctx, "service_day_report", day_id)


def _step(name, action, method, summary, body=None, roles=STAFF, optional=False):
    path = f"/api/v1/requests/<request_id>/{action}"
    handler = _with_body(method, optional) if body else _bodiless(method)
    return Route(name, "POST", path, handler, summary, "requests", roles,
                 body=f"{DESK}:{body}" if body else None, response=f"{DESK}:RequestSchema")


ROUTES = (
    Route("submit_request", "POST", "/api/v1/requests", submit_request,
          "Take in a proxy-service request at the caller's service centre", "requests",
          ("desk_staff", "office"), body=f"{DESK}:RequestSubmitSchema",
          response=f"{DESK}:RequestSchema", status=201),
    Route("list_requests", "GET", "/api/v1/requests", list_requests,
          "The caller's requests: its centre (or subtree), filtered by status, assignee, "
          "首问 owner or overdue", "requests",
          DESK_READERS, query=f"{DESK}:RequestListQuerySchema",
          response=f"{DESK}:RequestPageSchema"),
    Route("my_queue", "GET", "/api/v1/request-queue", my_queue,
          "What the caller may take now: language routing applied, its languages first",
          "requests", STAFF, query=f"{DESK}:QueueQuerySchema", response=f"{DESK}:QueueSchema"),
    Route("get_request", "GET", "/api/v1/requests/<request_id>", get_request,
          "One request with its ledger, notices and home-county tasks", "requests", DESK_READERS,
          response=f"{DESK}:RequestDetailSchema"),
    _step("claim_request", "claim", "claim_request",
          "Claim (受理 and start) a request: the first taker is its 首问 owner for good"),
    _step("accept_request", "accept", "accept_request",
          "Accept (受理) a request without starting it: the first taker is its 首问 owner"),
    _step("start_request", "start", "start_request", "Start work on an accepted request"),
    _step("request_materials", "materials-missing", "request_materials",
          "一次性告知: list every missing item at once; the clock stops",
          body="MaterialsMissingSchema"),
    _step("supplement_materials", "supplement", "supplement_materials",
          "The missing materials arrived: the clock restarts from zero",
          body="SupplementSchema", optional=True),
    Route("forward_request", "POST", "/api/v1/requests/<request_id>/forward",
          _with_body("forward_request", optional=True),
          "收受分离: forward to the requester's home county (creates its task)", "requests",
          STAFF, body=f"{DESK}:ForwardSchema", response=f"{DESK}:TaskSchema"),
    _step("complete_request", "complete", "complete_request",
          "Complete a request with its outcome", body="RequestCompleteSchema"),
    _step("reject_request", "reject", "reject_request",
          "Refuse a request, with the reason", body="ReasonSchema"),
    _step("withdraw_request", "withdraw", "withdraw_request",
          "The requester withdrew the request", body="ReasonSchema",
          roles=("desk_staff", "office")),
    _step("reopen_request", "reopen", "reopen_request",
          "Reopen a completed request within the window; the clock restarts",
          body="ReasonSchema"),
    _step("assign_request", "assign", "assign_request",
          "Hand the work to another staff member (the 首问 owner stays)", body="AssignSchema"),
    _step("extend_deadline", "extend", "extend_deadline",
          "Extend the deadline (a centre lead approves by calling this; once per request)",
          body="ExtendSchema"),
    Route("rate_request", "POST", "/api/v1/requests/<request_id>/rating",
          _with_body("rate_request"), "好差评: the requester's rating of a completed request",
          "requests", ("desk_staff", "office"), body=f"{DESK}:RatingSchema",
          response=f"{DESK}:RatingReplySchema", status=200),

    Route("list_home_tasks", "GET", "/api/v1/home-tasks", list_home_tasks,
          "Tasks forwarded to the caller's home county (subtree)", "home tasks",
          ("office", "admin"), query=f"{DESK}:TaskListQuerySchema",
          response=f"{DESK}:TaskPageSchema"),
    Route("get_home_task", "GET", "/api/v1/home-tasks/<task_id>", get_home_task,
          "One task forwarded to the caller's home county", "home tasks", ("office", "admin"),
          response=f"{DESK}:TaskSchema"),
    Route("accept_home_task", "POST", "/api/v1/home-tasks/<task_id>/accept", accept_home_task,
          "The home county accepts a forwarded task", "home tasks", ("office",),
          response=f"{DESK}:TaskSchema"),
    Route("answer_home_task", "POST", "/api/v1/home-tasks/<task_id>/answer", answer_home_task,
          "The home county returns its result; the desk's clock continues", "home tasks",
          ("office",), body=f"{DESK}:TaskAnswerSchema", response=f"{DESK}:TaskSchema"),

    Route("list_categories", "GET", "/api/v1/desk/categories", list_categories,
          "Categories with their rules (for a county, or the defaults)", "desk rules",
          DESK_READERS, query=f"{DESK}:CategoryQuerySchema", response=f"{DESK}:CategoryListSchema"),
    Route("set_category_rule", "PUT", "/api/v1/desk/categories/<category>", set_category_rule,
          "Set a category's rule: a county's own (office) or the platform default (admin)",
          "desk rules", ("office", "admin"), body=f"{DESK}:CategoryRuleBodySchema",
          response=f"{DESK}:CategoryRuleSchema"),
    Route("list_staff", "GET", "/api/v1/desk/staff", list_staff,
          "Desk staff of the caller's scope", "desk rules", DESK_READERS,
          response=f"{DESK}:StaffListSchema"),
    Route("put_staff", "PUT", "/api/v1/desk/staff/<key_id>", put_staff,
          "Register or update a staff member (by API key id): admin, or the centre's lead",
          "desk rules", ("admin", "desk_staff"), body=f"{DESK}:StaffBodySchema",
          response=f"{DESK}:StaffSchema"),
    Route("get_calendar_year", "GET", "/api/v1/desk/calendar/<year>", get_calendar_year,
          "A year's statutory holidays and make-up working days, each with its source "
          "(chinese-calendar or entered)", "desk rules",
          ("desk_staff", "office", "ops", "admin"), response=f"{DESK}:CalendarYearSchema"),
    Route("preview_deadline", "GET", "/api/v1/desk/deadline-preview", preview_deadline,
          "The deadline and early warning a request of a category would get if received on "
          "a given day", "desk rules", ("desk_staff", "office", "ops", "admin"),
          query=f"{DESK}:DeadlinePreviewQuerySchema", response=f"{DESK}:DeadlinePreviewSchema"),
    Route("put_calendar_year", "PUT", "/api/v1/desk/calendar/<year>", put_calendar_year,
          "Enter a year's holidays and make-up working days (years chinese-calendar lacks); "
          "open requests whose count runs into the year are counted again",
          "desk rules", ("admin",), body=f"{DESK}:CalendarYearBodySchema",
          response=f"{DESK}:CalendarYearSchema"),

    Route("monthly_register", "GET", "/api/v1/desk/register", monthly_register,
          "Monthly 限时办结 register per centre", "desk reports", DESK_READERS,
          query=f"{DESK}:MonthQuerySchema", response=f"{DESK}:RegisterSchema"),
    Route("desk_statistics", "GET", "/api/v1/desk/statistics", statistics,
          "On-time rate, median handling time, backlog and ratings", "desk reports", DESK_READERS,
          query=f"{DESK}:OptionalMonthQuerySchema", response=f"{DESK}:StatisticsSchema"),
    Route("desk_ledger_csv", "GET", "/api/v1/desk/ledger.csv", _export("export_ledger", "csv"),
          "The tracking ledger of a month (every step of every request received in it, "
          "Beijing times) as a CSV file (UTF-8 with BOM)", "desk reports", DESK_READERS,
          query=f"{DESK}:MonthQuerySchema", response_type=CSV_TYPE),
    Route("desk_ledger_xlsx", "GET", "/api/v1/desk/ledger.xlsx",
          _export("export_ledger", "xlsx"),
          "The tracking ledger of a month as an Excel workbook", "desk reports", DESK_READERS,
          query=f"{DESK}:MonthQuerySchema", response_type=XLSX_TYPE),
    Route("desk_register_csv", "GET", "/api/v1/desk/register.csv",
          _export("export_register", "csv"),
          "The monthly 限时办结 register per centre as a CSV file (UTF-8 with BOM)",
          "desk reports", DESK_READERS, query=f"{DESK}:MonthQuerySchema", response_type=CSV_TYPE),
    Route("desk_register_xlsx", "GET", "/api/v1/desk/register.xlsx",
          _export("export_register", "xlsx"),
          "The monthly 限时办结 register per centre as an Excel workbook", "desk reports",
          DESK_READERS, query=f"{DESK}:MonthQuerySchema", response_type=XLSX_TYPE),

    Route("schedule_service_day", "POST", "/api/v1/service-days", schedule_service_day,
          "Schedule a service day (逢场式服务) of the caller's centre", "service days", STAFF,
          body=f"{DESK}:ServiceDayBodySchema", response=f"{DESK}:ServiceDaySchema", status=201),
    Route("list_service_days", "GET", "/api/v1/service-days", list_service_days,
          "Service days of the caller's scope", "service days", DESK_READERS,
          query=f"{DESK}:OptionalMonthQuerySchema", response=f"{DESK}:ServiceDayListSchema"),
    Route("service_day_report", "GET", "/api/v1/service-days/<day_id>", service_day_report,
          "A service day's bookings and outcome", "service days", DESK_READERS,
          response=f"{DESK}:ServiceDayReportSchema"),
)
