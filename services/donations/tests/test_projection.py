"""The tenancy projection kept from members' events: each event applied once."""
from sqlalchemy.orm import Session

from services.donations.models import TENANCY

from .conftest import BRANCH, COMMITTEE, member_registered, org_unit_registered, received


def test_a_redelivered_org_unit_event_is_applied_once(service, count):
    paths = {}
    envelope = org_unit_registered(COMMITTEE, None, "joint_committee", paths)
    for _ in range(3):
        service.on_org_unit_registered(received(envelope, "on_org_unit_registered"))

    assert count("org_units_projection") == 1
    assert count("processed_events", consumer="donations.on_org_unit_registered") == 1


def test_a_unit_announced_twice_in_two_events_is_kept_once(service, count):
    paths = {}
    for _ in range(2):
        service.on_org_unit_registered(received(
            org_unit_registered(COMMITTEE, None, "joint_committee", paths),
            "on_org_unit_registered"))
    assert count("org_units_projection") == 1
    assert count("processed_events") == 2


def test_the_projection_keeps_paths_for_scoping(service, engine):
    paths = {}
    for org_id, parent, kind in ((COMMITTEE, None, "joint_committee"),
                                 (BRANCH, COMMITTEE, "branch")):
        service.on_org_unit_registered(received(
            org_unit_registered(org_id, parent, kind, paths), "on_org_unit_registered"))
    with Session(engine) as session:
        assert TENANCY.org_path(session, BRANCH) == f"/{COMMITTEE}/{BRANCH}/"


def test_a_redelivered_member_event_is_applied_once(service, count):
    envelope = member_registered("member-9", "Zhao Lei", "county-9", None)
    for _ in range(2):
        service.on_member_registered(received(envelope, "on_member_registered"))

    assert count("members_projection") == 1
    assert count("processed_events", consumer="donations.on_member_registered") == 1
