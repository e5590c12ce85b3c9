"""Tenancy of reads: a request is visible from the subtree of its centre's org unit only."""
import pytest

from services.plumbing.errors import NotFound, ValidationFailed

from .conftest import ADMIN, COMMITTEE_OFFICE, STAFF_A1, STAFF_A2, STAFF_B


def submit(service, caller, category="other", name="王五"):
    return service.submit_request(caller, {
        "requester_name": name, "category": category, "description": "x"})["id"]


@pytest.fixture
def one_each(service):
    """(request of centre A, request of centre B)"""
    return submit(service, STAFF_A1), submit(service, STAFF_B)


def ids_listed(service, caller, **params):
    return [item["id"] for item in service.list_requests(caller, params)["items"]]


def test_a_centre_cannot_get_another_centres_request(service, one_each):
    request_of_a, request_of_b = one_each
    assert service.get_request(STAFF_A2, request_of_a)["id"] == request_of_a
    with pytest.raises(NotFound) as hidden:
        service.get_request(STAFF_A1, request_of_b)
    with pytest.raises(NotFound) as missing:
        service.get_request(STAFF_A1, "no-such-request")
    assert hidden.value.as_dict() == missing.value.as_dict()  # callers cannot tell them apart


def test_a_centre_lists_only_its_own_requests(service, one_each):
    request_of_a, request_of_b = one_each
    assert ids_listed(service, STAFF_A1) == [request_of_a]
    assert ids_listed(service, STAFF_B) == [request_of_b]


def test_a_parent_org_sees_its_centres_requests(service, one_each):
    assert service.get_request(COMMITTEE_OFFICE, one_each[1])["id"] == one_each[1]
    assert ids_listed(service, COMMITTEE_OFFICE) == list(one_each)


def test_a_platform_wide_key_sees_everything(service, one_each):
    assert ids_listed(service, ADMIN) == list(one_each)
    assert service.get_request(ADMIN, one_each[0])["id"] == one_each[0]


def test_a_key_whose_org_is_unknown_sees_nothing(service, one_each):
    stranger = {"key_id": "key-x", "role": "desk_staff", "org_id": "unknown-org"}
    assert ids_listed(service, stranger) == []
    with pytest.raises(NotFound):
        service.get_request(stranger, one_each[0])


def test_list_pages_through_in_submission_order(service):
    submitted = [submit(service, STAFF_A1, name=f"requester {n}") for n in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        reply = service.list_requests(STAFF_A1, params)
        seen += [item["id"] for item in reply["items"]]
        pages += 1
        cursor = reply["next_cursor"]
        if cursor is None:
            break
    assert seen == submitted and pages == 3


def test_list_filters_by_status(service):
    first, second = submit(service, STAFF_A1), submit(service, STAFF_A1)
    service.claim_request(STAFF_A2, second)
    assert ids_listed(service, STAFF_A1, status="submitted") == [first]
    assert ids_listed(service, STAFF_A1, status="in_progress") == [second]
    assert ids_listed(service, STAFF_A1, status="completed") == []


def test_list_items_carry_the_request_without_its_ledger(service, one_each):
    [item] = service.list_requests(STAFF_A1, {})["items"]
    assert "steps" not in item
    assert set(item) == {
        "id", "centre_org_id", "category", "description", "requester_member_id",
        "requester_name", "requester_phone", "status", "submitted_by", "first_owner",
        "assignee", "outcome", "created_at", "claimed_at", "completed_at",
        "requester_home_org_id", "language", "channel", "service_day_id", "time_limit_days",
        "extended_days", "home_must_act", "materials_required", "materials_missing",
        "clock_started_on", "deadline", "clock_stopped", "calendar_estimated", "overdue",
        "overdue_reason"}


LIMIT_RANGE = "Must be greater than or equal to 1 and less than or equal to 200."


@pytest.mark.parametrize("params, expected", [
    ({"limit": 0}, {"limit": [LIMIT_RANGE]}),
    ({"limit": 201}, {"limit": [LIMIT_RANGE]}),
    ({"status": "lost"}, {"status": ["Must be one of: submitted, accepted, materials_missing, in_progress, "
                              "forwarded, answer_received, completed, rejected, withdrawn."]}),
    ({"cursor": "garbage"}, {"cursor": ["not a cursor this API returned"]}),
    ({"centre_org_id": "centre_b"}, {"centre_org_id": ["Unknown field."]}),
], ids=["limit_zero", "limit_too_big", "bad_status", "bad_cursor", "unknown_field"])
def test_bad_list_parameters_get_field_messages(service, params, expected):
    with pytest.raises(ValidationFailed) as failure:
        service.list_requests(STAFF_A1, params)
    assert failure.value.fields == expected


def test_health(service):
    assert service.health() == {"status": "ok"}
