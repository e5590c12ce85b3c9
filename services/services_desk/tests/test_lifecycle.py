"""Every transition of a request's life, allowed and refused, each with actor, time and reason
in the ledger and an event; 一次性告知; 首问 owner kept apart from the assignee."""
import pytest
from sqlalchemy import select

from services.plumbing.errors import Forbidden, InvalidTransition, ValidationFailed
from services.services_desk.events import REQUEST_STEP_RECORDED
from services.services_desk.models import RequestStep
from services.services_desk.proxy_requests import STATUSES, TRANSITIONS

from .conftest import COUNTY_OFFICE, LEAD_A, MEMBER_OF_A, STAFF_A1, STAFF_A2, TIBETAN_A, received

DONE = {"outcome": "已办结"}
PENSION = {"requester_member_id": MEMBER_OF_A, "category": "pension", "description": "养老转移"}


def submit(service, **extra):
    return service.submit_request(STAFF_A1, {**PENSION, **extra})["id"]


def answer_from_home(service, request_id):
    [task] = service.list_home_tasks(COUNTY_OFFICE, {})["items"]
    service.accept_home_task(COUNTY_OFFICE, task["id"])
    service.answer_home_task(COUNTY_OFFICE, task["id"], {
        "result": "approved", "note": "已转入", "reference_number": "HY-2026-001"})


def bring_to(service, status):
    """A fresh request of centre A in `status`, reached through the allowed transitions."""
    request_id = submit(service)
    path = {
        "submitted": [],
        "accepted": [lambda: service.accept_request(STAFF_A1, request_id)],
        "materials_missing": [lambda: service.accept_request(STAFF_A1, request_id),
                              lambda: service.request_materials(STAFF_A1, request_id,
                                                                {"missing": ["户口簿"]})],
        "in_progress": [lambda: service.claim_request(STAFF_A1, request_id)],
        "forwarded": [lambda: service.claim_request(STAFF_A1, request_id),
                      lambda: service.forward_request(STAFF_A1, request_id, {})],
        "answer_received": [lambda: service.claim_request(STAFF_A1, request_id),
                            lambda: service.forward_request(STAFF_A1, request_id, {}),
                            lambda: answer_from_home(service, request_id)],
        "completed": [lambda: service.claim_request(STAFF_A1, request_id),
                      lambda: service.complete_request(STAFF_A1, request_id, DONE)],
        "rejected": [lambda: service.reject_request(STAFF_A1, request_id, {"reason": "不属实"})],
        "withdrawn": [lambda: service.withdraw_request(STAFF_A1, request_id,
                                                       {"reason": "本人撤回"})],
    }[status]
    for step in path:
        step()
    assert service.get_request(STAFF_A1, request_id)["status"] == status
    return request_id


ACTIONS = {
    "accept": lambda s, r: s.accept_request(STAFF_A1, r),
    "claim": lambda s, r: s.claim_request(STAFF_A1, r),
    "start": lambda s, r: s.start_request(STAFF_A1, r),
    "request_materials": lambda s, r: s.request_materials(STAFF_A1, r, {"missing": ["身份证"]}),
    "supplement": lambda s, r: s.supplement_materials(STAFF_A1, r, {"note": "已补齐"}),
    "forward": lambda s, r: s.forward_request(STAFF_A1, r, {"note": "请办理转出"}),
    "complete": lambda s, r: s.complete_request(STAFF_A1, r, DONE),
    "reject": lambda s, r: s.reject_request(STAFF_A1, r, {"reason": "不符合条件"}),
    "withdraw": lambda s, r: s.withdraw_request(STAFF_A1, r, {"reason": "本人撤回"}),
    "reopen": lambda s, r: s.reopen_request(STAFF_A1, r, {"reason": "结果有误"}),
    "assign": lambda s, r: s.assign_request(STAFF_A1, r, {"assignee": "key-a2", "reason": "轮岗"}),
    "extend": lambda s, r: s.extend_deadline(LEAD_A, r, {"extra_working_days": 3,
                                                         "reason": "需外省协查"}),
}


def ledger(engine, request_id):
    with engine.connect() as conn:
        return conn.execute(select(RequestStep.step, RequestStep.actor_key_id, RequestStep.note)
                            .where(RequestStep.request_id == request_id)
                            .order_by(RequestStep.id)).all()


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_transition_is_allowed_or_refused_as_the_table_says(staffed, engine, outbox,
                                                                  action, status):
    request_id = bring_to(staffed, status)
    steps_before, events_before = ledger(engine, request_id), len(outbox())
    allowed, to_status, step = TRANSITIONS[action]

    if status in allowed:
        reply = ACTIONS[action](staffed, request_id)
        if action == "forward":
            reply = staffed.get_request(STAFF_A1, request_id)
        assert reply["status"] == (to_status or status)
        new_steps = ledger(engine, request_id)[len(steps_before):]
        assert [s.step for s in new_steps] == [step]
        assert len(outbox()) > events_before
    else:
        with pytest.raises(InvalidTransition) as failure:
            ACTIONS[action](staffed, request_id)
        assert failure.value.fields["status"][0].startswith(f"is {status}, must be")
        assert staffed.get_request(STAFF_A1, request_id)["status"] == status
        assert ledger(engine, request_id) == steps_before
        assert len(outbox()) == events_before


def test_every_step_carries_actor_time_reason_and_an_event(staffed, outbox):
    request_id = submit(staffed)
    staffed.accept_request(STAFF_A1, request_id)
    staffed.start_request(STAFF_A1, request_id)
    staffed.reject_request(LEAD_A, request_id, {"reason": "材料不实"})
    reply = staffed.get_request(STAFF_A1, request_id)
    assert [(s["step"], s["actor_key_id"], s["note"]) for s in reply["steps"]] == [
        ("submitted", "key-a1", None), ("accepted", "key-a1", None),
        ("started", "key-a1", None), ("rejected", "key-lead-a", "材料不实")]
    assert all(s["at"] for s in reply["steps"])
    types = [e["event_type"] for e in outbox()]
    assert types == ["request_submitted", "request_step_recorded", "request_claimed",
                     "request_step_recorded", "request_step_recorded"]
    rejected = REQUEST_STEP_RECORDED.load(received(outbox()[-1], "any"))
    assert (rejected["step"], rejected["from_status"], rejected["to_status"],
            rejected["actor_key_id"], rejected["reason"]) == (
        "rejected", "in_progress", "rejected", "key-lead-a", "材料不实")


@pytest.mark.parametrize("action", ["reject", "withdraw", "reopen"])
def test_refusal_withdrawal_and_reopening_need_a_reason(staffed, action):
    request_id = bring_to(staffed, "completed" if action == "reopen" else "in_progress")
    method = {"reject": staffed.reject_request, "withdraw": staffed.withdraw_request,
              "reopen": staffed.reopen_request}[action]
    for body, message in (({}, "Missing data for required field."),
                          ({"reason": "  "}, "must not be blank")):
        with pytest.raises(ValidationFailed) as failure:
            method(STAFF_A1, request_id, body)
        assert failure.value.fields == {"reason": [message]}


# -- 一次性告知 -----------------------------------------------------------------------------------
def test_missing_materials_are_listed_all_at_once_and_only_once(staffed, clock):
    request_id = submit(staffed)
    staffed.accept_request(STAFF_A1, request_id)
    reply = staffed.request_materials(STAFF_A1, request_id,
                                      {"missing": ["身份证", "户口簿", "身份证"]})
    assert reply["materials_missing"] == ["身份证", "户口簿"]
    assert reply["materials_required"] == ["身份证", "户口簿", "养老保险缴费凭证"]
    detail = staffed.get_request(STAFF_A1, request_id)
    [notice] = [n for n in detail["notices"] if n["kind"] == "materials_missing"]
    assert "身份证、户口簿" in notice["text"] and "一次性补齐" in notice["text"]
    assert detail["steps"][-1]["note"] == "身份证、户口簿"

    staffed.supplement_materials(STAFF_A1, request_id, {})
    with pytest.raises(InvalidTransition) as failure:
        staffed.request_materials(STAFF_A1, request_id, {"missing": ["养老保险缴费凭证"]})
    assert "already" in failure.value.message


@pytest.mark.parametrize("body, expected", [
    ({"missing": []}, {"missing": ["Length must be between 1 and 50."]}),
    ({}, {"missing": ["Missing data for required field."]}),
    ({"missing": ["结婚证"]}, {"missing": [
        "not on the checklist (身份证, 户口簿, 养老保险缴费凭证): 结婚证"]}),
], ids=["empty", "missing", "not_on_checklist"])
def test_missing_materials_must_come_from_the_checklist(staffed, body, expected):
    request_id = bring_to(staffed, "accepted")
    with pytest.raises(ValidationFailed) as failure:
        staffed.request_materials(STAFF_A1, request_id, body)
    assert failure.value.fields == expected
    assert staffed.get_request(STAFF_A1, request_id)["status"] == "accepted"


# -- 首问责任制 ------------------------------------------------------------------------------------
def test_the_first_owner_stays_through_reassignments_and_to_the_end(staffed, engine):
    request_id = submit(staffed)
    staffed.accept_request(STAFF_A1, request_id)
    staffed.assign_request(STAFF_A1, request_id, {"assignee": "key-a2", "reason": "休假"})
    reply = staffed.assign_request(STAFF_A2, request_id, {"assignee": "key-lead-a",
                                                          "reason": "疑难"})
    assert (reply["first_owner"], reply["assignee"]) == ("key-a1", "key-lead-a")
    staffed.start_request(LEAD_A, request_id)
    done = staffed.complete_request(LEAD_A, request_id, DONE)
    assert (done["first_owner"], done["assignee"]) == ("key-a1", "key-lead-a")
    assert [i["id"] for i in staffed.list_requests(STAFF_A1, {"first_owner": "key-a1"})["items"]] \
        == [request_id]
    assert staffed.list_requests(STAFF_A1, {"assignee": "key-a1"})["items"] == []
    assert ledger(engine, request_id)[2].note == "key-a1 → key-a2: 休假"


def test_assigning_to_someone_not_on_the_centres_staff_is_refused(staffed):
    request_id = bring_to(staffed, "in_progress")
    for assignee in ("key-b", "key-unknown"):
        with pytest.raises(ValidationFailed) as failure:
            staffed.assign_request(STAFF_A1, request_id, {"assignee": assignee, "reason": "x"})
        assert failure.value.fields == {"assignee": ["no such staff member at this centre"]}


def test_complete_needs_the_home_countys_answer_when_the_category_says_so(staffed):
    staffed.set_category_rule(COUNTY_OFFICE, "pension", {
        "county_org_id": "county", "time_limit_days": 15, "materials": ["身份证"],
        "home_must_act": True})
    request_id = bring_to(staffed, "in_progress")
    assert staffed.get_request(STAFF_A1, request_id)["home_must_act"] is True
    with pytest.raises(InvalidTransition) as failure:
        staffed.complete_request(STAFF_A1, request_id, DONE)
    assert "收受分离" in failure.value.message
    staffed.forward_request(STAFF_A1, request_id, {})
    answer_from_home(staffed, request_id)
    assert staffed.complete_request(STAFF_A1, request_id, DONE)["status"] == "completed"


def test_forwarding_needs_a_known_home_county(staffed):
    request_id = staffed.submit_request(STAFF_A1, {
        "requester_name": "老乡", "category": "other", "description": "x"})["id"]
    staffed.claim_request(STAFF_A1, request_id)
    with pytest.raises(ValidationFailed) as failure:
        staffed.forward_request(STAFF_A1, request_id, {})
    assert "requester_home_org_id" in failure.value.fields


def test_reopening_only_within_the_window(staffed, clock):
    request_id = bring_to(staffed, "completed")
    clock.advance(days=31)
    with pytest.raises(InvalidTransition) as failure:
        staffed.reopen_request(STAFF_A1, request_id, {"reason": "结果有误"})
    assert failure.value.fields == {"status": ["completed more than 30 days ago"]}
    clock.advance(days=-2)
    reply = staffed.reopen_request(STAFF_A1, request_id, {"reason": "结果有误"})
    assert reply["status"] == "in_progress" and reply["completed_at"] is None


# -- language routing ----------------------------------------------------------------------------
def test_a_tibetan_request_goes_to_the_tibetan_speaker_first(staffed):
    request_id = submit(staffed, language="bo")
    chinese_one = submit(staffed)
    with pytest.raises(Forbidden) as failure:
        staffed.claim_request(STAFF_A1, request_id)
    assert failure.value.fields == {"caller": [
        "does not speak bo; ask one of the centre's speakers"]}
    assert [i["id"] for i in staffed.my_queue(STAFF_A1, {})["items"]] == [chinese_one]
    assert [i["id"] for i in staffed.my_queue(TIBETAN_A, {})["items"]] == [request_id, chinese_one]
    reply = staffed.claim_request(TIBETAN_A, request_id)
    assert reply["first_owner"] == "key-bo-a"
    with pytest.raises(Forbidden) as failure:
        staffed.assign_request(TIBETAN_A, request_id, {"assignee": "key-a2", "reason": "x"})
    assert list(failure.value.fields) == ["assignee"]
    [notice] = staffed.get_request(TIBETAN_A, request_id)["notices"]
    assert notice["language"] == "bo" and notice["needs_translation"] is True


def test_the_speakers_language_comes_first_in_the_queue(staffed):
    chinese_one = submit(staffed)
    tibetan = submit(staffed, language="bo")
    assert [i["id"] for i in staffed.my_queue(TIBETAN_A, {})["items"]] == [tibetan, chinese_one]


def test_a_language_nobody_at_the_centre_speaks_goes_to_anyone(staffed):
    request_id = submit(staffed, language="ug")
    assert staffed.claim_request(STAFF_A1, request_id)["first_owner"] == "key-a1"
