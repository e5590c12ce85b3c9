"""The members entrypoints with nameko's worker_factory on a real SQLite database."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select

from services.donations import events as donation_events
from services.members.id_numbers import check_char
from services.members.models import PLUMBING, Member
from services.members.service import MembersService
from services.plumbing.envelope import ReceivedEvent
from services.plumbing.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .conftest import CONFIG

ADMIN = {"key_id": "admin", "role": "admin", "org_id": None}
VALID_ID = "11010519491231002X"


def id_number(serial: int) -> str:
    first17 = f"110105194912310{serial:02d}"
    return first17 + check_char(first17)


def office(org):
    return {"key_id": "k-" + org["id"][:4], "role": "office", "org_id": org["id"]}


@pytest.fixture
def service(uow):
    return worker_factory(MembersService, db=uow, config=CONFIG)


@pytest.fixture
def trees(service):
    county = service.create_org_unit(ADMIN, {"kind": "county", "name": "淮阳区"})
    township = service.create_org_unit(ADMIN, {"kind": "township", "name": "城关镇",
                                               "parent_id": county["id"]})
    other_county = service.create_org_unit(ADMIN, {"kind": "county", "name": "皮州市"})
    committee = service.create_org_unit(ADMIN, {"kind": "joint_committee", "name": "驻京流动党委"})
    branch = service.create_org_unit(ADMIN, {"kind": "branch", "name": "丰台支部",
                                             "parent_id": committee["id"]})
    return {"county": county, "township": township, "other_county": other_county,
            "committee": committee, "branch": branch}


def register(service, trees, caller=None, **fields):
    body = {"name": "葛杰", "id_number": VALID_ID, "phone": "13800001234",
            "home_org_id": trees["township"]["id"], "host_org_id": trees["branch"]["id"]}
    body.update(fields)
    return service.register_member(caller or office(trees["county"]), body)


def outbox_types(uow):
    with uow.read() as session:
        return [row.event_type for row in session.execute(select(PLUMBING.outbox))]


def test_registered_member_is_masked_and_emits_one_event(service, trees, uow):
    member = register(service, trees)
    assert member["id_number"] == "110105********002X"
    assert member["phone"] == "138****1234"
    assert member["giving_total"] == "0.00"
    assert outbox_types(uow).count("member_registered") == 1


def test_dual_management_home_and_host_subtrees_see_the_member(service, trees):
    member = register(service, trees)
    for org in ("county", "township", "committee", "branch"):
        assert service.get_member(office(trees[org]), member["id"])["id"] == member["id"]
    with pytest.raises(NotFound):
        service.get_member(office(trees["other_county"]), member["id"])
    assert service.list_members(office(trees["other_county"]), {})["items"] == []
    assert len(service.list_members(office(trees["branch"]), {})["items"]) == 1


def test_duplicate_id_number_is_a_conflict_platform_wide(service, trees, uow):
    register(service, trees)
    with pytest.raises(Conflict):
        register(service, trees, caller=office(trees["other_county"]),
                 home_org_id=trees["other_county"]["id"])
    assert outbox_types(uow).count("member_registered") == 1


def test_bad_input_reports_every_field_and_writes_nothing(service, trees, uow):
    before = outbox_types(uow)
    with pytest.raises(ValidationFailed) as error:
        service.register_member(office(trees["county"]), {
            "name": " ", "id_number": "110105194912310021", "phone": "12",
            "home_org_id": trees["county"]["id"], "status": "accepted", "office_id": "x"})
    fields = error.value.fields
    assert set(fields) >= {"name", "phone", "status", "office_id"}
    with pytest.raises(ValidationFailed) as error:
        register(service, trees, id_number="110105194912310021")
    assert "check digit" in error.value.fields["id_number"][0]
    assert outbox_types(uow) == before
    with uow.read() as session:
        assert session.scalar(select(Member.id)) is None


def test_orgs_outside_the_callers_scope_are_refused(service, trees):
    with pytest.raises(ValidationFailed) as error:
        register(service, trees, caller=office(trees["other_county"]))
    assert "home_org_id" in error.value.fields


def test_only_platform_admin_creates_top_level_units(service, trees):
    with pytest.raises(Forbidden):
        service.create_org_unit(office(trees["county"]), {"kind": "county", "name": "x"})
    with pytest.raises(ValidationFailed):
        service.create_org_unit(office(trees["county"]), {
            "kind": "branch", "name": "x", "parent_id": trees["county"]["id"]})


def test_listing_pages_with_a_stable_cursor(service, trees):
    for index in range(3):
        register(service, trees, id_number=id_number(index), name=f"党员{index}")
    first = service.list_members(office(trees["county"]), {"limit": 2})
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = service.list_members(office(trees["county"]),
                                  {"limit": 2, "cursor": first["next_cursor"]})
    assert [m["name"] for m in first["items"] + second["items"]] == ["党员0", "党员1", "党员2"]
    assert second["next_cursor"] is None
    with pytest.raises(ValidationFailed):
        service.list_members(office(trees["county"]), {"cursor": "garbage!"})


def donation_event(member_id, amount="100.10", event=None):
    envelope = event or donation_events.DONATION_RECEIVED.envelope({
        "donation_id": "d1", "campaign_id": "c1", "member_id": member_id,
        "amount": Decimal(amount), "received_at": datetime(2026, 11, 21, 8, tzinfo=UTC)})
    return ReceivedEvent.from_envelope(envelope, "members.on_donation_received"), envelope


def test_giving_is_credited_exactly_once_per_event(service, trees):
    member = register(service, trees)
    first, envelope = donation_event(member["id"], "490982.52")
    service.on_donation_received(first)
    again, _ = donation_event(member["id"], event=envelope)
    service.on_donation_received(again)  # redelivered: no second effect
    other, _ = donation_event(member["id"], "0.48")
    service.on_donation_received(other)
    assert service.get_member(ADMIN, member["id"])["giving_total"] == "490983.00"


def test_a_voided_gift_is_taken_back_once(service, trees):
    member = register(service, trees)
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
