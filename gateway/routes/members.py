"""Org units, members, their flow lifecycle and the branch ledger (the members service)."""
import base64
import binascii
import hashlib
import io
import logging

from ..errors import HttpError
from .files import XLSX_TYPE, download
from .table import ALL_ROLES, Route

MEMBERS = "services.members.schemas"
log = logging.getLogger("gateway")
OFFICE = ("office", "admin")
# who reads members and their records: their offices, the service centres, admins
MEMBER_READERS = ("office", "desk_staff", "admin")


def _call(method, *path_args, body=False, query=False, optional_body=False):
    """A handler that forwards path arguments (and the body or query) to one members RPC."""
    def handler(ctx, **kwargs):
        args = [kwargs[name] for name in path_args]
        if body:
            args.append(ctx.json_body(optional=optional_body))
        if query:
            args.append(ctx.query())
        return ctx.call("members", method, *args)
    return handler


def flow_step(action):
    def handler(ctx, member_id):
        return ctx.call("members", "flow_step", member_id, action, ctx.json_body(optional=True))
    return handler


def decide_self_report(accept):
    def handler(ctx, report_id):
        return ctx.call("members", "decide_self_report", report_id, accept,
                        ctx.json_body(optional=True))
    return handler


FLOW_STEPS = (
    ("flow_out", "flow-out", "Home org registers a flow-out to a host org (待报到)",
     ("office", "admin")),
    ("accept", "accept", "Host org accepts a pending member (已流入)", ("office", "admin")),
    ("refuse", "refuse", "Host org refuses a pending member, with a reason", ("office", "admin")),
    ("move", "move", "Move an accepted member to another host org of the caller's subtree",
     ("office", "admin")),
    ("return_home", "return-home", "The member returned home (回归)", ("office", "admin")),
    ("lose_contact", "lose-contact", "The member lost contact (失联) on a date",
     ("office", "admin")),
    ("found", "found", "A lost-contact member was found again", ("office", "admin")),
)

ROUTES = (
    Route("create_org_unit", "POST", "/api/v1/org-units", _call("create_org_unit", body=True),
          "Create an org unit in a home-side or host-side tree", "org units", ("admin",),
          body=f"{MEMBERS}:OrgUnitCreateSchema", response=f"{MEMBERS}:OrgUnitSchema", status=201),
    Route("list_org_units", "GET", "/api/v1/org-units", _call("list_org_units"),
          "Org units in the caller's subtree", "org units", ALL_ROLES,
          response=f"{MEMBERS}:OrgUnitListSchema"),
    Route("get_org_unit", "GET", "/api/v1/org-units/<org_id>",
          _call("get_org_unit", "org_id"),
          "One org unit of the caller's subtree", "org units", ALL_ROLES,
          response=f"{MEMBERS}:OrgUnitSchema"),
    Route("move_org_unit", "POST", "/api/v1/org-units/<org_id>/move",
          _call("move_org_unit", "org_id", body=True),
          "Move a unit (and its subtree) under another parent of the same tree", "org units",
          ("admin",), body=f"{MEMBERS}:OrgUnitMoveSchema", response=f"{MEMBERS}:OrgUnitSchema"),
    Route("close_org_unit", "POST", "/api/v1/org-units/<org_id>/close",
          _call("close_org_unit", "org_id"),
          "Close a unit; refused (409) while members or open units remain", "org units",
          ("admin",), response=f"{MEMBERS}:OrgUnitSchema"),
    Route("org_subtree", "GET", "/api/v1/org-units/<org_id>/subtree",
          _call("org_subtree", "org_id"),
          "A unit's subtree with member counts per unit and per subtree", "org units", ALL_ROLES,
          response=f"{MEMBERS}:OrgSubtreeSchema"),

    Route("register_member", "POST", "/api/v1/members", _call("register_member", body=True),
          "Register a mobile party member", "members", OFFICE,
          body=f"{MEMBERS}:MemberCreateSchema", response=f"{MEMBERS}:MemberSchema", status=201),
    Route("list_members", "GET", "/api/v1/members", _call("list_members", query=True),
          "Members visible to the caller (home or host subtree), oldest first, filtered",
          "members", MEMBER_READERS,
          query=f"{MEMBERS}:MemberListQuerySchema", response=f"{MEMBERS}:MemberPageSchema"),
    Route("get_member", "GET", "/api/v1/members/<member_id>",
          _call("get_member", "member_id"),
          "One member (ID number and phone masked)", "members", MEMBER_READERS,
          response=f"{MEMBERS}:MemberSchema"),
    Route("update_member", "PATCH", "/api/v1/members/<member_id>",
          _call("update_member", "member_id", body=True),
          "Update a member's record fields (not home, host or status)", "members", OFFICE,
          body=f"{MEMBERS}:MemberUpdateSchema", response=f"{MEMBERS}:MemberSchema"),
    Route("reveal_id_number", "GET", "/api/v1/members/<member_id>/id-number",
          _call("reveal_id_number", "member_id"),
          "The full ID number: only the member's home side (office) or a platform admin",
          "members", OFFICE, response=f"{MEMBERS}:IdNumberSchema"),
    Route("member_history", "GET", "/api/v1/members/<member_id>/history",
          _call("member_history", "member_id"),
          "The member's append-only flow history", "flows", MEMBER_READERS,
          response=f"{MEMBERS}:FlowHistorySchema"),
) + tuple(
    Route(f"member_{action}", "POST", f"/api/v1/members/<member_id>/{segment}", flow_step(action),
          summary, "flows", roles, body=f"{MEMBERS}:FlowActionSchema",
          response=f"{MEMBERS}:MemberSchema")
    for action, segment, summary, roles in FLOW_STEPS
) + (
    Route("create_self_report", "POST", "/api/v1/self-reports", _call("create_self_report", body=True),
          "A member reports in (主动报到) at a host unit of the caller's subtree", "self-reports",
          ("office", "desk_staff"), body=f"{MEMBERS}:SelfReportCreateSchema",
          response=f"{MEMBERS}:SelfReportSchema", status=201),
    Route("list_self_reports", "GET", "/api/v1/self-reports",
          _call("list_self_reports", query=True),
          "The verification queue of self-reports at the caller's host units", "self-reports",
          ("office", "desk_staff", "admin"), query=f"{MEMBERS}:SelfReportListQuerySchema",
          response=f"{MEMBERS}:SelfReportPageSchema"),
    Route("accept_self_report", "POST", "/api/v1/self-reports/<report_id>/accept",
          decide_self_report(True),
          "Verify and accept a self-report: the member flows in at the report's host unit",
          "self-reports", ("office",), body=f"{MEMBERS}:SelfReportDecisionSchema",
          response=f"{MEMBERS}:SelfReportSchema"),
    Route("refuse_self_report", "POST", "/api/v1/self-reports/<report_id>/refuse",
          decide_self_report(False), "Refuse a self-report, with a reason", "self-reports",
          ("office",), body=f"{MEMBERS}:SelfReportDecisionSchema",
          response=f"{MEMBERS}:SelfReportSchema"),
    Route("log_contact_attempt", "POST", "/api/v1/members/<member_id>/contact-attempts",
          _call("log_contact_attempt", "member_id", body=True),
          "Log an attempt to reach a lost-contact member (组织找人)", "finding members",
          ("office", "desk_staff"), body=f"{MEMBERS}:ContactAttemptCreateSchema",
          response=f"{MEMBERS}:ContactAttemptSchema", status=201),
    Route("list_contact_attempts", "GET", "/api/v1/members/<member_id>/contact-attempts",
          _call("list_contact_attempts", "member_id"),
          "Contact attempts for a member", "finding members", MEMBER_READERS,
          response=f"{MEMBERS}:ContactAttemptListSchema"),
    Route("found_stats", "GET", "/api/v1/reports/found",
          _call("found_stats", query=True),
          "Members found again per finding org and month", "reports", ("office", "ops", "admin"),
          query=f"{MEMBERS}:YearQuerySchema", response=f"{MEMBERS}:FoundStatsSchema"),
)


def participate(step):
    def handler(ctx, activity_id):
        return ctx.call("members", "participate", activity_id, step, ctx.json_body())
    return handler


ROUTES += (
    Route("create_activity", "POST", "/api/v1/activities",
          _call("create_activity", body=True),
          "Publish an activity of an org unit in the caller's subtree", "activities",
          ("office",), body=f"{MEMBERS}:ActivityCreateSchema",
          response=f"{MEMBERS}:ActivitySchema", status=201),
    Route("get_activity", "GET", "/api/v1/activities/<activity_id>",
          _call("get_activity", "activity_id"), "One activity", "activities",
          ("office", "admin"), response=f"{MEMBERS}:ActivitySchema"),
    Route("sign_up_activity", "POST", "/api/v1/activities/<activity_id>/sign-ups",
          participate("sign_up"), "Sign a member up for an activity", "activities", ("office",),
          body=f"{MEMBERS}:ParticipationCreateSchema", response=f"{MEMBERS}:ParticipationSchema"),
    Route("attend_activity", "POST", "/api/v1/activities/<activity_id>/attendance",
          participate("attend"),
          "Sign a member in (attendance); awards the home county's study points once",
          "activities", ("office",), body=f"{MEMBERS}:ParticipationCreateSchema",
          response=f"{MEMBERS}:ParticipationSchema"),
    Route("leave_activity", "POST", "/api/v1/activities/<activity_id>/leave",
          participate("leave"), "A member's leave request for an activity (reason required)",
          "activities", ("office",), body=f"{MEMBERS}:ParticipationCreateSchema",
          response=f"{MEMBERS}:ParticipationSchema"),
    Route("activity_tally", "GET", "/api/v1/reports/activities",
          _call("activity_tally", query=True),
          "Activities per org and kind in a year, over a subtree", "reports",
          ("office", "ops", "admin"), query=f"{MEMBERS}:TallyQuerySchema",
          response=f"{MEMBERS}:TallySchema"),
    Route("set_point_rule", "PUT", "/api/v1/point-rules",
          _call("set_point_rule", body=True),
          "Set a county's study points for an activity kind", "study points", ("office", "admin"),
          body=f"{MEMBERS}:PointRuleSchema", response=f"{MEMBERS}:PointRuleSchema"),
    Route("list_point_rules", "GET", "/api/v1/point-rules",
          _call("list_point_rules", query=True),
          "A county's study-point rules", "study points", ("office", "admin"),
          query=f"{MEMBERS}:PointRuleQuerySchema", response=f"{MEMBERS}:PointRuleListSchema"),
    Route("award_points", "POST", "/api/v1/members/<member_id>/points",
          _call("award_points", "member_id", body=True),
          "Award (or deduct) study points by hand", "study points", ("office",),
          body=f"{MEMBERS}:PointAwardSchema", response=f"{MEMBERS}:PointEntrySchema", status=201),
    Route("point_ledger", "GET", "/api/v1/members/<member_id>/points",
          _call("point_ledger", "member_id"),
          "A member's points ledger, wherever earned (home and host)", "study points",
          ("office", "admin"), response=f"{MEMBERS}:PointLedgerSchema"),
    Route("points_ranking", "GET", "/api/v1/reports/points-ranking",
          _call("points_ranking", query=True),
          "Monthly or yearly study-points ranking of an org's members", "reports",
          ("office", "admin"), query=f"{MEMBERS}:RankingQuerySchema",
          response=f"{MEMBERS}:RankingSchema"),
    Route("volunteer_hours", "GET", "/api/v1/members/<member_id>/volunteer-hours",
          _call("volunteer_hours", "member_id"),
          "A member's volunteer hours, per activity and in total", "activities",
          ("office", "admin"), response=f"{MEMBERS}:VolunteerHoursSchema"),
)

ROUTES += (
    Route("list_elderly", "GET", "/api/v1/care/elderly",
          _call("list_elderly", query=True),
          "Members aged 60 (or `age`) and over as of a date", "care", ("office", "admin"),
          query=f"{MEMBERS}:ElderlyQuerySchema", response=f"{MEMBERS}:MemberPageSchema"),
    Route("log_care_visit", "POST", "/api/v1/members/<member_id>/care-visits",
          _call("log_care_visit", "member_id", body=True),
          "Log a care visit", "care", ("office", "desk_staff"),
          body=f"{MEMBERS}:CareVisitCreateSchema", response=f"{MEMBERS}:CareVisitSchema", status=201),
    Route("list_care_visits", "GET", "/api/v1/members/<member_id>/care-visits",
          _call("list_care_visits", "member_id"), "A member's care visits", "care",
          MEMBER_READERS, response=f"{MEMBERS}:CareVisitListSchema"),
    Route("grant_hardship_help", "POST", "/api/v1/members/<member_id>/hardship-help",
          _call("grant_hardship_help", "member_id", body=True),
          "Record hardship help (生活/创业/家庭困难) with an exact amount", "care", ("office",),
          body=f"{MEMBERS}:HardshipHelpCreateSchema", response=f"{MEMBERS}:HardshipHelpSchema",
          status=201),
    Route("list_hardship_help", "GET", "/api/v1/members/<member_id>/hardship-help",
          _call("list_hardship_help", "member_id"),
          "A member's hardship help and its exact total", "care", ("office", "admin"),
          response=f"{MEMBERS}:HardshipHelpListSchema"),
    Route("award_honour", "POST", "/api/v1/honours", _call("award_honour", body=True),
          "Award an honour to a member or an org unit", "care", ("office", "admin"),
          body=f"{MEMBERS}:HonourCreateSchema", response=f"{MEMBERS}:HonourSchema", status=201),
    Route("list_honours", "GET", "/api/v1/honours", _call("list_honours", query=True),
          "Honours of a member or of an org unit", "care", MEMBER_READERS,
          query=f"{MEMBERS}:HonourQuerySchema", response=f"{MEMBERS}:HonourListSchema"),
    Route("record_talent_return", "POST", "/api/v1/members/<member_id>/talent-returns",
          _call("record_talent_return", "member_id", body=True),
          "Record a returned member's new role (人才回引)", "talent", ("office",),
          body=f"{MEMBERS}:TalentReturnCreateSchema", response=f"{MEMBERS}:TalentReturnSchema",
          status=201),
    Route("talent_report", "GET", "/api/v1/reports/talent",
          _call("talent_report", query=True),
          "Returning talent of a county's members, by kind", "reports", ("office", "ops", "admin"),
          query=f"{MEMBERS}:TalentReportQuerySchema", response=f"{MEMBERS}:TalentReportSchema"),
    Route("publish_notice", "POST", "/api/v1/notices", _call("publish_notice", body=True),
          "Send a notice (家乡来信) to every mobile member under an org unit; delivered by an "
          "event, so delivered_count fills in shortly after", "notices", ("office",),
          body=f"{MEMBERS}:NoticeCreateSchema", response=f"{MEMBERS}:MemberNoticeSchema", status=201),
    Route("get_notice", "GET", "/api/v1/notices/<notice_id>",
          _call("get_notice", "notice_id"),
          "A notice with delivered, read and unread counts (unread per host org)", "notices",
          ("office", "admin"), response=f"{MEMBERS}:MemberNoticeSchema"),
    Route("mark_notice_read", "POST", "/api/v1/notices/<notice_id>/read",
          _call("mark_notice_read", "notice_id", body=True),
          "Mark a notice read by a member (idempotent)", "notices", ("office",),
          body=f"{MEMBERS}:NoticeReadSchema", response=f"{MEMBERS}:NoticeDeliverySchema"),
    Route("list_notice_deliveries", "GET", "/api/v1/notices/<notice_id>/deliveries",
          _call("list_notice_deliveries", "notice_id", query=True),
          "Who has not read (or has read) a notice, page by page", "notices", ("office", "admin"),
          query=f"{MEMBERS}:NoticeDeliveryQuerySchema",
          response=f"{MEMBERS}:NoticeDeliveryPageSchema"),
)

XLSX = XLSX_TYPE


def export_members(file_format):
    def handler(ctx):
        return download(ctx.call("members", "export_members", file_format, ctx.query()))
    return handler


# The most one RPC carries of an uploaded file (the members service takes pieces up to 1 MiB).
UPLOAD_PIECE_BYTES = 1024 * 1024


def _json_upload(ctx):
    body = ctx.json_body()
    encoded = body.pop("content_base64", None)
    try:
        if not isinstance(encoded, str):
            raise ValueError
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise HttpError(400, "validation_failed", "invalid input", {
            "content_base64": ["required: the file, base64-encoded"]}) from None
    return body, io.BytesIO(content)


def start_member_import(ctx):
    """The file comes as multipart/form-data (a `file` field) or as base64 in JSON, under the
    upload limit. Either way it travels to members in pieces, never as one message: announced
    (size and SHA-256), sent, then finished, when members reads it through and queues it."""
    key = ctx.idempotency_key()
    if ctx.request.mimetype == "multipart/form-data":
        fields, upload = ctx.form_upload("file")
        stream = upload.stream
        if upload.filename and "filename" not in fields:
            fields["filename"] = upload.filename
    else:
        fields, stream = _json_upload(ctx)
    digest, size = hashlib.sha256(), 0
    while piece := stream.read(UPLOAD_PIECE_BYTES):
        digest.update(piece)
        size += len(piece)
    if not size:
        raise HttpError(400, "validation_failed", "invalid input", {"file": ["the file is empty"]})
    stream.seek(0)
    batch = ctx.call("members", "open_import", fields,
                     {"size": size, "sha256": digest.hexdigest()}, key)
    if batch["status"] != "uploading":
        return batch  # the same upload again with its Idempotency-Key: the first import
    try:
        seq = 0
        while piece := stream.read(UPLOAD_PIECE_BYTES):
            ctx.call("members", "append_import_chunk", batch["id"], seq,
                     base64.b64encode(piece).decode("ascii"))
            seq += 1
        return ctx.call("members", "finish_import", batch["id"])
    except BaseException:
        try:  # leave nothing half-uploaded behind
            ctx.call("members", "discard_import", batch["id"])
        except Exception:
            log.warning("could not discard the unfinished upload %s", batch["id"])
        raise


def import_error_file(file_format):
    def handler(ctx, batch_id):
        return download(ctx.call("members", "import_error_file", batch_id, file_format))
    return handler


ROUTES += (
    Route("start_member_import", "POST", "/api/v1/member-imports", start_member_import,
          "Upload a CSV or XLSX file of members: multipart/form-data with a `file` field (and "
          "optionally `format`, else taken from the file name), or JSON with the file in "
          "base64; up to the upload limit (GATEWAY_MAX_UPLOAD_BYTES, 32 MiB by default). Rows "
          "are imported in batches in the background: poll the import for progress, counts, "
          "errors and duplicates by row; download the rows not imported as an error file",
          "bulk", ("office", "admin"), body=f"{MEMBERS}:ImportCreateSchema",
          response=f"{MEMBERS}:ImportBatchSchema", status=202, upload=True,
          headers=(("Idempotency-Key", "The same upload sent again with the same key "
                                       "returns the first import"),)),
    Route("get_member_import", "GET", "/api/v1/member-imports/<batch_id>",
          _call("get_import", "batch_id"),
          "An import's progress (processed_rows, rows_per_second, seconds_left), counts, row "
          "errors and duplicates (the first 1000; the error file has all)", "bulk",
          ("office", "admin"), response=f"{MEMBERS}:ImportBatchSchema"),
    Route("member_import_errors_csv", "GET", "/api/v1/member-imports/<batch_id>/errors.csv",
          import_error_file("csv"),
          "The rows not imported, with the file's columns, source_row and a reason: fix them "
          "and import the file again (CSV, UTF-8 with BOM)", "bulk", ("office", "admin"),
          response_type="text/csv"),
    Route("member_import_errors_xlsx", "GET", "/api/v1/member-imports/<batch_id>/errors.xlsx",
          import_error_file("xlsx"), "The rows not imported, as an Excel workbook", "bulk",
          ("office", "admin"), response_type=XLSX),
    Route("export_members_csv", "GET", "/api/v1/member-ledger.csv", export_members("csv"),
          "The ledger of the caller's scope with the list filters, as CSV (UTF-8 with BOM)",
          "bulk", ("office", "admin"), query=f"{MEMBERS}:MemberExportQuerySchema",
          response_type="text/csv"),
    Route("export_members_xlsx", "GET", "/api/v1/member-ledger.xlsx", export_members("xlsx"),
          "The ledger of the caller's scope with the list filters, as an Excel workbook",
          "bulk", ("office", "admin"), query=f"{MEMBERS}:MemberExportQuerySchema",
          response_type=XLSX),
    Route("member_report", "GET", "/api/v1/reports/members",
          _call("member_report", query=True),
          "Members of a county or committee by host city, category and status", "reports",
          ("office", "ops", "admin"), query=f"{MEMBERS}:OrgReportQuerySchema",
          response=f"{MEMBERS}:MemberReportSchema"),
    Route("flow_report", "GET", "/api/v1/reports/flows",
          _call("flow_report", query=True),
          "Flow-outs, acceptances, moves, returns, lost and found per month", "reports",
          ("office", "ops", "admin"), query=f"{MEMBERS}:OrgReportQuerySchema",
          response=f"{MEMBERS}:FlowReportSchema"),
)
