"""marshmallow schemas of the members API: request bodies (unknown fields rejected) and replies.
The gateway builds its OpenAPI document from these. The entrypoints load and dump with them;
the enums they check are the domain modules' own."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.plumbing.fields import Day, StrictDecimal
from services.plumbing.money import Money
from services.plumbing.phones import PHONE_PATTERN
from services.plumbing.text import storable

from .activities import ACTIVITY_KINDS
from .care import HARDSHIP_KINDS, TALENT_KINDS
from .flows import CONTACT_METHODS, REPORT_STATUSES, REPORT_UNVERIFIED
from .notices import KINDS as NOTICE_KINDS
from .orgs import KINDS
from .registry import CATEGORIES, OCCUPATIONS, STATUSES


class Text(fields.String):
    """A string a database can store: PostgreSQL refuses NUL characters, and a lone surrogate
    (valid in JSON's \\u escapes) is not UTF-8. Both are the caller's mistake, so a 400."""

    default_error_messages = {"unstorable": "must not contain NUL or unpaired surrogate characters"}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not storable(value):
            raise self.make_error("unstorable")
        return value


UUID_LENGTH = validate.Length(min=1, max=36)
NAME = validate.Length(min=1, max=100)
SHORT_TEXT = validate.Length(min=1, max=200)


def string_list(**kwargs):
    return fields.List(Text(validate=validate.Length(min=1, max=50)),
                       validate=validate.Length(max=20), **kwargs)


def _not_blank(value):
    if not value.strip():
        raise ValidationError("must not be blank")


class OrgUnitCreateSchema(Schema):
    parent_id = Text(load_default=None, allow_none=True, validate=UUID_LENGTH,
                              metadata={"description": "Parent unit; omit for a top-level unit."})
    kind = Text(required=True, validate=validate.OneOf(KINDS))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    city = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))
    contact = Text(load_default=None, allow_none=True, validate=validate.Length(max=200),
                            metadata={"description": "Contact person and phone."})


class OrgUnitMoveSchema(Schema):
    parent_id = Text(required=True, validate=UUID_LENGTH)


class OrgUnitSchema(Schema):
    id = Text()
    parent_id = Text(allow_none=True)
    kind = Text()
    name = Text()
    city = Text(allow_none=True)
    contact = Text(allow_none=True)
    path = Text(metadata={"description": "Materialised path: ids from the root, '/'-separated"})
    closed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class OrgUnitListSchema(Schema):
    items = fields.List(fields.Nested(OrgUnitSchema))


class OrgUnitCountsSchema(Schema):
    org = fields.Nested(OrgUnitSchema)
    home_members = fields.Integer()
    host_members = fields.Integer()
    subtree_home_members = fields.Integer()
    subtree_host_members = fields.Integer()


class OrgSubtreeSchema(Schema):
    items = fields.List(fields.Nested(OrgUnitCountsSchema))


class MemberFieldsSchema(Schema):
    joined_party_on = Day(load_default=None, allow_none=True)
    category = Text(load_default=None, allow_none=True,
                             validate=validate.OneOf(CATEGORIES), metadata={
                                 "description": "working: working or settled there; "
                                                "non_working_resident: living there without work "
                                                "(e.g. caring for grandchildren); stationed: sent by "
                                                "an office or company"})
    occupation = Text(load_default=None, allow_none=True,
                               validate=validate.OneOf(OCCUPATIONS),
                               metadata={"description": "务工, 经商办企业, 企业就职, other"})
    languages = string_list(metadata={"description": "e.g. 普通话, 藏语"})
    skills = string_list()
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class MemberCreateSchema(MemberFieldsSchema):
    name = Text(required=True, validate=NAME, metadata={
        "description": "Any script: simplified or traditional Chinese, Tibetan, …"})
    id_number = Text(required=True, metadata={
        "description": "Resident-ID number: 18 characters with a valid check digit, or a "
                       "legacy 15-digit number. Never returned unmasked. Gender and birth date "
                       "are derived from it."})
    phone = Text(required=True, validate=validate.Regexp(
        PHONE_PATTERN, error="must be a mainland mobile (11 digits) or a landline with area code"))
    home_org_id = Text(required=True, validate=UUID_LENGTH)
    host_org_id = Text(load_default=None, allow_none=True, validate=UUID_LENGTH,
                                metadata={"description": "With a host org the member is 待报到 "
                                                         "(pending) until the host accepts."})

    @validates("name")
    def _name_not_blank(self, value, **_kwargs):
        _not_blank(value)


class MemberUpdateSchema(Schema):
    name = Text(validate=NAME)
    phone = Text(validate=validate.Regexp(PHONE_PATTERN, error="not a phone number"))
    joined_party_on = Day(allow_none=True)
    category = Text(allow_none=True, validate=validate.OneOf(CATEGORIES))
    occupation = Text(allow_none=True, validate=validate.OneOf(OCCUPATIONS))
    languages = string_list()
    skills = string_list()
    notes = Text(allow_none=True, validate=validate.Length(max=2000))

    @validates("name")
    def _name_not_blank(self, value, **_kwargs):
        _not_blank(value)


class MemberSchema(Schema):
    id = Text()
    name = Text()
    id_number = Text(metadata={"description": "Masked: 110101********123X"})
    phone = Text(metadata={"description": "Masked: 138****5678"})
    gender = Text(allow_none=True)
    birth_date = Day(allow_none=True)
    joined_party_on = Day(allow_none=True)
    category = Text(allow_none=True)
    occupation = Text(allow_none=True)
    languages = fields.List(Text())
    skills = fields.List(Text())
    notes = Text(allow_none=True)
    home_org_id = Text()
    host_org_id = Text(allow_none=True)
    status = Text(metadata={"description": ", ".join(STATUSES)})
    lost_contact_on = Day(allow_none=True)
    giving_total = fields.Decimal(as_string=True, places=2)
    created_at = fields.DateTime()


class IdNumberSchema(Schema):
    id_number = Text()


class MemberFilterSchema(Schema):
    home_org_id = Text(load_default=None, validate=UUID_LENGTH,
                       metadata={"description": "Home org's subtree"})
    host_org_id = Text(load_default=None, validate=UUID_LENGTH,
                       metadata={"description": "Host org's subtree"})
    status = Text(load_default=None, validate=validate.OneOf(STATUSES))
    category = Text(load_default=None, validate=validate.OneOf(CATEGORIES))
    occupation = Text(load_default=None, validate=validate.OneOf(OCCUPATIONS))
    lost_contact = fields.Boolean(load_default=None)
    age_min = fields.Integer(load_default=None, validate=validate.Range(min=0, max=150))
    age_max = fields.Integer(load_default=None, validate=validate.Range(min=0, max=150))
    as_of = Day(load_default=None, metadata={"description": "Date ages are computed at; today by default"})
    name = Text(load_default=None, validate=validate.Length(min=1, max=100),
                metadata={"description": "Part of the name."})


class MemberListQuerySchema(MemberFilterSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, allow_none=True)


class MemberExportQuerySchema(MemberFilterSchema):
    """The list endpoint's filters; the whole matching ledger is exported."""


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    next_cursor = Text(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


# -- flows ---------------------------------------------------------------------------------------
class FlowActionSchema(Schema):
    host_org_id = Text(load_default=None, allow_none=True, validate=UUID_LENGTH,
                                metadata={"description": "Target host org (flow-out and move only)"})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "Required to refuse"})
    occurred_on = Day(load_default=None, allow_none=True,
                              metadata={"description": "When it happened (lost contact on, found on); "
                                                       "today by default"})


class FlowRecordSchema(Schema):
    id = fields.Integer()
    action = Text()
    from_status = Text(allow_none=True)
    to_status = Text()
    from_host_org_id = Text(allow_none=True)
    to_host_org_id = Text(allow_none=True)
    actor_key_id = Text()
    actor_org_id = Text(allow_none=True)
    reason = Text(allow_none=True)
    occurred_on = Day()
    created_at = fields.DateTime()


class FlowHistorySchema(Schema):
    items = fields.List(fields.Nested(FlowRecordSchema))


class SelfReportCreateSchema(Schema):
    name = Text(required=True, validate=NAME)
    id_number = Text(required=True)
    phone = Text(required=True, validate=validate.Regexp(PHONE_PATTERN, error="not a phone number"))
    home_org_id = Text(required=True, validate=UUID_LENGTH,
                                metadata={"description": "The home unit the member names"})
    host_org_id = Text(required=True, validate=UUID_LENGTH,
                                metadata={"description": "The host unit reported to (in your scope)"})

    @validates("name")
    def _name_not_blank(self, value, **_kwargs):
        _not_blank(value)


class SelfReportDecisionSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class SelfReportListQuerySchema(Schema):
    status = Text(load_default=REPORT_UNVERIFIED, validate=validate.OneOf(REPORT_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, allow_none=True)


class SelfReportSchema(Schema):
    id = Text()
    host_org_id = Text()
    home_org_id = Text()
    name = Text()
    id_number = Text(metadata={"description": "Masked"})
    status = Text()
    reason = Text(allow_none=True)
    member_id = Text(allow_none=True)
    created_at = fields.DateTime()


class SelfReportPageSchema(Schema):
    items = fields.List(fields.Nested(SelfReportSchema))
    next_cursor = Text(allow_none=True)


class ContactAttemptCreateSchema(Schema):
    attempted_on = Day(required=True)
    method = Text(required=True, validate=validate.OneOf(CONTACT_METHODS))
    outcome = Text(required=True, validate=validate.Length(min=1, max=1000))


class ContactAttemptSchema(Schema):
    id = Text()
    member_id = Text()
    org_id = Text(allow_none=True)
    attempted_on = Day()
    method = Text()
    outcome = Text()
    created_at = fields.DateTime()


class ContactAttemptListSchema(Schema):
    items = fields.List(fields.Nested(ContactAttemptSchema))


class YearQuerySchema(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=1921, max=2200))


class FoundStatSchema(Schema):
    org_id = Text(allow_none=True, metadata={"description": "The org that found them"})
    month = Text()
    found = fields.Integer()


class FoundStatsSchema(Schema):
    items = fields.List(fields.Nested(FoundStatSchema))


# -- life of the branch ---------------------------------------------------------------------------


class ActivityCreateSchema(Schema):
    org_id = Text(required=True, validate=UUID_LENGTH)
    kind = Text(required=True, validate=validate.OneOf(ACTIVITY_KINDS), metadata={
        "description": "三会一课, 主题党日, 电影党课, study contest, red-education visit, "
                       "volunteer service, community service, other"})
    title = Text(required=True, validate=SHORT_TEXT)
    place = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    held_on = Day(required=True, years_ahead=1)


class ActivitySchema(Schema):
    id = Text()
    org_id = Text()
    kind = Text()
    title = Text()
    place = Text(allow_none=True)
    held_on = Day()
    created_at = fields.DateTime()


class ParticipationCreateSchema(Schema):
    member_id = Text(required=True, validate=UUID_LENGTH)
    volunteer_hours = StrictDecimal(load_default=None, allow_none=True, places=2,
                                    validate=validate.Range(min=0, max=1000),
                                    metadata={"description": "Attendance only: hours served"})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "Leave requests only"})


class ParticipationSchema(Schema):
    activity_id = Text()
    member_id = Text()
    status = Text(metadata={"description": "signed_up, attended or on_leave"})
    leave_reason = Text(allow_none=True)
    volunteer_hours = fields.Decimal(as_string=True, places=2)
    points_awarded = fields.Integer(allow_none=True)


class TallyQuerySchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1921, max=2200))
    org_id = Text(load_default=None, validate=UUID_LENGTH,
                           metadata={"description": "Subtree to count; the caller's by default"})


class TallyRowSchema(Schema):
    org_id = Text()
    kind = Text()
    count = fields.Integer()


class TallySchema(Schema):
    year = fields.Integer()
    rows = fields.List(fields.Nested(TallyRowSchema), metadata={"description": "per org and kind"})
    totals = fields.Dict(keys=Text(), values=fields.Integer(),
                         metadata={"description": "per kind over the whole subtree"})


class PointRuleSchema(Schema):
    county_org_id = Text(required=True, validate=UUID_LENGTH)
    activity_kind = Text(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    points = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000))


class PointRuleListSchema(Schema):
    items = fields.List(fields.Nested(PointRuleSchema))


class PointRuleQuerySchema(Schema):
    county_org_id = Text(required=True, validate=UUID_LENGTH)


class PointAwardSchema(Schema):
    points = fields.Integer(required=True, strict=True,
                            validate=validate.Range(min=-1000, max=1000))
    reason = Text(required=True, validate=SHORT_TEXT)
    earned_on = Day(required=True)


class PointEntrySchema(Schema):
    id = Text()
    member_id = Text()
    earned_at_org_id = Text()
    activity_id = Text(allow_none=True)
    points = fields.Integer()
    reason = Text()
    earned_on = Day()


class PointLedgerSchema(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(PointEntrySchema))


class RankingQuerySchema(Schema):
    org_id = Text(load_default=None, validate=UUID_LENGTH,
                           metadata={"description": "Members of this org's subtree (home or host); "
                                                    "the caller's by default"})
    year = fields.Integer(required=True, validate=validate.Range(min=1921, max=2200))
    month = fields.Integer(load_default=None, validate=validate.Range(min=1, max=12),
                           metadata={"description": "Omit for the yearly ranking"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class RankingRowSchema(Schema):
    rank = fields.Integer()
    member_id = Text()
    name = Text()
    points = fields.Integer()


class RankingSchema(Schema):
    period = Text()
    items = fields.List(fields.Nested(RankingRowSchema))


class VolunteerHoursRowSchema(Schema):
    activity_id = Text()
    title = Text()
    held_on = Day()
    hours = fields.Decimal(as_string=True, places=2)


class VolunteerHoursSchema(Schema):
    member_id = Text()
    total = fields.Decimal(as_string=True, places=2)
    items = fields.List(fields.Nested(VolunteerHoursRowSchema))


# -- care, talent, notices ------------------------------------------------------------------------
class ElderlyQuerySchema(Schema):
    as_of = Day(load_default=None, metadata={"description": "Age as of this date; today by default"})
    age = fields.Integer(load_default=60, validate=validate.Range(min=0, max=150))
    org_id = Text(load_default=None, validate=UUID_LENGTH)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, allow_none=True)


class CareVisitCreateSchema(Schema):
    visited_on = Day(required=True)
    notes = Text(required=True, validate=validate.Length(min=1, max=2000))


class CareVisitSchema(Schema):
    id = Text()
    member_id = Text()
    org_id = Text(allow_none=True)
    visited_on = Day()
    notes = Text()


class CareVisitListSchema(Schema):
    items = fields.List(fields.Nested(CareVisitSchema))


class HardshipHelpCreateSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf(HARDSHIP_KINDS),
                         metadata={"description": "生活 living, 创业 business, 家庭 family"})
    amount = Money(required=True, minimum_exclusive=Decimal("0.00"))
    granted_on = Day(required=True)
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class HardshipHelpSchema(Schema):
    id = Text()
    member_id = Text()
    org_id = Text(allow_none=True)
    kind = Text()
    amount = Money()
    granted_on = Day()
    notes = Text(allow_none=True)


class HardshipHelpListSchema(Schema):
    total = Money()
    items = fields.List(fields.Nested(HardshipHelpSchema))


class HonourCreateSchema(Schema):
    member_id = Text(load_default=None, allow_none=True, validate=UUID_LENGTH)
    org_id = Text(load_default=None, allow_none=True, validate=UUID_LENGTH,
                           metadata={"description": "For an org honour (先进集体); exactly one of member_id, org_id"})
    title = Text(required=True, validate=SHORT_TEXT, metadata={"example": "优秀共产党员"})
    awarded_on = Day(required=True)


class HonourSchema(Schema):
    id = Text()
    member_id = Text(allow_none=True)
    org_id = Text(allow_none=True)
    title = Text()
    awarded_on = Day()
    awarded_by_org_id = Text(allow_none=True)


class HonourListSchema(Schema):
    items = fields.List(fields.Nested(HonourSchema))


class HonourQuerySchema(Schema):
    member_id = Text(load_default=None, validate=UUID_LENGTH)
    org_id = Text(load_default=None, validate=UUID_LENGTH)


class TalentReturnCreateSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf(TALENT_KINDS),
                         metadata={"description": "返乡创业, 村干部, 支部书记"})
    returned_on = Day(required=True)
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TalentReturnSchema(Schema):
    id = Text()
    member_id = Text()
    kind = Text()
    returned_on = Day()
    notes = Text(allow_none=True)


class TalentReportQuerySchema(Schema):
    org_id = Text(load_default=None, validate=UUID_LENGTH,
                           metadata={"description": "County (or any home unit); the caller's by default"})
    year = fields.Integer(load_default=None, validate=validate.Range(min=1921, max=2200))


class TalentReportSchema(Schema):
    counts = fields.Dict(keys=Text(), values=fields.Integer())
    items = fields.List(fields.Nested(TalentReturnSchema))


class NoticeCreateSchema(Schema):
    org_id = Text(required=True, validate=UUID_LENGTH,
                           metadata={"description": "Sender: every mobile member (pending or active) "
                                                    "whose home or host org lies in its subtree receives it"})
    kind = Text(load_default="letter_from_home", validate=validate.OneOf(NOTICE_KINDS))
    title = Text(required=True, validate=SHORT_TEXT)
    body = Text(required=True, validate=validate.Length(min=1, max=20000))


class MemberNoticeSchema(Schema):
    id = Text()
    org_id = Text()
    kind = Text()
    title = Text()
    body = Text()
    delivered_count = fields.Integer()
    delivered_at = fields.DateTime(allow_none=True)
    read_count = fields.Integer()
    unread_count = fields.Integer()
    unread_by_host_org = fields.Dict(keys=Text(), values=fields.Integer(),
                                     metadata={"description": "Unread per host org id ('none' when at home)"})
    created_at = fields.DateTime()


class NoticeReadSchema(Schema):
    member_id = Text(required=True, validate=UUID_LENGTH)


class NoticeDeliverySchema(Schema):
    member_id = Text()
    name = Text()
    host_org_id = Text(allow_none=True)
    delivered_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NoticeDeliveryQuerySchema(Schema):
    unread = fields.Boolean(load_default=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = Text(load_default=None, allow_none=True,
                           metadata={"description": "The member id to continue after"})


class NoticeDeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(NoticeDeliverySchema))
    next_cursor = Text(allow_none=True)


# -- bulk import and export, reports -------------------------------------------------------------
IMPORT_COLUMNS = ("name", "id_number", "phone", "home_org_id", "host_org_id", "category",
                  "occupation", "joined_party_on", "languages", "skills", "notes")
# An exported ledger has the import's columns under the same names plus these, which an import
# reads past: so an export can be corrected and imported back.
EXPORT_ONLY_COLUMNS = ("id", "gender", "birth_date", "status", "home_org", "host_org",
                       "host_city", "lost_contact_on")
# An import's error file adds these around the file's own columns; an import reads past them.
ERROR_FILE_COLUMNS = ("source_row", "reason")
FILE_FORMATS = ("csv", "xlsx")
IMPORT_FILE_DESCRIPTION = (
    "First row: the column names " + ", ".join(IMPORT_COLUMNS) + " (name, id_number, phone, "
    "home_org_id required; languages and skills separated by ';'; an exported ledger's other "
    "columns and an error file's source_row and reason are read past). CSV in UTF-8.")


class ImportCreateSchema(Schema):
    """The JSON form of an upload (the multipart form sends the same fields with a `file`)."""
    format = Text(load_default=None, validate=validate.OneOf(FILE_FORMATS), metadata={
        "description": "csv or xlsx; taken from the file name when left out"})
    filename = Text(load_default=None, validate=validate.Length(min=1, max=255))
    content_base64 = Text(required=True, validate=validate.Length(min=1), metadata={
        "description": "The file, base64-encoded. " + IMPORT_FILE_DESCRIPTION})


class ImportOpenSchema(Schema):
    """The caller's own fields of an upload (the JSON form's, or the multipart form's)."""
    format = Text(load_default=None, validate=validate.OneOf(FILE_FORMATS))
    filename = Text(load_default=None, validate=validate.Length(min=1, max=255))


class ImportFileSchema(Schema):
    """What the gateway says of the file before it sends it in pieces."""
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = Text(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ImportRowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "Row number in the file (the header is row 1)"})
    fields = fields.Dict(keys=Text(), values=fields.List(Text()))


class ImportDuplicateRowSchema(Schema):
    row = fields.Integer(metadata={"description": "Row number in the file (the header is row 1)"})
    of = Text(metadata={"description": "file_row: the same ID number as an earlier row of this "
                                       "file; member: an already registered member"})
    duplicate_of_row = fields.Integer(allow_none=True)
    member_id = Text(allow_none=True, metadata={
        "description": "The registered member, only when the importer may see it"})


class ImportBatchSchema(Schema):
    id = Text()
    status = Text(metadata={"description": "uploading, queued, running, done or failed"})
    file_format = Text()
    filename = Text(allow_none=True)
    file_size = fields.Integer()
    total_rows = fields.Integer(metadata={"description": "Data rows in the file (an XLSX "
                                                         "sheet's own count until it is read)"})
    processed_rows = fields.Integer()
    rows_per_second = fields.Float(allow_none=True)
    seconds_left = fields.Float(allow_none=True, metadata={"description": "Estimated"})
    imported = fields.Integer()
    duplicates = fields.Integer(metadata={
        "description": "Rows skipped as duplicates: of an earlier row or a registered member"})
    invalid = fields.Integer(metadata={"description": "Rows with errors"})
    errors = fields.List(fields.Nested(ImportRowErrorSchema))
    duplicate_rows = fields.List(fields.Nested(ImportDuplicateRowSchema))
    problems_listed = fields.Integer(metadata={
        "description": "Errors and duplicates listed here (at most 1000); the error file has all"})
    failure = Text(allow_none=True, metadata={"description": "Why a failed import stopped"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class MemberExportSchema(Schema):
    """What the service hands the gateway, which sends the file itself."""
    filename = Text()
    content_type = Text()
    rows = fields.Integer()
    content_base64 = Text()


class OrgReportQuerySchema(Schema):
    org_id = Text(load_default=None, validate=UUID_LENGTH,
                           metadata={"description": "A county or committee; the caller's unit by default"})
    year = fields.Integer(load_default=None, validate=validate.Range(min=1921, max=2200))


class MemberReportSchema(Schema):
    total = fields.Integer()
    by_host_city = fields.Dict(keys=Text(), values=fields.Integer())
    by_category = fields.Dict(keys=Text(), values=fields.Integer())
    by_status = fields.Dict(keys=Text(), values=fields.Integer())


class FlowMonthSchema(Schema):
    month = Text()
    flowed_out = fields.Integer()
    accepted = fields.Integer()
    refused = fields.Integer()
    moved = fields.Integer()
    returned = fields.Integer()
    lost_contact = fields.Integer()
    found = fields.Integer()


class FlowReportSchema(Schema):
    items = fields.List(fields.Nested(FlowMonthSchema))
