"""The members entrypoints with nameko's worker_factory on a real SQLite database."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.donations import events as donation_events
from services.members.models import Member
from services.plumbing.envelope import ReceivedEvent
from services.plumbing.errors import Conflict, Forbidden, NotFound, ValidationFailed

from . import world
from .world import ADMIN, office, outbox

VALID_ID = "11010519491231002X"


def id_number(serial: int) -> str:
    return world.id_number(serial, birth="19491231")


def register(service, w, caller=None, **fields):
    """葛杰 (VALID_ID), at home in the township, flowed out to the branch."""
    return world.register(service, w, caller=caller, **{
        "name": "葛杰", "id_number": VALID_ID, "home_org_id": w["township"]["id"], **fields})


def outbox_types(uow):
    return [envelope["event_type"] for envelope in outbox(uow)]


def test_registered_member_is_masked_and_emits_one_event(service, w, uow):
    member = register(service, w)
    assert member["id_number"] == "110105********002X"
    assert member["phone"] == "138****1234"
    assert member["giving_total"] == "0.00"
    assert outbox_types(uow).count("member_registered") == 1


def test_dual_management_home_and_host_subtrees_see_the_member(service, w):
    member = register(service, w)
    for org in ("county", "township", "committee", "branch"):
        assert service.get_member(office(w[org]), member["id"])["id"] == member["id"]
    with pytest.raises(NotFound):
        service.get_member(office(w["other_county"]), member["id"])
    assert service.list_members(office(w["other_county"]), {})["items"] == []
    assert len(service.list_members(office(w["branch"]), {})["items"]) == 1


def test_duplicate_id_number_is_a_conflict_platform_wide(service, w, uow):
    register(service, w)
    with pytest.raises(Conflict):
        register(service, w, caller=office(w["other_county"]),
                 home_org_id=w["other_county"]["id"])
    assert outbox_types(uow).count("member_registered") == 1


def test_bad_input_reports_every_field_and_writes_nothing(service, w, uow):
    before = outbox_types(uow)
    with pytest.raises(ValidationFailed) as error:
        service.register_member(office(w["county"]), {
            "name": " ", "id_number": "110105194912310021", "phone": "12",
            "home_org_id": w["county"]["id"], "status": "accepted", "office_id": "x"})
    fields = error.value.fields
    assert set(fields) >= {"name", "phone", "status", "office_id"}
    with pytest.raises(ValidationFailed) as error:
        register(service, w, id_number="110105194912310021")
    assert "check digit" in error.value.fields["id_number"][0]
    assert outbox_types(uow) == before
    with uow.read() as session:
        assert session.scalar(select(Member.id)) is None


def test_orgs_outside_the_callers_scope_are_refused(service, w):
    with pytest.raises(ValidationFailed) as error:
        register(service, w, caller=office(w["other_county"]))
    assert "home_org_id" in error.value.fields


def test_only_platform_admin_creates_top_level_units(service, w):
    with pytest.raises(Forbidden):
        service.create_org_unit(office(w["county"]), {"kind": "county", "name": "x"})
    with pytest.raises(ValidationFailed):
        service.create_org_unit(office(w["county"]), {
            "kind": "branch", "name": "x", "parent_id": w["county"]["id"]})


def test_listing_pages_with_a_stable_cursor(service, w):
    for index in range(3):
        register(service, w, id_number=id_number(index), name=f"党员{index}")
    first = service.list_members(office(w["county"]), {"limit": 2})
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = service.list_members(office(w["county"]),
                                  {"limit": 2, "cursor": first["next_cursor"]})
    assert [m["name"] for m in first["items"] + second["items"]] == ["党员0", "党员1", "党员2"]
    assert second["next_cursor"] is None
    with pytest.raises(ValidationFailed):
        service.list_members(office(w["county"]), {"cursor": "garbage!"})


def donation_event(member_id, amount="100.10", event=None):
    envelope = event or donation_events.DONATION_RECEIVED.envelope({
        "donation_id": "d1", "campaign_id": "c1", "member_id": member_id,
        "amount": Decimal(amount), "received_at": datetime(2026, 11, 21, 8, tzinfo=UTC)})
    return ReceivedEvent.from_envelope(envelope, "members.on_donation_received"), envelope


def test_giving_is_credited_exactly_once_per_event(service, w):
    member = register(service, w)
    first, envelope = donation_event(member["id"], "490982.52")
    service.on_donation_received(first)
    again, _ = donation_event(member["id"], event=envelope)
    service.on_donation_received(again)  # redelivered: no second effect
    other, _ = donation_event(member["id"], "0.48")
    service.on_donation_received(other)
    assert service.get_member(ADMIN, member["id"])["giving_total"] == "490983.00"


def test_a_voided_gift_is_taken_back_once(service, w):
    member = register(service, w)
    gift, _ = donation_event(member["id"], "3000.00")
    service.on_donation_received(gift)
    void_envelope = donation_events.DONATION_VOIDED.envelope({
        "donation_id": "d1", "campaign_id": "c1", "member_id": member["id"],
        "amount": Decimal("3000.00"), "reason": "entered twice",
        "voided_at": datetime(2026, 11, 21, 9, tzinfo=UTC)})
    for _ in range(2):  # redelivered: no second effect
        service.on_donation_voided(
            ReceivedEvent.from_envelope(void_envelope, "members.on_donation_voided"))
    assert service.get_member(ADMIN, member["id"])["giving_total"] == "0.00"
