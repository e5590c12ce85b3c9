"""The desk through the gateway on PostgreSQL: the official calendar (a known year's holidays
and make-up days with their source, the deadline preview, open requests counted again when a
year is entered), a service-day booking's clock, the ledger and register as files, whole-number
ratings, and the wording of a role refusal."""
import csv
import io
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from openpyxl import load_workbook

from services.services_desk.working_days import CHINA

from .helpers import build_world

pytestmark = pytest.mark.integration
POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@POSTGRESQL
def test_the_calendar_and_the_deadline_preview_can_be_checked_from_outside(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    office = world["a"]["office"]

    status, year = office.get("/api/v1/desk/calendar/2026")
    assert status == 200 and year["source"] == "chinese_calendar", year
    national_day = [h["day"] for h in year["holidays"] if h["name"] == "National Day"]
    assert national_day == [f"2026-10-0{d}" for d in range(1, 8)]
    workdays = {(w["day"], w["source"]) for w in year["workdays"]}
    assert {("2026-09-20", "chinese_calendar"), ("2026-10-10", "chinese_calendar")} <= workdays
    status, year_2025 = office.get("/api/v1/desk/calendar/2025")
    assert status == 200 and year_2025["holidays"] and year_2025["workdays"], year_2025

    # Received Friday 18 September: Sunday 20 (调休) counts, Mid-autumn and National Day don't.
    status, preview = office.get("/api/v1/desk/deadline-preview", query={
        "category": "social_insurance", "received_on": "2026-09-18"})
    assert status == 200, preview
    assert (preview["time_limit_days"], preview["deadline"], preview["calendar_estimated"]) == (
        10, "2026-10-09", False)
    assert "2026-09-20" not in preview["days_off"] and "2026-09-19" in preview["days_off"]
    assert set(national_day) <= set(preview["days_off"])

    status, refused = office.get("/api/v1/desk/deadline-preview", query={
        "category": "nope", "received_on": "18.9.2026"})
    assert status == 400 and set(refused["error"]["fields"]) == {"category", "received_on"}


def first_year_nobody_knows() -> int:
    known = max(chinese_calendar.holidays).year
    return max(known + 1, datetime.now(CHINA).year + 1)


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@POSTGRESQL
def test_a_booked_request_counts_from_its_service_day_and_follows_a_year_entered_later(
        platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    desk, admin = world["a"]["desk"], world["admin"]
    year = first_year_nobody_knows()
    service_day = date(year, 1, 4)
    status, day = desk.post("/api/v1/service-days", {"day": service_day.isoformat(),
                                                     "site": "新都区逢场点"})
    assert status == 201, day
    status, booked = desk.post("/api/v1/requests", {
        "requester_name": "西木拉", "category": "social_insurance", "description": "社保",
        "service_day_id": day["id"]})
    assert status == 201, booked
    # The clock starts when the centre receives it, on the service day, not at booking.
    assert booked["clock_started_on"] == service_day.isoformat()
    assert booked["calendar_estimated"] is True
    estimate = date.fromisoformat(booked["deadline"])

    # The year is entered with a holiday on the first weekday the count used.
    holiday = next_weekday(service_day)
    status, entered = admin.request("PUT", f"/api/v1/desk/calendar/{year}", {
        "holidays": [holiday.isoformat()], "workdays": []})
    assert status == 200, entered
    assert entered["holidays"] == [{"day": holiday.isoformat(), "name": "法定节假日",
                                    "source": "entered"}]

    status, detail = desk.get(f"/api/v1/requests/{booked['id']}")
    assert status == 200, detail
    assert detail["deadline"] == next_weekday(estimate).isoformat()
    assert detail["calendar_estimated"] is False
    assert detail["steps"][-1]["step"] == "deadline_recounted"
    assert [n["kind"] for n in detail["notices"]] == ["deadline_changed"]
    assert platform.scalar("services_desk", "SELECT count(*) FROM outbox WHERE event_type = "
                                            "'request_step_recorded'") == 1


def beijing_month() -> str:
    return datetime.now(UTC).astimezone(CHINA).strftime("%Y-%m")


@POSTGRESQL
def test_the_ledger_and_the_register_download_as_files(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    desk = world["a"]["desk"]
    status, request = desk.post("/api/v1/requests", {
        "requester_name": "西木拉", "category": "other", "description": "咨询"})
    assert status == 201
    assert desk.post(f"/api/v1/requests/{request['id']}/claim")[0] == 200
    month = beijing_month()
    http = platform.http()
    auth = {"Authorization": f"Bearer {desk.key}"}

    response = http.get("/api/v1/desk/ledger.csv", query_string={"month": month}, headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="ledger-{month}.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(r["request_id"], r["step"]) for r in rows] == [
        (request["id"], "submitted"), (request["id"], "claimed")]
    received = datetime.fromisoformat(rows[0]["received_at"])
    assert received.utcoffset() == timedelta(hours=8), "Beijing time, offset given"
    assert received == datetime.fromisoformat(request["created_at"].replace("Z", "+00:00"))

    response = http.get("/api/v1/desk/ledger.xlsx", query_string={"month": month}, headers=auth)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ledger-{month}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert [c.value for c in sheet[1]][:3] == ["request_id", "centre_org_id", "category"]
    assert sheet.max_row == 3

    for file_format in ("csv", "xlsx"):
        response = http.get(f"/api/v1/desk/register.{file_format}", query_string={"month": month},
                            headers=auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="register-{month}.{file_format}"')
    [row] = list(csv.DictReader(io.StringIO(
        http.get("/api/v1/desk/register.csv", query_string={"month": month},
                 headers=auth).get_data().decode("utf-8-sig"))))
    assert (row["centre"], row["received"], row["still_open"]) == ("centre-a", "1", "1")

    status, refused = desk.get("/api/v1/desk/ledger.csv", query={"month": "2026-13"})
    assert status == 400 and "month" in refused["error"]["fields"], refused
    assert desk.get("/api/v1/desk/ledger-export", query={"month": month})[0] == 404


@POSTGRESQL
def test_a_fractional_rating_is_refused_and_a_role_refusal_reads_well(platform):
    platform.start("members", "services_desk")
    world = build_world(platform)
    desk = world["a"]["desk"]
    status, request = desk.post("/api/v1/requests", {
        "requester_name": "西木拉", "category": "other", "description": "咨询"})
    rid = request["id"]
    assert desk.post(f"/api/v1/requests/{rid}/claim")[0] == 200
    assert desk.post(f"/api/v1/requests/{rid}/complete", {"outcome": "已答复"})[0] == 200

    status, refused = desk.post(f"/api/v1/requests/{rid}/rating", {"score": 4.5})
    assert status == 400 and refused["error"]["fields"] == {
        "score": ["a whole number from 1 to 5"]}, refused
    assert platform.scalar("services_desk", "SELECT count(*) FROM ratings") == 0
    status, rating = desk.post(f"/api/v1/requests/{rid}/rating", {"score": 4})
    assert status == 200 and rating["score"] == 4, rating

    status, refused = world["admin"].post("/api/v1/requests", {
        "requester_name": "x", "category": "other", "description": "y"})
    assert status == 403
    assert refused["error"]["message"] == "an admin key may not call POST /api/v1/requests"
    status, refused = world["a"]["office"].post(f"/api/v1/requests/{rid}/claim")
    assert refused["error"]["message"].startswith("an office key may not call"), refused
