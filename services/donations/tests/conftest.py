"""Fixtures for unit tests without a broker: a SQLite database per test and service workers
built with nameko's worker_factory, fed with members' events like the broker would."""
from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.donations.models import PLUMBING, Base
from services.donations.service import DonationsService
from services.members import events as member_events
from services.plumbing.db import UnitOfWork, make_engine
from services.plumbing.envelope import ReceivedEvent

# The org trees of the fixtures: a county office at home; at the host city a joint committee
# with two branches; and an unrelated committee elsewhere.
COUNTY = "county-0001"
COMMITTEE = "committee-0001"
BRANCH = "branch-0001"
SISTER_BRANCH = "branch-0002"
ELSEWHERE = "committee-0002"
ORGS = (  # (org_id, parent_id, kind)
    (COUNTY, None, "county"),
    (COMMITTEE, None, "joint_committee"),
    (BRANCH, COMMITTEE, "branch"),
    (SISTER_BRANCH, COMMITTEE, "branch"),
    (ELSEWHERE, None, "joint_committee"),
)
# A member from the county living in the first branch's city, and one far away.
MEMBER = "member-0001"
STRANGER = "member-0002"


def caller(org_id, role="office"):
    return {"key_id": f"key-of-{org_id}", "role": role, "org_id": org_id}


PLATFORM = {"key_id": "key-admin", "role": "admin", "org_id": None}


def received(envelope, method_name):
    return ReceivedEvent.from_envelope(envelope, f"donations.{method_name}")


def org_unit_registered(org_id, parent_id, kind, paths):
    path = (paths[parent_id] if parent_id else "/") + org_id + "/"
    paths[org_id] = path
    return member_events.ORG_UNIT_REGISTERED.envelope({
        "org_id": org_id, "parent_id": parent_id, "kind": kind, "name": f"unit {org_id}",
        "path": path})


def member_registered(member_id, name, home_org_id, host_org_id):
    return member_events.MEMBER_REGISTERED.envelope({
        "member_id": member_id, "name": name, "home_org_id": home_org_id,
        "host_org_id": host_org_id, "registered_at": datetime(2026, 3, 1, tzinfo=UTC)})


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'donations.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_service(engine):
    """A fresh worker of the service (as nameko makes one per call), with config overrides."""
    def make(**config):
        uow = UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id=None)
        return worker_factory(DonationsService, db=uow, config=config)
    return make


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def tenancy(service):
    """The org trees and members, delivered as members' events."""
    paths = {}
    for org_id, parent_id, kind in ORGS:
        service.on_org_unit_registered(received(
            org_unit_registered(org_id, parent_id, kind, paths), "on_org_unit_registered"))
    for member_id, name, home, host in ((MEMBER, "Zhang Wei", COUNTY, BRANCH),
                                        (STRANGER, "Li Na", COUNTY, ELSEWHERE)):
        service.on_member_registered(received(
            member_registered(member_id, name, home, host), "on_member_registered"))
    return paths


@pytest.fixture
def count(engine):
    """count(table_name, **equal_to): rows in a table."""
    def count_rows(table_name, **equal_to):
        table = Base.metadata.tables[table_name]
        query = select(func.count()).select_from(table)
        for column, value in equal_to.items():
            query = query.where(table.c[column] == value)
        with engine.connect() as conn:
            return conn.scalar(query)
    return count_rows


@pytest.fixture
def outbox(engine):
    """outbox(event_type): the envelopes written to the outbox, oldest first."""
    def envelopes(event_type):
        table = PLUMBING.outbox
        with engine.connect() as conn:
            return list(conn.scalars(select(table.c.envelope)
                                     .where(table.c.event_type == event_type)
                                     .order_by(table.c.seq)))
    return envelopes


def campaign_body(**overrides):
    body = {"title": "Pandemic relief", "purpose": "pandemic_relief", "goal": "500000.00",
            "opens_on": "2026-01-01", "closes_on": "2099-12-31"}
    body.update(overrides)
    return body


@pytest.fixture
def campaign(service, tenancy):
    """An open campaign called by the first branch."""
    return service.create_campaign(caller(BRANCH), campaign_body())


def workers_on(engine):
    """A factory of workers, each with its own UnitOfWork (own sessions, like nameko's pool),
    on a database where the units of ORGS and MEMBER have been projected."""
    def make():
        uow = UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id=None)
        return worker_factory(DonationsService, db=uow, config={})
    service, paths = make(), {}
    for org_id, parent_id, kind in ORGS:
        service.on_org_unit_registered(received(
            org_unit_registered(org_id, parent_id, kind, paths), "on_org_unit_registered"))
    service.on_member_registered(received(
        member_registered(MEMBER, "张伟", ORGS[0][0], BRANCH), "on_member_registered"))
    return make
