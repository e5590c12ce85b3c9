"""A request's life: submitted --claim--> in_progress --complete--> completed, and nothing else."""
import pytest
from sqlalchemy import select

from services.plumbing.errors import InvalidTransition, NotFound, ValidationFailed
from services.services_desk import events
from services.services_desk.events import REQUEST_CLAIMED, REQUEST_COMPLETED
from services.services_desk.models import Request, RequestStep

from .conftest import ADMIN, CENTRE_A, COMMITTEE_OFFICE, STAFF_A1, STAFF_A2, STAFF_B, received

DONE = {"outcome": "已办结：转移接续手续完成，电话告知本人"}


@pytest.fixture
def submitted(service):
    return service.submit_request(STAFF_A1, {
        "requester_name": "王五", "category": "medical_insurance", "description": "异地就医备案"})


@pytest.fixture
def in_progress(service, submitted):
    return service.claim_request(STAFF_A2, submitted["id"])


@pytest.fixture
def completed(service, in_progress):
    return service.complete_request(STAFF_A2, in_progress["id"], DONE)


def event_types(outbox):
    return [envelope["event_type"] for envelope in outbox()]


def status_in_db(engine, request_id):
    with engine.connect() as conn:
        return conn.scalar(select(Request.status).where(Request.id == request_id))


def test_claim_makes_the_claimer_first_owner_and_assignee(service, submitted, outbox):
    reply = service.claim_request(STAFF_A2, submitted["id"])

    assert reply["status"] == "in_progress"
    assert reply["first_owner"] == reply["assignee"] == "key-a2"
    assert reply["claimed_at"] is not None
    assert event_types(outbox) == ["request_submitted", "request_claimed"]
    data = REQUEST_CLAIMED.load(received(outbox()[-1], "any"))
    assert data["request_id"] == submitted["id"]
    assert data["centre_org_id"] == CENTRE_A
    assert data["first_owner"] == "key-a2"


def test_a_second_claim_is_refused_and_the_first_owner_kept(service, in_progress, outbox, engine):
    with pytest.raises(InvalidTransition) as failure:
        service.claim_request(STAFF_A1, in_progress["id"])
    assert failure.value.fields == {"status": ["is in_progress, must be submitted to claim it"],
                                    "assignee": ["held by key-a2"]}
    assert failure.value.message == "cannot claim this request: key-a2 holds it (in_progress)"

    reply = service.get_request(STAFF_A1, in_progress["id"])
    assert reply["first_owner"] == reply["assignee"] == "key-a2"
    assert event_types(outbox) == ["request_submitted", "request_claimed"]


def test_complete_stores_the_outcome(service, in_progress, outbox):
    reply = service.complete_request(STAFF_A2, in_progress["id"], DONE)

    assert reply["status"] == "completed"
    assert reply["outcome"] == DONE["outcome"]
    assert reply["completed_at"] is not None
    assert reply["first_owner"] == "key-a2"
    data = REQUEST_COMPLETED.load(received(outbox()[-1], "any"))
    assert data == {"request_id": in_progress["id"], "centre_org_id": CENTRE_A,
                    "first_owner": "key-a2", "completed_at": data["completed_at"]}
    assert outbox()[-1]["data"]["completed_at"] == reply["completed_at"]


def test_completing_a_submitted_request_is_refused(service, submitted, outbox, engine):
    with pytest.raises(InvalidTransition) as failure:
        service.complete_request(STAFF_A1, submitted["id"], DONE)
    assert failure.value.fields == {"status": [
        "is submitted, must be in_progress or answer_received to complete it"]}
    assert status_in_db(engine, submitted["id"]) == "submitted"
    assert event_types(outbox) == ["request_submitted"]


def test_a_completed_request_can_be_neither_claimed_nor_completed(service, completed, outbox):
    with pytest.raises(InvalidTransition):
        service.claim_request(STAFF_A1, completed["id"])
    with pytest.raises(InvalidTransition):
        service.complete_request(STAFF_A2, completed["id"], {"outcome": "again"})
    reply = service.get_request(STAFF_A1, completed["id"])
    assert reply["outcome"] == DONE["outcome"] and reply["first_owner"] == "key-a2"
    assert event_types(outbox) == ["request_submitted", "request_claimed", "request_completed"]


def test_the_ledger_records_every_step_in_order(service, completed):
    reply = service.get_request(STAFF_A1, completed["id"])
    assert [(s["step"], s["actor_key_id"], s["note"]) for s in reply["steps"]] == [
        ("submitted", "key-a1", None),
        ("claimed", "key-a2", None),
        ("completed", "key-a2", DONE["outcome"]),
    ]
    assert reply["steps"][1]["at"] == reply["claimed_at"]
    assert reply["steps"][2]["at"] == reply["completed_at"]


def test_a_parent_org_may_claim_its_centres_request(service, submitted):
    reply = service.claim_request(COMMITTEE_OFFICE, submitted["id"])
    assert reply["first_owner"] == "key-committee"


def test_another_centre_cannot_touch_the_request(service, submitted, engine, outbox):
    with pytest.raises(NotFound):
        service.claim_request(STAFF_B, submitted["id"])
    service.claim_request(STAFF_A1, submitted["id"])
    with pytest.raises(NotFound):
        service.complete_request(STAFF_B, submitted["id"], DONE)
    assert status_in_db(engine, submitted["id"]) == "in_progress"
    assert event_types(outbox) == ["request_submitted", "request_claimed"]


@pytest.mark.parametrize("request_id", ["no-such-request", None, 42, "x" * 37, ""])
def test_claiming_something_that_is_no_request_is_not_found(service, request_id):
    with pytest.raises(NotFound):
        service.claim_request(ADMIN, request_id)


@pytest.mark.parametrize("body, expected", [
    ({}, {"outcome": ["Missing data for required field."]}),
    ({"outcome": ""}, {"outcome": ["Length must be between 1 and 2000."]}),
    ({"outcome": "  "}, {"outcome": ["must not be blank"]}),
    ({"outcome": "x" * 2001}, {"outcome": ["Length must be between 1 and 2000."]}),
    ({"outcome": "ok", "status": "completed"}, {"status": ["Unknown field."]}),
    (None, {"_schema": ["expected a JSON object"]}),
], ids=["missing", "empty", "blank", "too_long", "unknown_field", "not_an_object"])
def test_a_bad_outcome_leaves_the_request_in_progress(service, in_progress, engine, outbox,
                                                     body, expected):
    with pytest.raises(ValidationFailed) as failure:
        service.complete_request(STAFF_A2, in_progress["id"], body)
    assert failure.value.fields == expected
    assert status_in_db(engine, in_progress["id"]) == "in_progress"
    assert event_types(outbox) == ["request_submitted", "request_claimed"]


# -- one transaction: the change, its ledger step and its event stand or fall together ---------
def test_a_failing_event_rolls_the_submission_back(service, monkeypatch, count_rows, outbox):
    def broken(_request):
        raise RuntimeError("contract broken")
    monkeypatch.setattr(events, "request_submitted", broken)

    with pytest.raises(RuntimeError):
        service.submit_request(STAFF_A1, {
            "requester_name": "王五", "category": "other", "description": "x"})
    assert count_rows(Request) == 0 and count_rows(RequestStep) == 0 and outbox() == []


def test_a_failing_outbox_write_rolls_the_claim_back(service, submitted, monkeypatch, engine,
                                                    count_rows, outbox):
    # Re-using the event id of the submission makes the outbox insert itself fail.
    submitted_event_id = outbox()[0]["event_id"]
    real_claimed = events.request_claimed
    monkeypatch.setattr(events, "request_claimed",
                        lambda request: {**real_claimed(request), "event_id": submitted_event_id})

    with pytest.raises(Exception):  # noqa: B017  (any refusal: the point is no second claim)
        service.claim_request(STAFF_A2, submitted["id"])
    assert status_in_db(engine, submitted["id"]) == "submitted"
    assert count_rows(RequestStep) == 1
    assert event_types(outbox) == ["request_submitted"]
    # and the request can still be claimed once the fault is gone
    monkeypatch.setattr(events, "request_claimed", real_claimed)
    assert service.claim_request(STAFF_A1, submitted["id"])["first_owner"] == "key-a1"


def test_a_refused_step_reads_as_english(service, submitted):
    with pytest.raises(InvalidTransition) as failure:
        service.request_materials(STAFF_A1, submitted["id"], {"missing": ["身份证"]})
    assert failure.value.message == "cannot list missing materials for a request that is submitted"
    assert failure.value.fields == {"status": [
        "is submitted, must be accepted or in_progress to list missing materials for it"]}
