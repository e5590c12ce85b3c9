"""限时办结 at request level: the deadline at intake, the clock stopped by missing materials and
restarted from zero, extensions, the early warning and the overdue sweep (once per request)."""
from datetime import date

import pytest

from services.plumbing.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from services.services_desk.events import REQUEST_OVERDUE

from .conftest import ADMIN, CENTRE_B, LEAD_A, MEMBER_OF_A, STAFF_A1, STAFF_B, beijing, received

FIVE_DAYS = {"time_limit_days": 5, "materials": ["身份证", "户口簿"], "home_must_act": False}


@pytest.fixture
def five_day_pension(staffed):
    staffed.set_category_rule(ADMIN, "pension", FIVE_DAYS)
    return staffed


def submit(service):
    return service.submit_request(STAFF_A1, {"requester_member_id": MEMBER_OF_A,
                                             "category": "pension", "description": "养老转移"})


def sweep(service):
    return service.sweep_deadlines()


def of_type(outbox, event_type):
    return [e for e in outbox() if e["event_type"] == event_type]


def test_the_deadline_counts_working_days_from_the_day_after_receipt(five_day_pension, clock):
    clock.set(beijing(2026, 9, 29, hour=23))  # late evening in Beijing is still the 29th
    reply = submit(five_day_pension)
    assert reply["time_limit_days"] == 5
    assert reply["clock_started_on"] == "2026-09-29"
    assert reply["deadline"] == "2026-10-12"  # over National Day, with the Saturday 调休
    assert reply["calendar_estimated"] is False
    accepted = five_day_pension.accept_request(STAFF_A1, reply["id"])
    [notice] = five_day_pension.get_request(STAFF_A1, accepted["id"])["notices"]
    assert notice["kind"] == "accepted" and "2026-10-12" in notice["text"]


def test_a_rule_change_does_not_move_deadlines_already_running(five_day_pension, clock):
    request_id = submit(five_day_pension)["id"]
    five_day_pension.set_category_rule(ADMIN, "pension", {**FIVE_DAYS, "time_limit_days": 20})
    assert five_day_pension.get_request(STAFF_A1, request_id)["deadline"] == "2026-10-12"


def test_missing_materials_stop_the_clock_and_the_supplement_restarts_it_from_zero(
        five_day_pension, clock, outbox):
    request_id = submit(five_day_pension)["id"]
    five_day_pension.accept_request(STAFF_A1, request_id)
    clock.set(beijing(2026, 10, 8))
    stopped = five_day_pension.request_materials(STAFF_A1, request_id, {"missing": ["户口簿"]})
    assert stopped["deadline"] is None and stopped["clock_stopped"] is True
    clock.set(beijing(2026, 10, 20))  # long past the first deadline: no overdue while stopped
    assert sweep(five_day_pension) == {"warned": 0, "overdue": 0}

    clock.set(beijing(2026, 10, 9))
    restarted = five_day_pension.supplement_materials(STAFF_A1, request_id, {"note": "已补齐"})
    # From Fri 9 Oct: Sat 10 (调休, 1), 12 (2), 13 (3), 14 (4), 15 (5): the full five again.
    assert restarted["clock_started_on"] == "2026-10-09"
    assert restarted["deadline"] == "2026-10-15" and restarted["clock_stopped"] is False


def test_beyond_the_known_calendar_the_deadline_is_flagged_estimated(five_day_pension, clock):
    clock.set(beijing(2026, 12, 28))
    reply = submit(five_day_pension)
    assert (reply["deadline"], reply["calendar_estimated"]) == ("2027-01-04", True)

    year = five_day_pension.put_calendar_year(ADMIN, "2027", {
        "holidays": ["2027-01-01"], "workdays": []})
    assert year["source"] == "entered"
    assert year["holidays"] == [{"day": "2027-01-01", "name": "法定节假日", "source": "entered"}]
    later = submit(five_day_pension)
    assert (later["deadline"], later["calendar_estimated"]) == ("2027-01-05", False)
    assert five_day_pension.get_calendar_year(ADMIN, 2026)["source"] == "chinese_calendar"
    assert five_day_pension.get_calendar_year(ADMIN, 2028)["source"] == "weekends_only_estimate"


@pytest.mark.parametrize("year, body, field", [
    ("2026", {"holidays": [], "workdays": []}, "year"),
    ("2027", {"holidays": ["2028-01-01"], "workdays": []}, "holidays"),
    ("2027", {"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, "workdays"),
    ("next", {"holidays": [], "workdays": []}, "year"),
])
def test_a_bad_calendar_year_is_refused(staffed, year, body, field):
    with pytest.raises(ValidationFailed) as failure:
        staffed.put_calendar_year(ADMIN, year, body)
    assert field in failure.value.fields


# -- extensions -----------------------------------------------------------------------------------
def test_an_extension_needs_a_lead_of_the_centre(five_day_pension, clock):
    request_id = submit(five_day_pension)["id"]
    lead_b = {"key_id": "key-lead-b", "role": "desk_staff", "org_id": CENTRE_B}
    five_day_pension.put_staff(ADMIN, "key-lead-b", {"centre_org_id": CENTRE_B, "name": "b",
                                                      "is_lead": True})
    body = {"extra_working_days": 2, "reason": "协查"}
    with pytest.raises(Forbidden):
        five_day_pension.extend_deadline(STAFF_A1, request_id, body)
    for outsider in (STAFF_B, lead_b):
        with pytest.raises(NotFound):
            five_day_pension.extend_deadline(outsider, request_id, body)
    assert five_day_pension.get_request(STAFF_A1, request_id)["extended_days"] == 0


def test_an_extension_moves_the_deadline_once_and_tells_the_requester(five_day_pension, clock,
                                                                      outbox):
    request_id = submit(five_day_pension)["id"]
    five_day_pension.claim_request(STAFF_A1, request_id)
    clock.set(beijing(2026, 10, 9))
    reply = five_day_pension.extend_deadline(LEAD_A, request_id, {"extra_working_days": 3,
                                                                  "reason": "需外省协查"})
    # 5 + 3 working days from 29 Sep: 12 Oct (5), 13, 14, 15 (8).
    assert (reply["deadline"], reply["extended_days"], reply["overdue"]) == ("2026-10-15", 3, False)
    detail = five_day_pension.get_request(STAFF_A1, request_id)
    assert detail["steps"][-1]["step"] == "extended"
    assert detail["steps"][-1]["actor_key_id"] == "key-lead-a"
    [notice] = [n for n in detail["notices"] if n["kind"] == "extended"]
    assert "2026-10-15" in notice["text"] and "需外省协查" in notice["text"]
    with pytest.raises(InvalidTransition):
        five_day_pension.extend_deadline(LEAD_A, request_id, {"extra_working_days": 1,
                                                              "reason": "again"})
    assert of_type(outbox, "request_overdue") == []


def test_an_extension_asked_after_the_deadline_counts_as_overdue_once(five_day_pension, clock,
                                                                     outbox):
    request_id = submit(five_day_pension)["id"]
    five_day_pension.claim_request(STAFF_A1, request_id)
    clock.set(beijing(2026, 10, 13))  # the deadline was 12 Oct
    reply = five_day_pension.extend_deadline(LEAD_A, request_id, {"extra_working_days": 5,
                                                                  "reason": "迟报"})
    assert reply["overdue"] is True and reply["overdue_reason"] == "extension_after_deadline"
    sweep(five_day_pension)
    [event] = of_type(outbox, "request_overdue")
    assert REQUEST_OVERDUE.load(received(event, "any"))["reason"] == "extension_after_deadline"


# -- early warning and overdue ------------------------------------------------------------------
def test_warning_then_overdue_each_emitted_once_however_often_the_sweep_runs(
        five_day_pension, clock, outbox):
    request_id = submit(five_day_pension)["id"]
    five_day_pension.claim_request(STAFF_A1, request_id)
    clock.set(beijing(2026, 10, 9))     # 3 of 5 days used: no warning at 80 %
    assert sweep(five_day_pension) == {"warned": 0, "overdue": 0}
    clock.set(beijing(2026, 10, 10))    # the 调休 Saturday is the 4th working day: 80 %
    assert sweep(five_day_pension) == {"warned": 1, "overdue": 0}
    clock.set(beijing(2026, 10, 12))    # the deadline day itself is not overdue yet
    assert sweep(five_day_pension) == {"warned": 0, "overdue": 0}
    clock.set(beijing(2026, 10, 13, hour=0))
    assert sweep(five_day_pension) == {"warned": 0, "overdue": 1}
    for _ in range(3):
        assert sweep(five_day_pension) == {"warned": 0, "overdue": 0}
    assert len(of_type(outbox, "request_deadline_approaching")) == 1
    [event] = of_type(outbox, "request_overdue")
    data = REQUEST_OVERDUE.load(received(event, "any"))
    assert (data["request_id"], data["deadline"], data["first_owner"], data["reason"]) == (
        request_id, date(2026, 10, 12), "key-a1", "deadline_passed")
    assert [i["id"] for i in five_day_pension.list_requests(STAFF_A1, {"overdue": True})["items"]] \
        == [request_id]


def test_ended_requests_are_never_overdue(five_day_pension, clock, outbox):
    done = submit(five_day_pension)["id"]
    five_day_pension.claim_request(STAFF_A1, done)
    five_day_pension.complete_request(STAFF_A1, done, {"outcome": "ok"})
    withdrawn = submit(five_day_pension)["id"]
    five_day_pension.withdraw_request(STAFF_A1, withdrawn, {"reason": "本人撤回"})
    clock.set(beijing(2026, 11, 30))
    assert sweep(five_day_pension) == {"warned": 0, "overdue": 0}
    assert of_type(outbox, "request_overdue") == []


def test_metrics_count_open_overdue_and_time_to_deadline_per_category(five_day_pension, clock,
                                                                      engine):
    from sqlalchemy.orm import sessionmaker

    from services.services_desk.extensions import DeskMetrics
    first = submit(five_day_pension)["id"]
    submit(five_day_pension)
    five_day_pension.claim_request(STAFF_A1, first)
    clock.set(beijing(2026, 10, 13))
    sweep(five_day_pension)
    five_day_pension.submit_request(STAFF_A1, {"requester_name": "x", "category": "other",
                                               "description": "x"})
    session = sessionmaker(engine)()
    try:
        snap = DeskMetrics().snapshot(session, date(2026, 10, 13))
    finally:
        session.close()
    assert snap["open"] == {"pension": 2, "other": 1}
    assert snap["overdue"] == {"pension": 2}
    assert snap["windows"] == {("pension", "overdue"): 2, ("other", "due_later"): 1}
    assert snap["soonest"] == {"pension": -1, "other": 14}
