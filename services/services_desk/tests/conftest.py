"""Fixtures: the desk service as a nameko worker on a fresh SQLite database, no broker.

The org trees used throughout:

    /committee/                joint committee (host side)
    /committee/centre_a/       service centre A
    /committee/centre_b/       service centre B
    /county/                   home county
    member_of_a: home county, hosted by centre A
    member_of_b: home county, hosted by centre B
"""
from datetime import UTC

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.members import events as member_events
from services.plumbing.db import UnitOfWork, make_engine
from services.plumbing.envelope import ReceivedEvent, utcnow
from services.services_desk.models import PLUMBING, Base
from services.services_desk.service import ServicesDeskService

COMMITTEE, CENTRE_A, CENTRE_B, COUNTY = "committee", "centre_a", "centre_b", "county"
MEMBER_OF_A, MEMBER_OF_B = "member_of_a", "member_of_b"

STAFF_A1 = {"key_id": "key-a1", "role": "desk_staff", "org_id": CENTRE_A}
STAFF_A2 = {"key_id": "key-a2", "role": "desk_staff", "org_id": CENTRE_A}
STAFF_B = {"key_id": "key-b", "role": "desk_staff", "org_id": CENTRE_B}
COMMITTEE_OFFICE = {"key_id": "key-committee", "role": "office", "org_id": COMMITTEE}
ADMIN = {"key_id": "key-admin", "role": "admin", "org_id": None}


def received(envelope: dict, method: str) -> ReceivedEvent:
    """An envelope as the desk's subscriber `method` receives it."""
    return ReceivedEvent.from_envelope(envelope, f"services_desk.{method}")


def org_unit_registered(org_id, parent_path, kind, name="unit", parent_id=None) -> ReceivedEvent:
    return received(member_events.ORG_UNIT_REGISTERED.envelope({
        "org_id": org_id, "parent_id": parent_id, "kind": kind, "name": name,
        "path": f"{parent_path}{org_id}/"}), "on_org_unit_registered")


def member_registered(member_id, name, home_org_id, host_org_id) -> ReceivedEvent:
    return received(member_events.MEMBER_REGISTERED.envelope({
        "member_id": member_id, "name": name, "home_org_id": home_org_id,
        "host_org_id": host_org_id, "registered_at": utcnow()}), "on_member_registered")


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def desk(engine):
    """A bare desk: no org units or members known yet."""
    uow = UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id=None)
    return worker_factory(ServicesDeskService, db=uow, config={})


@pytest.fixture
def service(desk):
    """The desk after the members service announced the trees and members above."""
    for event in (
        org_unit_registered(COMMITTEE, "/", "joint_committee"),
        org_unit_registered(CENTRE_A, f"/{COMMITTEE}/", "service_centre", parent_id=COMMITTEE),
        org_unit_registered(CENTRE_B, f"/{COMMITTEE}/", "service_centre", parent_id=COMMITTEE),
        org_unit_registered(COUNTY, "/", "county"),
    ):
        desk.on_org_unit_registered(event)
    desk.on_member_registered(member_registered(MEMBER_OF_A, "张三", COUNTY, CENTRE_A))
    desk.on_member_registered(member_registered(MEMBER_OF_B, "李四", COUNTY, CENTRE_B))
    return desk


@pytest.fixture
def outbox(engine):
    """`outbox()` lists the envelopes written so far, oldest first."""
    def read():
        with engine.connect() as conn:
            return list(conn.scalars(select(PLUMBING.outbox.c.envelope)
                                     .order_by(PLUMBING.outbox.c.seq)))
    return read


@pytest.fixture
def count_rows(engine):
    """`count_rows(table)` counts the rows of a Table or mapped class."""
    def count(table):
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))
    return count


# -- time, staff and rules for the workflow tests ------------------------------------------------
LEAD_A = {"key_id": "key-lead-a", "role": "desk_staff", "org_id": CENTRE_A}
TIBETAN_A = {"key_id": "key-bo-a", "role": "desk_staff", "org_id": CENTRE_A}
COUNTY_OFFICE = {"key_id": "key-county", "role": "office", "org_id": COUNTY}
OTHER_COUNTY, OTHER_COUNTY_OFFICE = "county2", {"key_id": "key-county2", "role": "office",
                                                "org_id": "county2"}


class FakeClock:
    """`now` as the desk's modules see it (they call `utcnow()`, and `today_in_china()` reads
    `envelope.utcnow`); starts at a given instant."""

    def __init__(self, monkeypatch, start):
        from services.plumbing import envelope
        from services.services_desk import deadlines, home_tasks, proxy_requests, reports
        self.now = start
        for module in (proxy_requests, deadlines, home_tasks, reports, envelope):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def set(self, moment):
        self.now = moment

    def advance(self, **kwargs):
        from datetime import timedelta
        self.now = self.now + timedelta(**kwargs)


def beijing(year, month, day, hour=10):
    """An instant at `hour` o'clock Beijing time, as UTC."""
    from datetime import datetime

    from services.plumbing.clock import CHINA
    return datetime(year, month, day, hour, tzinfo=CHINA).astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    return FakeClock(monkeypatch, beijing(2026, 9, 29))


@pytest.fixture
def staffed(service):
    """Centre A with a lead, two Chinese-only staff and a Tibetan speaker; centre B with one."""
    service.put_staff(ADMIN, "key-lead-a", {"centre_org_id": CENTRE_A, "name": "组长",
                                            "is_lead": True})
    for key, languages in (("key-a1", []), ("key-a2", []), ("key-bo-a", ["bo"])):
        service.put_staff(LEAD_A, key, {"centre_org_id": CENTRE_A, "name": key,
                                        "languages": languages})
    service.put_staff(ADMIN, "key-b", {"centre_org_id": CENTRE_B, "name": "b"})
    service.on_org_unit_registered(org_unit_registered(OTHER_COUNTY, "/", "county"))
    return service
