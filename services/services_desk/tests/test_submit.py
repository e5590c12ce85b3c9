"""Taking a request in: who the requester is, whose centre it belongs to, what is validated."""
import pytest
from sqlalchemy import select

from services.plumbing.errors import Forbidden, ValidationFailed
from services.services_desk.events import REQUEST_SUBMITTED
from services.services_desk.models import Request, RequestStep

from .conftest import ADMIN, CENTRE_A, COMMITTEE_OFFICE, MEMBER_OF_A, MEMBER_OF_B, STAFF_A1, received

PENSION = {"category": "pension", "description": "养老保险转移接续"}


def test_submit_for_a_member_in_scope(service, outbox, engine):
    reply = service.submit_request(STAFF_A1, {**PENSION, "requester_member_id": MEMBER_OF_A})

    assert reply["status"] == "submitted"
    assert reply["centre_org_id"] == CENTRE_A
    assert reply["requester_member_id"] == MEMBER_OF_A
    assert reply["requester_name"] == "张三"  # copied from the projection for the ledger
    assert reply["requester_phone"] is None
    assert reply["submitted_by"] == "key-a1"
    assert reply["first_owner"] is None and reply["assignee"] is None
    assert reply["created_at"].endswith("+00:00")

    [envelope] = outbox()
    assert envelope["producer"] == "services_desk"
    assert envelope["event_type"] == "request_submitted" and envelope["version"] == 1
    data = REQUEST_SUBMITTED.load(received(envelope, "any"))
    assert data["request_id"] == reply["id"]
    assert data["centre_org_id"] == CENTRE_A
    assert data["category"] == "pension"
    assert data["requester_member_id"] == MEMBER_OF_A
    assert envelope["data"]["submitted_at"] == reply["created_at"]

    with engine.connect() as conn:
        [step] = conn.execute(select(RequestStep.step, RequestStep.actor_key_id)).all()
    assert tuple(step) == ("submitted", "key-a1")


def test_submit_for_a_non_member_masks_the_phone_in_replies(service, engine):
    reply = service.submit_request(STAFF_A1, {
        **PENSION, "requester_name": " 王五 ", "requester_phone": "13812345678"})

    assert reply["requester_member_id"] is None
    assert reply["requester_name"] == "王五"
    assert reply["requester_phone"] == "138****5678"
    with engine.connect() as conn:
        assert conn.scalar(select(Request.requester_phone)) == "13812345678"


def test_submit_for_a_non_member_without_phone(service):
    reply = service.submit_request(STAFF_A1, {**PENSION, "requester_name": "王五"})
    assert reply["requester_phone"] is None


def test_a_parent_org_may_take_in_requests_for_its_own_unit(service):
    reply = service.submit_request(COMMITTEE_OFFICE,
                                   {**PENSION, "requester_member_id": MEMBER_OF_B})
    assert reply["centre_org_id"] == "committee"


@pytest.mark.parametrize("requester, expected", [
    ({"requester_member_id": MEMBER_OF_A, "requester_name": "张三"}, {
        "requester_member_id": ["give requester_member_id or requester_name, not both"],
        "requester_name": ["give requester_member_id or requester_name, not both"]}),
    ({}, {
        "requester_member_id": ["give requester_member_id or requester_name"],
        "requester_name": ["give requester_member_id or requester_name"]}),
    ({"requester_phone": "13812345678"}, {
        "requester_member_id": ["give requester_member_id or requester_name"],
        "requester_name": ["give requester_member_id or requester_name"]}),
    ({"requester_member_id": MEMBER_OF_A, "requester_phone": "13812345678"}, {
        "requester_phone": ["only with requester_name: a member is reached through the registry"]}),
], ids=["both", "neither", "phone_only", "member_with_phone"])
def test_the_requester_is_named_exactly_one_way(service, outbox, count_rows, requester, expected):
    with pytest.raises(ValidationFailed) as failure:
        service.submit_request(STAFF_A1, {**PENSION, **requester})
    assert failure.value.fields == expected
    assert count_rows(Request) == 0 and outbox() == []


@pytest.mark.parametrize("member_id", [MEMBER_OF_B, "no-such-member"],
                         ids=["other_centres_member", "unknown_member"])
def test_a_member_outside_the_callers_scope_is_refused(service, outbox, count_rows, member_id):
    with pytest.raises(ValidationFailed) as failure:
        service.submit_request(STAFF_A1, {**PENSION, "requester_member_id": member_id})
    assert failure.value.fields == {"requester_member_id": ["no such member in your scope"]}
    assert count_rows(Request) == 0 and count_rows(RequestStep) == 0 and outbox() == []


def test_a_platform_wide_key_has_no_centre(service, outbox):
    with pytest.raises(Forbidden):
        service.submit_request(ADMIN, {**PENSION, "requester_name": "王五"})
    assert outbox() == []


def test_the_callers_org_must_be_known_to_the_desk(desk, outbox):
    with pytest.raises(ValidationFailed) as failure:
        desk.submit_request(STAFF_A1, {**PENSION, "requester_name": "王五"})
    assert list(failure.value.fields) == ["caller"]
    assert outbox() == []


def test_a_malformed_caller_is_refused(service):
    with pytest.raises(ValidationFailed) as failure:
        service.submit_request({"key_id": "k", "role": "nobody", "org_id": CENTRE_A},
                               {**PENSION, "requester_name": "王五"})
    assert failure.value.fields == {"caller": ["invalid"]}


@pytest.mark.parametrize("body, expected", [
    ({"requester_name": "王五", "category": "taxes", "description": "x"},
     {"category": ["Must be one of: social_insurance, medical_insurance, employment_subsidy, "
                   "pension, work_injury, maternity, policy_consultation, job_help, "
                   "hardship_help, other."]}),
    ({"requester_name": "王五", "description": "x"},
     {"category": ["Missing data for required field."]}),
    ({"requester_name": "王五", "category": "other", "description": ""},
     {"description": ["Length must be between 1 and 2000."]}),
    ({"requester_name": "王五", "category": "other", "description": "   "},
     {"description": ["must not be blank"]}),
    ({"requester_name": "王五", "category": "other", "description": "x" * 2001},
     {"description": ["Length must be between 1 and 2000."]}),
    ({"requester_name": " ", "category": "other", "description": "x"},
     {"requester_name": ["must not be blank"]}),
    ({"requester_name": "王" * 101, "category": "other", "description": "x"},
     {"requester_name": ["Length must be between 1 and 100."]}),
    ({"requester_name": "王五", "requester_phone": "12345", "category": "other", "description": "x"},
     {"requester_phone": ["must be a mainland mobile (11 digits) or a landline with area code"]}),
    ({"requester_name": "王五", "category": "other", "description": "x", "centre_org_id": "b"},
     {"centre_org_id": ["Unknown field."]}),
    ({"requester_name": "王五", "category": "other", "description": 5},
     {"description": ["Not a valid string."]}),
    (["not", "an", "object"], {"_schema": ["expected a JSON object"]}),
], ids=["bad_category", "no_category", "empty_description", "blank_description",
        "long_description", "blank_name", "long_name", "bad_phone", "unknown_field",
        "description_not_string", "not_an_object"])
def test_bad_input_gets_field_messages(service, outbox, count_rows, body, expected):
    with pytest.raises(ValidationFailed) as failure:
        service.submit_request(STAFF_A1, body)
    assert failure.value.fields == expected
    assert count_rows(Request) == 0 and outbox() == []


def test_every_problem_is_reported_at_once(service):
    with pytest.raises(ValidationFailed) as failure:
        service.submit_request(STAFF_A1, {"category": "taxes", "description": ""})
    assert set(failure.value.fields) == {
        "category", "description", "requester_member_id", "requester_name"}


def test_a_landline_is_accepted(service):
    reply = service.submit_request(STAFF_A1, {
        **PENSION, "requester_name": "王五", "requester_phone": "010-12345678"})
    assert reply["requester_phone"].startswith("010-") and "*" in reply["requester_phone"]
