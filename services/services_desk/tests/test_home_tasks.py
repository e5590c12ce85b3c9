"""收受分离 inside the desk: the home county sees only the tasks forwarded to it, accepts and
answers them; the answer moves the request on and is an event."""
import pytest

from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed
from services.services_desk.events import HOME_TASK_ANSWERED, HOME_TASK_CREATED

from .conftest import (
    ADMIN,
    COUNTY,
    COUNTY_OFFICE,
    MEMBER_OF_A,
    OTHER_COUNTY,
    OTHER_COUNTY_OFFICE,
    STAFF_A1,
    STAFF_B,
    received,
)


@pytest.fixture
def forwarded(staffed):
    request_id = staffed.submit_request(STAFF_A1, {
        "requester_member_id": MEMBER_OF_A, "category": "pension", "description": "养老转移"})["id"]
    staffed.claim_request(STAFF_A1, request_id)
    task = staffed.forward_request(STAFF_A1, request_id, {"note": "请办理养老保险关系转出"})
    return request_id, task


def test_forwarding_creates_a_task_for_the_members_home_county(staffed, forwarded, outbox):
    request_id, task = forwarded
    assert (task["home_org_id"], task["status"], task["request_id"]) == (COUNTY, "open", request_id)
    created = HOME_TASK_CREATED.load(received(
        [e for e in outbox() if e["event_type"] == "home_task_created"][0], "any"))
    assert (created["task_id"], created["home_org_id"]) == (task["id"], COUNTY)
    notice = staffed.get_request(STAFF_A1, request_id)["notices"][-1]
    assert notice["kind"] == "forwarded" and "unit" in notice["text"]


def test_only_the_home_county_sees_the_task(staffed, forwarded):
    _request_id, task = forwarded
    assert [t["id"] for t in staffed.list_home_tasks(COUNTY_OFFICE, {})["items"]] == [task["id"]]
    assert [t["id"] for t in staffed.list_home_tasks(ADMIN, {})["items"]] == [task["id"]]
    for outsider in (OTHER_COUNTY_OFFICE, STAFF_A1, STAFF_B):
        assert staffed.list_home_tasks(outsider, {})["items"] == []
        with pytest.raises(NotFound):
            staffed.get_home_task(outsider, task["id"])
        with pytest.raises(NotFound):
            staffed.accept_home_task(outsider, task["id"])


def test_the_county_accepts_then_answers_and_the_desk_goes_on(staffed, forwarded, outbox):
    request_id, task = forwarded
    with pytest.raises(InvalidTransition):
        staffed.answer_home_task(COUNTY_OFFICE, task["id"], {"result": "approved"})
    accepted = staffed.accept_home_task(COUNTY_OFFICE, task["id"])
    assert (accepted["status"], accepted["accepted_by"]) == ("accepted", "key-county")
    with pytest.raises(InvalidTransition):
        staffed.accept_home_task(COUNTY_OFFICE, task["id"])

    answered = staffed.answer_home_task(COUNTY_OFFICE, task["id"], {
        "result": "declined", "note": "缴费年限不足", "reference_number": "HY-88"})
    assert (answered["status"], answered["result"], answered["reference_number"]) == (
        "answered", "declined", "HY-88")
    request = staffed.get_request(STAFF_A1, request_id)
    assert request["status"] == "answer_received"
    assert request["steps"][-1] == {**request["steps"][-1], "step": "answer_received",
                                    "actor_key_id": "key-county", "note": "declined: 缴费年限不足"}
    assert request["home_tasks"][0]["result"] == "declined"
    event = HOME_TASK_ANSWERED.load(received(outbox()[-1], "any"))
    assert (event["task_id"], event["request_id"], event["result"]) == (
        task["id"], request_id, "declined")
    with pytest.raises(InvalidTransition):
        staffed.answer_home_task(COUNTY_OFFICE, task["id"], {"result": "approved"})


def test_a_withdrawn_request_withdraws_its_open_task(staffed, forwarded):
    request_id, task = forwarded
    staffed.withdraw_request(STAFF_A1, request_id, {"reason": "本人撤回"})
    assert staffed.get_home_task(COUNTY_OFFICE, task["id"])["status"] == "withdrawn"
    with pytest.raises(InvalidTransition):
        staffed.accept_home_task(COUNTY_OFFICE, task["id"])


def test_a_non_member_names_the_home_county_checked_against_the_org_projection(staffed):
    with pytest.raises(ValidationFailed) as failure:
        staffed.submit_request(STAFF_A1, {"requester_name": "老乡", "category": "other",
                                          "description": "x", "requester_home_org_id": "nowhere"})
    assert failure.value.fields == {"requester_home_org_id": ["no such org unit"]}
    request_id = staffed.submit_request(STAFF_A1, {
        "requester_name": "老乡", "category": "other", "description": "x",
        "requester_home_org_id": OTHER_COUNTY})["id"]
    staffed.claim_request(STAFF_A1, request_id)
    task = staffed.forward_request(STAFF_A1, request_id, {})
    assert task["home_org_id"] == OTHER_COUNTY
    assert [t["id"] for t in staffed.list_home_tasks(OTHER_COUNTY_OFFICE, {})["items"]] == [
        task["id"]]
    assert staffed.list_home_tasks(COUNTY_OFFICE, {})["items"] == []


def test_a_member_request_may_not_name_another_home_county(staffed):
    with pytest.raises(ValidationFailed) as failure:
        staffed.submit_request(STAFF_A1, {
            "requester_member_id": MEMBER_OF_A, "category": "other", "description": "x",
            "requester_home_org_id": OTHER_COUNTY})
    assert list(failure.value.fields) == ["requester_home_org_id"]


def test_a_bad_answer_is_refused_with_field_messages(staffed, forwarded):
    _request_id, task = forwarded
    staffed.accept_home_task(COUNTY_OFFICE, task["id"])
    with pytest.raises(ValidationFailed) as failure:
        staffed.answer_home_task(COUNTY_OFFICE, task["id"], {"result": "maybe", "extra": 1})
    assert failure.value.fields == {"result": ["Must be one of: approved, declined."],
                                    "extra": ["Unknown field."]}


def test_a_countys_rule_applies_to_members_of_its_townships(staffed, outbox):
    from .conftest import member_registered, org_unit_registered
    staffed.on_org_unit_registered(org_unit_registered("township", f"/{COUNTY}/", "township",
                                                       parent_id=COUNTY))
    staffed.on_member_registered(member_registered("villager", "王六", "township", "centre_a"))
    staffed.set_category_rule(COUNTY_OFFICE, "work_injury", {
        "county_org_id": COUNTY, "time_limit_days": 30, "materials": ["工伤认定书"],
        "home_must_act": True})
    reply = staffed.submit_request(STAFF_A1, {"requester_member_id": "villager",
                                              "category": "work_injury", "description": "x"})
    assert (reply["time_limit_days"], reply["home_must_act"]) == (30, True)
    staffed.claim_request(STAFF_A1, reply["id"])
    task = staffed.forward_request(STAFF_A1, reply["id"], {})
    assert task["home_org_id"] == "township"
    assert [t["id"] for t in staffed.list_home_tasks(COUNTY_OFFICE, {})["items"]] == [task["id"]]
