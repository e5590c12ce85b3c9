"""Fixtures for the webhooks service's unit tests without a broker: a SQLite database per
test, workers built with nameko's worker_factory and fed producers' events like the broker
would, and a DNS seam (`dns`) so that no test depends on a real resolver."""
import socket
from datetime import date

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy.orm import sessionmaker

from gateway.webhooks import addresses
from gateway.webhooks.models import PLUMBING, Base
from gateway.webhooks.service import WebhooksService
from services.members import events as member_events
from services.plumbing.db import UnitOfWork, make_engine
from services.plumbing.envelope import ReceivedEvent

# A county at home with a township; a host committee with a branch; another county elsewhere.
COUNTY, TOWNSHIP, COMMITTEE, BRANCH, ELSEWHERE = ("county-1", "township-1", "committee-1",
                                                   "branch-1", "county-2")
ORGS = ((COUNTY, None, "county"), (TOWNSHIP, COUNTY, "township"),
        (COMMITTEE, None, "joint_committee"), (BRANCH, COMMITTEE, "branch"),
        (ELSEWHERE, None, "county"))
# Only loopback is let through, as a county's on-premise network would be.
CONFIG = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "WEBHOOK_TIMEOUT_SECONDS": 2,
          "WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_MAX_ATTEMPTS": 3}


def caller(org_id, role="office"):
    return {"key_id": f"key-of-{org_id}", "role": role, "org_id": org_id}


def received(envelope, method_name):
    return ReceivedEvent.from_envelope(envelope, f"webhooks.{method_name}")


def flow_event(contract, member_id, home, host, previous=None, seq=1):
    return contract.envelope({
        "member_id": member_id, "home_org_id": home, "host_org_id": host,
        "previous_host_org_id": previous, "status": "active", "actor_org_id": host,
        "reason": None, "occurred_on": date(2026, 3, 1), "flow_seq": seq})


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'webhooks.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_service(engine):
    def make(**config):
        uow = UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id=None)
        return worker_factory(WebhooksService, db=uow, config=dict(CONFIG, **config))
    return make


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def tenancy(service):
    paths = {}
    for org_id, parent_id, kind in ORGS:
        path = (paths[parent_id] if parent_id else "/") + org_id + "/"
        paths[org_id] = path
        service.on_org_unit_registered(received(member_events.ORG_UNIT_REGISTERED.envelope({
            "org_id": org_id, "parent_id": parent_id, "kind": kind, "name": org_id,
            "path": path}), "on_org_unit_registered"))
    return paths


class FakeDns:
    """`names[host] = [addresses]`: what a host name resolves to right now; any other name does
    not resolve. `lookups` tells a test that a check happened (e.g. at delivery time)."""

    def __init__(self):
        self.names, self.lookups = {}, []

    def resolve(self, host, port):
        self.lookups.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.names[host])


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns()
    monkeypatch.setattr(addresses, "resolve", fake.resolve)
    return fake
