"""The official calendar as the desk shows and uses it: a year's holidays and make-up working
days with their source, the deadline preview, deadlines counted again when a year is entered,
and the clock of a service-day booking starting on the service day."""
import pytest

from services.plumbing.errors import ValidationFailed

from .conftest import ADMIN, COUNTY, MEMBER_OF_A, STAFF_A1, beijing

FIVE_DAYS = {"time_limit_days": 5, "materials": ["身份证"], "home_must_act": False}


def test_a_year_chinese_calendar_knows_lists_its_holidays_and_make_up_days(staffed):
    year = staffed.get_calendar_year(ADMIN, 2026)
    assert year["source"] == "chinese_calendar"
    national_day = [h["day"] for h in year["holidays"] if h["name"] == "National Day"]
    assert national_day == [f"2026-10-0{d}" for d in range(1, 8)]
    assert {"day": "2026-09-20", "name": "National Day", "source": "chinese_calendar"} \
        in year["workdays"]
    assert {"day": "2026-10-10", "name": "National Day", "source": "chinese_calendar"} \
        in year["workdays"]
    assert all(d["source"] == "chinese_calendar" for d in year["holidays"] + year["workdays"])
    assert staffed.get_calendar_year(ADMIN, 2025)["holidays"], "2025 is known as well"


def test_the_preview_gives_the_deadline_a_request_would_get(staffed):
    preview = staffed.preview_deadline(ADMIN, {"category": "pension",
                                               "received_on": "2026-09-29"})
    # 15 working days from Tue 29 Sep: 30 Sep, (1-7 Oct off), Sat 10 Oct (调休) …
    assert preview["time_limit_days"] == 15 and preview["rule_county_org_id"] is None
    assert preview["deadline"] == "2026-10-26" and preview["calendar_estimated"] is False
    assert [f"2026-10-0{d}" for d in range(1, 8)] == preview["days_off"][:7]
    assert "2026-10-10" not in preview["days_off"]

    staffed.set_category_rule(ADMIN, "pension", {**FIVE_DAYS, "county_org_id": COUNTY})
    county = staffed.preview_deadline(ADMIN, {"category": "pension", "received_on": "2026-09-29",
                                              "county_org_id": COUNTY})
    assert (county["rule_county_org_id"], county["deadline"]) == (COUNTY, "2026-10-12")


@pytest.mark.parametrize("params, field", [
    ({"received_on": "2026-09-29"}, "category"),
    ({"category": "nope", "received_on": "2026-09-29"}, "category"),
    ({"category": "pension", "received_on": "29/09/2026"}, "received_on"),
    ({"category": "pension", "received_on": "2199-01-01"}, "received_on"),
    ({"category": "pension", "received_on": "2026-09-29", "county_org_id": "nowhere"},
     "county_org_id"),
])
def test_a_bad_preview_query_is_refused(staffed, params, field):
    with pytest.raises(ValidationFailed) as failure:
        staffed.preview_deadline(ADMIN, params)
    assert field in failure.value.fields


def submit(service):
    return service.submit_request(STAFF_A1, {"requester_member_id": MEMBER_OF_A,
                                             "category": "pension", "description": "养老转移"})


def test_entering_a_year_counts_the_open_requests_it_affects_again(staffed, clock, outbox):
    staffed.set_category_rule(ADMIN, "pension", FIVE_DAYS)
    clock.set(beijing(2026, 12, 28))
    estimated = submit(staffed)
    assert (estimated["deadline"], estimated["calendar_estimated"]) == ("2027-01-04", True)
    inside_2026 = staffed.submit_request(STAFF_A1, {"requester_name": "王",
                                                    "category": "policy_consultation",
                                                    "description": "x"})
    clock.set(beijing(2026, 12, 30))

    staffed.put_calendar_year(ADMIN, 2027, {"holidays": ["2027-01-01"], "workdays": []})

    detail = staffed.get_request(STAFF_A1, estimated["id"])
    assert (detail["deadline"], detail["calendar_estimated"]) == ("2027-01-05", False)
    step = detail["steps"][-1]
    assert step["step"] == "deadline_recounted" and step["actor_key_id"] == ADMIN["key_id"]
    assert "2027-01-04 → 2027-01-05" in step["note"]
    [notice] = [n for n in detail["notices"] if n["kind"] == "deadline_changed"]
    assert "2027-01-04" in notice["text"] and "2027-01-05" in notice["text"]
    recorded = [e["data"] for e in outbox() if e["event_type"] == "request_step_recorded"]
    assert [(e["request_id"], e["step"]) for e in recorded] == [
        (estimated["id"], "deadline_recounted")]

    # A request whose count ends inside 2026 never looked at 2027: untouched.
    untouched = staffed.get_request(STAFF_A1, inside_2026["id"])
    assert [s["step"] for s in untouched["steps"]] == ["submitted"]

    # Entering the same schedule again changes nothing and records nothing.
    staffed.put_calendar_year(ADMIN, 2027, {"holidays": ["2027-01-01"], "workdays": []})
    assert [s["step"] for s in staffed.get_request(STAFF_A1, estimated["id"])["steps"]] == [
        "submitted", "deadline_recounted"]

    # A change of the schedule moves it again (a make-up working day on Saturday 2 January).
    staffed.put_calendar_year(ADMIN, 2027, {"holidays": ["2027-01-01"],
                                            "workdays": ["2027-01-02"]})
    assert staffed.get_request(STAFF_A1, estimated["id"])["deadline"] == "2027-01-04"


def test_a_service_day_booking_starts_its_clock_on_the_service_day(staffed, clock):
    staffed.set_category_rule(ADMIN, "pension", FIVE_DAYS)
    clock.set(beijing(2026, 11, 2))  # a Monday; the service day is ten days later
    day = staffed.schedule_service_day(STAFF_A1, {"day": "2026-11-12", "site": "新都区逢场点"})
    booked = staffed.submit_request(STAFF_A1, {
        "requester_member_id": MEMBER_OF_A, "category": "pension", "description": "养老转移",
        "service_day_id": day["id"]})
    assert booked["clock_started_on"] == "2026-11-12"
    assert booked["deadline"] == "2026-11-19"  # Fri 13, Mon 16 … Thu 19
    walk_in = submit(staffed)
    assert (walk_in["clock_started_on"], walk_in["deadline"]) == ("2026-11-02", "2026-11-09")
