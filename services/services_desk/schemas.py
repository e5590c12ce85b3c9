"""marshmallow schemas of the services desk API: request bodies (unknown fields rejected) and
replies. The gateway builds its OpenAPI document from these."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.plumbing import exports
from services.plumbing.fields import Day
from services.plumbing.phones import PHONE_PATTERN

from .categories import CATEGORIES
from .home_tasks import RESULTS, TASK_STATUSES
from .notices import KINDS as NOTICE_KINDS
from .proxy_requests import CHANNELS, STATUSES

UUID_LENGTH = validate.Length(min=1, max=36)
KEY_ID_LENGTH = validate.Length(min=1, max=32)
LANGUAGE = validate.Regexp(r"^[a-z]{2,3}$", error="an ISO 639 language code: zh, bo, ii, ug, en …")
MONTH = validate.Regexp(r"^20\d{2}-(0[1-9]|1[0-2])$", error="a month as YYYY-MM (2000-2099)")
TEXT_LENGTH = validate.Length(min=1, max=2000)


def _not_blank(value):
    # An empty string already fails the length check; one message is enough.
    if value and not value.strip():
        raise ValidationError("must not be blank")


class RequestSubmitSchema(Schema):
    """The requester is named exactly one way: a registered member by id, anyone else by name."""
    requester_member_id = fields.String(
        load_default=None, allow_none=True, validate=UUID_LENGTH,
        metadata={"description": "A registered member in your scope; or give requester_name."})
    requester_name = fields.String(
        load_default=None, allow_none=True,
        validate=[validate.Length(min=1, max=100), _not_blank],
        metadata={"description": "Someone who is not a registered member; "
                                 "or give requester_member_id."})
    requester_phone = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(
            PHONE_PATTERN,
            error="must be a mainland mobile (11 digits) or a landline with area code"),
        metadata={"description": "Only with requester_name. Returned masked."})
    requester_home_org_id = fields.String(
        load_default=None, allow_none=True, validate=UUID_LENGTH,
        metadata={"description": "Only with requester_name: the home county (org unit) that "
                                 "acts on 收受分离 categories. A member's comes from the registry."})
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank])
    language = fields.String(load_default="zh", validate=LANGUAGE, metadata={
        "description": "The requester's language: routes the request to staff who speak it; "
                       "notices are recorded in it."})
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS),
                            metadata={"description": "Default walk_in (system for office keys); "
                                                     "service_day when service_day_id is given."})
    service_day_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH,
                                   metadata={"description": "Book into a service day (逢场)."})

    # Decided on the raw input, not on the loaded data, so that a name that failed its own
    # validation still counts as given; and run even when other fields failed, so that the
    # caller hears about every problem at once.
    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_way_of_naming_the_requester(self, _data, original, **_kwargs):
        def given(key):
            return original.get(key) is not None

        errors = {}
        if given("requester_member_id") and given("requester_name"):
            both = "give requester_member_id or requester_name, not both"
            errors = {"requester_member_id": [both], "requester_name": [both]}
        elif not given("requester_member_id") and not given("requester_name"):
            neither = "give requester_member_id or requester_name"
            errors = {"requester_member_id": [neither], "requester_name": [neither]}
        elif given("requester_member_id") and given("requester_phone"):
            errors = {"requester_phone": [
                "only with requester_name: a member is reached through the registry"]}
        elif given("requester_member_id") and given("requester_home_org_id"):
            errors = {"requester_home_org_id": [
                "only with requester_name: a member's home org comes from the registry"]}
        if errors:
            raise ValidationError(errors)


class RequestCompleteSchema(Schema):
    outcome = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank], metadata={
        "description": "What was done and the answer given (件件有着落、事事有回音)."})


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank],
                           metadata={"description": "Why: recorded in the ledger."})


class MaterialsMissingSchema(Schema):
    missing = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                          validate=validate.Length(min=1, max=50), metadata={
                              "description": "一次性告知: every missing item at once, from the "
                                             "request's materials_required."})


class SupplementSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=TEXT_LENGTH)


class ForwardSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=TEXT_LENGTH,
                         metadata={"description": "What the home county is asked to do."})


class AssignSchema(Schema):
    assignee = fields.String(required=True, validate=KEY_ID_LENGTH,
                             metadata={"description": "Key id of a staff member of the centre."})
    reason = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank])


class ExtendSchema(Schema):
    extra_working_days = fields.Integer(required=True, strict=True,
                                        validate=validate.Range(min=1, max=30))
    reason = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank])


class RatingSchema(Schema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5),
                           error_messages={"invalid": "a whole number from 1 to 5"},
                           metadata={"description": "1 (差评) … 5 (好评)"})
    comment = fields.String(load_default=None, allow_none=True, validate=TEXT_LENGTH)


class RequestListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    assignee = fields.String(load_default=None, validate=KEY_ID_LENGTH)
    first_owner = fields.String(load_default=None, validate=KEY_ID_LENGTH)
    mine = fields.Boolean(load_default=False, metadata={
        "description": "Only the caller's: assigned to it, or taken first by it (首问)."})
    overdue = fields.Boolean(load_default=None, allow_none=True)


class QueueQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RequestSchema(Schema):
    id = fields.String()
    centre_org_id = fields.String()
    category = fields.String()
    description = fields.String()
    requester_member_id = fields.String(allow_none=True)
    requester_name = fields.String()
    requester_phone = fields.String(allow_none=True,
                                    metadata={"description": "Masked: 138****5678"})
    requester_home_org_id = fields.String(allow_none=True)
    language = fields.String()
    channel = fields.String()
    service_day_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    submitted_by = fields.String(metadata={"description": "API key that took the request in."})
    first_owner = fields.String(allow_none=True, metadata={
        "description": "API key that claimed it first and owns it for good (首问责任制)."})
    assignee = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    time_limit_days = fields.Integer(metadata={"description": "The category's limit at intake."})
    extended_days = fields.Integer()
    home_must_act = fields.Boolean(metadata={"description": "收受分离: the home county must act."})
    materials_required = fields.List(fields.String())
    materials_missing = fields.List(fields.String())
    clock_started_on = fields.Date(allow_none=True)
    deadline = fields.Date(allow_none=True, metadata={
        "description": "Last working day (Beijing); null while the clock is stopped."})
    clock_stopped = fields.Boolean()
    calendar_estimated = fields.Boolean(metadata={
        "description": "True when the count ran into a year whose official holidays are not "
                       "known (weekends only were skipped)."})
    overdue = fields.Boolean()
    overdue_reason = fields.String(allow_none=True)


class RequestStepSchema(Schema):
    step = fields.String(metadata={"description": "submitted, claimed, accepted, started, "
                                                  "materials_missing, supplemented, forwarded, "
                                                  "answer_received, assigned, extended, "
                                                  "completed, rejected, withdrawn, reopened, "
                                                  "deadline_recounted (a year's official "
                                                  "calendar was entered or changed)"})
    actor_key_id = fields.String()
    at = fields.DateTime()
    note = fields.String(allow_none=True)


class NoticeSchema(Schema):
    kind = fields.String(metadata={"description": " | ".join(NOTICE_KINDS)})
    language = fields.String()
    text = fields.String()
    needs_translation = fields.Boolean()
    created_at = fields.DateTime()


class RequestTaskSchema(Schema):
    id = fields.String()
    home_org_id = fields.String()
    status = fields.String()
    result = fields.String(allow_none=True)
    result_note = fields.String(allow_none=True)
    reference_number = fields.String(allow_none=True)


class RequestDetailSchema(RequestSchema):
    steps = fields.List(fields.Nested(RequestStepSchema), metadata={
        "description": "The request's ledger (跟踪服务台账), oldest step first."})
    notices = fields.List(fields.Nested(NoticeSchema))
    home_tasks = fields.List(fields.Nested(RequestTaskSchema))


class RequestPageSchema(Schema):
    items = fields.List(fields.Nested(RequestSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class QueueSchema(Schema):
    items = fields.List(fields.Nested(RequestSchema))


# -- home-county tasks (收受分离) ---------------------------------------------------------------
class TaskAnswerSchema(Schema):
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    note = fields.String(load_default=None, allow_none=True, validate=TEXT_LENGTH)
    reference_number = fields.String(load_default=None, allow_none=True,
                                     validate=validate.Length(min=1, max=100))


class TaskListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, validate=validate.OneOf(TASK_STATUSES))


class TaskSchema(Schema):
    id = fields.String()
    request_id = fields.String()
    home_org_id = fields.String()
    status = fields.String(metadata={"description": " | ".join(TASK_STATUSES)})
    created_at = fields.DateTime()
    note = fields.String(allow_none=True)
    category = fields.String()
    description = fields.String()
    requester_name = fields.String()
    requester_member_id = fields.String(allow_none=True)
    requester_phone = fields.String(allow_none=True)
    accepted_by = fields.String(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)
    result_note = fields.String(allow_none=True)
    reference_number = fields.String(allow_none=True)


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    next_cursor = fields.String(allow_none=True)


# -- rules as data: categories, staff, the calendar ------------------------------------------
class CategoryRuleBodySchema(Schema):
    county_org_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH,
                                  metadata={"description": "A county in your scope; omit (admin) "
                                                           "for the platform default."})
    time_limit_days = fields.Integer(required=True, strict=True,
                                     validate=validate.Range(min=1, max=120))
    materials = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                            required=True, validate=validate.Length(max=50))
    home_must_act = fields.Boolean(required=True)


class CategoryRuleSchema(Schema):
    category = fields.String()
    county_org_id = fields.String(allow_none=True, metadata={
        "description": "Whose rule applies: a county, \"*\" (platform default) or null (built in)."})
    time_limit_days = fields.Integer()
    materials = fields.List(fields.String())
    home_must_act = fields.Boolean()


class CategoryQuerySchema(Schema):
    county_org_id = fields.String(load_default=None, validate=UUID_LENGTH)


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategoryRuleSchema))


class StaffBodySchema(Schema):
    centre_org_id = fields.String(required=True, validate=UUID_LENGTH)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), _not_blank])
    languages = fields.List(fields.String(validate=LANGUAGE), load_default=list,
                            validate=validate.Length(max=10),
                            metadata={"description": "Besides Chinese (always spoken)."})
    is_lead = fields.Boolean(load_default=False)


class StaffSchema(Schema):
    key_id = fields.String()
    centre_org_id = fields.String()
    name = fields.String()
    languages = fields.List(fields.String())
    is_lead = fields.Boolean()


class StaffListSchema(Schema):
    items = fields.List(fields.Nested(StaffSchema))


class CalendarYearBodySchema(Schema):
    holidays = fields.List(Day(), required=True, validate=validate.Length(max=60),
                           metadata={"description": "Statutory holidays (法定节假日)."})
    workdays = fields.List(Day(), required=True, validate=validate.Length(max=20),
                           metadata={"description": "Make-up working days (调休上班)."})


class CalendarDaySchema(Schema):
    day = fields.Date()
    name = fields.String(allow_none=True, metadata={
        "description": "The holiday it belongs to (chinese-calendar's name), or the note "
                       "entered with it."})
    source = fields.String(metadata={"description": "chinese_calendar | entered"})


class CalendarYearSchema(Schema):
    year = fields.Integer()
    source = fields.String(metadata={
        "description": "chinese_calendar | entered | weekends_only_estimate (neither knows the "
                       "year: deadlines in it skip weekends only and are flagged estimated)"})
    holidays = fields.List(fields.Nested(CalendarDaySchema), metadata={
        "description": "Statutory holidays (法定节假日), weekend days inside a holiday included."})
    workdays = fields.List(fields.Nested(CalendarDaySchema), metadata={
        "description": "Make-up working days (调休上班) that fall on a weekend."})


class DeadlinePreviewQuerySchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    received_on = Day(required=True, metadata={
        "description": "The day the centre would receive the request (a date in Beijing)."})
    county_org_id = fields.String(load_default=None, validate=UUID_LENGTH, metadata={
        "description": "The requester's home county (its own rule may apply); default: the "
                       "platform's rule."})

    @validates_schema(skip_on_field_errors=True)
    def _within_the_calendar(self, data, **_kwargs):
        if not 2000 <= data["received_on"].year <= 2099:
            raise ValidationError({"received_on": ["between 2000 and 2099"]})


class DeadlinePreviewSchema(Schema):
    category = fields.String()
    rule_county_org_id = fields.String(allow_none=True, metadata={
        "description": "Whose rule applied: a county, \"*\" (platform default) or null (built in)."})
    received_on = fields.Date()
    time_limit_days = fields.Integer()
    deadline = fields.Date(metadata={"description": "The last working day to complete it."})
    warn_on = fields.Date(metadata={"description": "The day of the early warning."})
    calendar_estimated = fields.Boolean(metadata={
        "description": "The count ran into a year whose official schedule nobody knows yet."})
    days_off = fields.List(fields.Date(), metadata={
        "description": "The days the count skipped (weekends and holidays, not make-up days)."})


# -- reports -------------------------------------------------------------------------------------
class MonthQuerySchema(Schema):
    month = fields.String(required=True, validate=MONTH)


class OptionalMonthQuerySchema(Schema):
    month = fields.String(load_default=None, validate=MONTH)


class ExportQuerySchema(Schema):
    month = fields.String(required=True, validate=MONTH)
    format = fields.String(load_default="csv", validate=validate.OneOf(exports.FORMATS))


class RegisterRowSchema(Schema):
    centre_org_id = fields.String()
    month = fields.String()
    received = fields.Integer()
    done_on_time = fields.Integer()
    done_late = fields.Integer()
    still_open = fields.Integer()
    overdue = fields.Integer()
    rejected = fields.Integer()
    withdrawn = fields.Integer()


class RegisterSchema(Schema):
    items = fields.List(fields.Nested(RegisterRowSchema))


class CategoryStatsSchema(Schema):
    centre_org_id = fields.String()
    category = fields.String()
    received = fields.Integer()
    completed = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    median_handling_hours = fields.Float(allow_none=True)
    backlog = fields.Integer()


class RatingAverageSchema(Schema):
    centre_org_id = fields.String()
    first_owner = fields.String(allow_none=True)
    ratings = fields.Integer()
    average = fields.Float()


class StatisticsSchema(Schema):
    month = fields.String(allow_none=True)
    by_category = fields.List(fields.Nested(CategoryStatsSchema))
    ratings_by_centre = fields.List(fields.Nested(RatingAverageSchema))
    ratings_by_staff = fields.List(fields.Nested(RatingAverageSchema))


class ExportSchema(Schema):
    """A file as it crosses RPC; the gateway answers it as a download (never as JSON)."""
    filename = fields.String()
    content_type = fields.String()
    rows = fields.Integer()
    content_base64 = fields.String(metadata={"description": "The file, base64-encoded."})


class RatingReplySchema(Schema):
    request_id = fields.String()
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    recorded_by = fields.String()
    created_at = fields.DateTime()


class ServiceDayBodySchema(Schema):
    day = Day(required=True, years_ahead=1)
    site = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])


class ServiceDaySchema(Schema):
    id = fields.String()
    centre_org_id = fields.String()
    day = fields.Date()
    site = fields.String()
    created_by = fields.String()


class ServiceDayListSchema(Schema):
    items = fields.List(fields.Nested(ServiceDaySchema))


class ServiceDayOutcomeSchema(Schema):
    booked = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    completed = fields.Integer()
    still_open = fields.Integer()


class ServiceDayReportSchema(ServiceDaySchema):
    requests = fields.List(fields.Nested(RequestSchema))
    outcome = fields.Nested(ServiceDayOutcomeSchema)


# -- the staff console's workspace (read-only views; actions use the request bodies above) ------
class ConsoleQueueQuerySchema(Schema):
    queue = fields.String(load_default="todo", validate=validate.OneOf(
        ("todo", "mine", "due", "materials", "forwarded", "done", "all")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=5, max=100))
    sort = fields.String(load_default="deadline",
                         validate=validate.OneOf(("deadline", "newest", "oldest")))
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    language = fields.String(load_default=None, validate=LANGUAGE)
    service_day_id = fields.String(load_default=None, validate=UUID_LENGTH)
    received_from = Day(load_default=None)
    received_to = Day(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100), metadata={
        "description": "Requester name (part), phone tail (3+ digits) or request number "
                       "(start of the id)."})


class TimeLeftSchema(Schema):
    time_state = fields.String(metadata={
        "description": "on_track | warning | overdue | stopped | not_started | ended"})
    working_days_left = fields.Integer(allow_none=True, metadata={
        "description": "Working days until the deadline (0: due today)."})
    days_overdue = fields.Integer(allow_none=True)
    warn_on = fields.Date(allow_none=True)


class ConsoleRowSchema(RequestSchema, TimeLeftSchema):
    first_owner_name = fields.String(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    centre_name = fields.String(allow_none=True)
    requester_home_name = fields.String(allow_none=True)


class ConsoleQueueSchema(Schema):
    queue = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(ConsoleRowSchema))


class ConsoleStepSchema(RequestStepSchema):
    actor_name = fields.String(allow_none=True)


class ConsoleTaskSchema(RequestTaskSchema):
    home_org_name = fields.String(allow_none=True)


class ConsoleServiceDaySchema(Schema):
    id = fields.String()
    day = fields.Date()
    site = fields.String()


class ConsoleStaffSchema(Schema):
    key_id = fields.String()
    name = fields.String()
    languages = fields.List(fields.String())
    is_lead = fields.Boolean()


class ConsoleRequestSchema(ConsoleRowSchema):
    steps = fields.List(fields.Nested(ConsoleStepSchema))
    notices = fields.List(fields.Nested(NoticeSchema))
    home_tasks = fields.List(fields.Nested(ConsoleTaskSchema))
    category_name = fields.String()
    submitted_by_name = fields.String(allow_none=True)
    rule = fields.Dict()
    rating = fields.Dict(allow_none=True)
    service_day = fields.Nested(ConsoleServiceDaySchema, allow_none=True)
    staff = fields.List(fields.Nested(ConsoleStaffSchema))
    viewer = fields.Dict()
