"""Rules as data (categories per county, staff per centre) and what the ledger is read out as:
ratings, the monthly 限时办结 register, statistics, CSV/XLSX export, service days."""
import base64
import csv
import io

import pytest
from openpyxl import load_workbook

from services.plumbing.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed

from .conftest import (
    ADMIN,
    CENTRE_A,
    CENTRE_B,
    COMMITTEE_OFFICE,
    COUNTY,
    COUNTY_OFFICE,
    LEAD_A,
    MEMBER_OF_A,
    OTHER_COUNTY_OFFICE,
    STAFF_A1,
    STAFF_A2,
    STAFF_B,
    beijing,
)

RULE = {"time_limit_days": 7, "materials": ["身份证"], "home_must_act": True}


# -- categories ------------------------------------------------------------------------------
def test_category_rules_resolve_county_then_platform_then_built_in(staffed):
    built_in = {r["category"]: r for r in staffed.list_categories(STAFF_A1, {})["items"]}
    assert built_in["pension"]["county_org_id"] is None
    assert built_in["policy_consultation"]["time_limit_days"] == 3
    staffed.set_category_rule(ADMIN, "pension", {**RULE, "time_limit_days": 12})
    staffed.set_category_rule(COUNTY_OFFICE, "pension", {**RULE, "county_org_id": COUNTY})
    platform = {r["category"]: r for r in staffed.list_categories(STAFF_A1, {})["items"]}
    county = {r["category"]: r for r in staffed.list_categories(
        STAFF_A1, {"county_org_id": COUNTY})["items"]}
    assert (platform["pension"]["county_org_id"], platform["pension"]["time_limit_days"]) == ("*", 12)
    assert (county["pension"]["county_org_id"], county["pension"]["time_limit_days"]) == (COUNTY, 7)
    # A member of that county gets the county's rule at intake.
    reply = staffed.submit_request(STAFF_A1, {"requester_member_id": MEMBER_OF_A,
                                              "category": "pension", "description": "x"})
    assert (reply["time_limit_days"], reply["home_must_act"], reply["materials_required"]) == (
        7, True, ["身份证"])


def test_who_may_set_category_rules(staffed):
    with pytest.raises(Forbidden):
        staffed.set_category_rule(COUNTY_OFFICE, "pension", RULE)  # the platform default
    with pytest.raises(ValidationFailed):
        staffed.set_category_rule(OTHER_COUNTY_OFFICE, "pension", {**RULE, "county_org_id": COUNTY})
    with pytest.raises(NotFound):
        staffed.set_category_rule(ADMIN, "astrology", RULE)
    with pytest.raises(ValidationFailed) as failure:
        staffed.set_category_rule(ADMIN, "pension", {**RULE, "time_limit_days": 0})
    assert failure.value.fields == {"time_limit_days": ["Must be greater than or equal to 1 and "
                                                        "less than or equal to 120."]}


# -- staff -------------------------------------------------------------------------------------
def test_a_lead_manages_own_centres_staff_but_appoints_no_leads(staffed):
    reply = staffed.put_staff(LEAD_A, "key-new", {"centre_org_id": CENTRE_A, "name": "新人",
                                                  "languages": ["bo", "bo"]})
    assert reply == {"key_id": "key-new", "centre_org_id": CENTRE_A, "name": "新人",
                     "languages": ["bo", "zh"], "is_lead": False}
    with pytest.raises(Forbidden):
        staffed.put_staff(LEAD_A, "key-new", {"centre_org_id": CENTRE_A, "name": "新人",
                                              "is_lead": True})
    with pytest.raises(Forbidden):
        staffed.put_staff(LEAD_A, "key-x", {"centre_org_id": CENTRE_B, "name": "x"})
    with pytest.raises(Forbidden):
        staffed.put_staff(LEAD_A, "key-b", {"centre_org_id": CENTRE_A, "name": "poach"})
    with pytest.raises(Forbidden):
        staffed.put_staff(STAFF_A1, "key-y", {"centre_org_id": CENTRE_A, "name": "y"})
    with pytest.raises(ValidationFailed):
        staffed.put_staff(LEAD_A, "key-z", {"centre_org_id": CENTRE_A, "name": "z",
                                            "languages": ["Tibetan"]})
    assert {m["key_id"] for m in staffed.list_staff(STAFF_B)["items"]} == {"key-b"}
    assert "key-new" in {m["key_id"] for m in staffed.list_staff(COMMITTEE_OFFICE)["items"]}


# -- ratings -----------------------------------------------------------------------------------
def done_request(service, staff=STAFF_A1, category="pension"):
    request_id = service.submit_request(staff, {"requester_name": "王五", "category": category,
                                                "description": "x"})["id"]
    service.claim_request(staff, request_id)
    service.complete_request(staff, request_id, {"outcome": "ok"})
    return request_id


def test_a_completed_request_is_rated_once(staffed):
    request_id = done_request(staffed)
    reply = staffed.rate_request(STAFF_A1, request_id, {"score": 5, "comment": "满意"})
    assert (reply["score"], reply["recorded_by"]) == (5, "key-a1")
    with pytest.raises(Conflict):
        staffed.rate_request(STAFF_A1, request_id, {"score": 1})
    open_one = staffed.submit_request(STAFF_A1, {"requester_name": "x", "category": "other",
                                                 "description": "x"})["id"]
    with pytest.raises(InvalidTransition):
        staffed.rate_request(STAFF_A1, open_one, {"score": 4})
    with pytest.raises(ValidationFailed):
        staffed.rate_request(STAFF_A1, open_one, {"score": 6})


# -- register, statistics, export ---------------------------------------------------------------
@pytest.fixture
def october(staffed, clock):
    """Centre A in October 2026: one on time, one late, one open and overdue, one open, one
    rejected; centre B: one on time."""
    clock.set(beijing(2026, 10, 8))
    on_time = done_request(staffed)
    staffed.rate_request(STAFF_A1, on_time, {"score": 5})
    late = staffed.submit_request(STAFF_A1, {"requester_name": "a", "category": "pension",
                                             "description": "x"})["id"]
    overdue = staffed.submit_request(STAFF_A1, {"requester_name": "b", "category": "pension",
                                                "description": "x"})["id"]
    rejected = staffed.submit_request(STAFF_A1, {"requester_name": "c", "category": "other",
                                                 "description": "x"})["id"]
    staffed.reject_request(STAFF_A1, rejected, {"reason": "不属于代办范围"})
    staffed.claim_request(STAFF_A2, late)
    b_done = done_request(staffed, STAFF_B)
    staffed.rate_request(STAFF_B, b_done, {"score": 2})
    clock.set(beijing(2026, 10, 30))
    staffed.submit_request(STAFF_A1, {"requester_name": "d", "category": "other",
                                      "description": "x"})
    staffed.complete_request(STAFF_A2, late, {"outcome": "ok"})  # pension: 15 days, due 29 Oct
    staffed.rate_request(STAFF_A2, late, {"score": 3})
    staffed.sweep_deadlines()
    return {"on_time": on_time, "late": late, "overdue": overdue}


def test_the_monthly_register_per_centre(staffed, october):
    rows = {r["centre_org_id"]: r for r in staffed.monthly_register(ADMIN, {"month": "2026-10"})["items"]}
    assert rows[CENTRE_A] == {"centre_org_id": CENTRE_A, "month": "2026-10", "received": 5,
                              "done_on_time": 1, "done_late": 1, "still_open": 2, "overdue": 1,
                              "rejected": 1, "withdrawn": 0}
    assert rows[CENTRE_B]["done_on_time"] == 1
    assert [r["centre_org_id"] for r in staffed.monthly_register(
        STAFF_B, {"month": "2026-10"})["items"]] == [CENTRE_B]
    assert staffed.monthly_register(ADMIN, {"month": "2026-11"})["items"] == []
    with pytest.raises(ValidationFailed):
        staffed.monthly_register(ADMIN, {"month": "2026-13"})


def test_statistics_per_centre_and_category_with_ratings(staffed, october):
    reply = staffed.statistics(STAFF_A1, {"month": "2026-10"})
    by = {(r["centre_org_id"], r["category"]): r for r in reply["by_category"]}
    pension = by[(CENTRE_A, "pension")]
    assert (pension["received"], pension["completed"], pension["on_time_rate"],
            pension["backlog"]) == (3, 2, 0.5, 1)
    # handled in 0 h (on time) and 22 days (late): the median is their mean
    assert pension["median_handling_hours"] == 264.0
    assert by[(CENTRE_A, "other")]["completed"] == 0
    assert by[(CENTRE_A, "other")]["on_time_rate"] is None
    assert reply["ratings_by_centre"] == [{"centre_org_id": CENTRE_A, "ratings": 2,
                                           "average": 4.0}]
    assert reply["ratings_by_staff"] == [
        {"centre_org_id": CENTRE_A, "first_owner": "key-a1", "ratings": 1, "average": 5.0},
        {"centre_org_id": CENTRE_A, "first_owner": "key-a2", "ratings": 1, "average": 3.0}]


def test_the_ledger_exports_as_csv_and_xlsx_with_every_step(staffed, october):
    csv_reply = staffed.export_ledger(STAFF_A1, {"month": "2026-10", "format": "csv"})
    assert csv_reply["filename"] == "ledger-2026-10.csv"
    text = base64.b64decode(csv_reply["content_base64"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == csv_reply["rows"]
    late_steps = [(r["step"], r["actor_key_id"]) for r in rows if r["request_id"] == october["late"]]
    assert late_steps == [("submitted", "key-a1"), ("claimed", "key-a2"), ("completed", "key-a2")]
    assert {r["centre_org_id"] for r in rows} == {CENTRE_A}
    assert {r["overdue"] for r in rows if r["request_id"] == october["overdue"]} == {"yes"}
    # Times as the people reading the file count them: Beijing, with the offset said.
    assert all(r["received_at"].endswith("+08:00") and r["step_at"].endswith("+08:00")
               for r in rows)

    xlsx_reply = staffed.export_ledger(STAFF_A1, {"month": "2026-10", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(base64.b64decode(xlsx_reply["content_base64"]))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("request_id", "centre_org_id", "category")
    assert len(values) - 1 == csv_reply["rows"]


def test_the_monthly_register_exports_as_a_file_per_centre(staffed, october):
    reply = staffed.export_register(STAFF_A1, {"month": "2026-10", "format": "csv"})
    assert (reply["filename"], reply["content_type"]) == ("register-2026-10.csv",
                                                          "text/csv; charset=utf-8")
    [row] = list(csv.DictReader(io.StringIO(
        base64.b64decode(reply["content_base64"]).decode("utf-8-sig"))))
    [expected] = staffed.monthly_register(STAFF_A1, {"month": "2026-10"})["items"]
    assert row == {"centre": "unit", **{key: str(value) for key, value in expected.items()}}
    xlsx = staffed.export_register(STAFF_A1, {"month": "2026-10", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(base64.b64decode(xlsx["content_base64"]))).active
    assert [cell.value for cell in sheet[2]][:4] == [CENTRE_A, "unit", "2026-10",
                                                     expected["received"]]


# -- service days --------------------------------------------------------------------------------
def test_service_days_take_bookings_and_report_their_outcome(staffed, clock):
    day = staffed.schedule_service_day(STAFF_A1, {"day": "2026-10-15", "site": "新都区逢场点"})
    with pytest.raises(Conflict):
        staffed.schedule_service_day(STAFF_A2, {"day": "2026-10-15", "site": "新都区逢场点"})
    with pytest.raises(ValidationFailed):
        staffed.schedule_service_day(STAFF_A1, {"day": "2026-09-01", "site": "过去"})
    booked = staffed.submit_request(STAFF_A1, {"requester_name": "x", "category": "other",
                                               "description": "x", "service_day_id": day["id"]})
    assert booked["channel"] == "service_day"
    done_one = staffed.submit_request(STAFF_A1, {"requester_name": "y", "category": "other",
                                                 "description": "y", "service_day_id": day["id"]})
    staffed.claim_request(STAFF_A1, done_one["id"])
    staffed.complete_request(STAFF_A1, done_one["id"], {"outcome": "当场办结"})
    with pytest.raises(ValidationFailed):
        staffed.submit_request(STAFF_B, {"requester_name": "z", "category": "other",
                                         "description": "z", "service_day_id": day["id"]})

    report = staffed.service_day_report(STAFF_A1, day["id"])
    assert report["outcome"] == {"booked": 2, "by_status": {"completed": 1, "submitted": 1},
                                 "completed": 1, "still_open": 1}
    assert [d["id"] for d in staffed.list_service_days(STAFF_A1, {"month": "2026-10"})["items"]] \
        == [day["id"]]
    assert staffed.list_service_days(STAFF_B, {})["items"] == []
    with pytest.raises(NotFound):
        staffed.service_day_report(STAFF_B, day["id"])


def test_every_category_has_the_name_the_contract_gives_consumers():
    from services.services_desk.categories import CATEGORIES
    from services.services_desk.events import CATEGORY_NAMES
    assert set(CATEGORY_NAMES) == set(CATEGORIES)
