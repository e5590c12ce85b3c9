"""The tenancy projection kept from the members service's events."""
from services.plumbing.tenancy import NOTHING
from services.services_desk.models import PLUMBING, TENANCY

from .conftest import CENTRE_A, COUNTY, member_registered, org_unit_registered


def test_org_units_and_members_are_projected(service, engine, count_rows):
    assert count_rows(TENANCY.tables.org_units) == 4
    assert count_rows(TENANCY.tables.members) == 2
    with engine.connect() as conn:
        path = conn.scalar(TENANCY.tables.org_units.select()
                           .with_only_columns(TENANCY.tables.org_units.c.path)
                           .where(TENANCY.tables.org_units.c.org_id == CENTRE_A))
    assert path == "/committee/centre_a/" and path != NOTHING


def test_a_redelivered_org_unit_event_is_applied_once(desk, count_rows):
    event = org_unit_registered("station", "/", "service_station")
    desk.on_org_unit_registered(event)
    desk.on_org_unit_registered(event)
    assert count_rows(TENANCY.tables.org_units) == 1
    assert count_rows(PLUMBING.processed_events) == 1


def test_a_redelivered_member_event_is_applied_once(desk, count_rows):
    event = member_registered("m1", "赵六", COUNTY, None)
    desk.on_member_registered(event)
    desk.on_member_registered(event)
    assert count_rows(TENANCY.tables.members) == 1
    assert count_rows(PLUMBING.processed_events) == 1


def test_projecting_emits_nothing(service, outbox):
    assert outbox() == []
