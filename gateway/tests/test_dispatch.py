"""The gateway's one path for every route, without a broker: a handler's body gets its route's
status, a `Reply` its own; health, the documents and the console are routes of the table like
any other; the audit names who acted (a key or a person) from the caller, never from an id's
form."""
import json

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from gateway import keys
from gateway.app import Gateway
from gateway.http_metrics import GatewayMetrics
from gateway.models import AuditRecord
from gateway.ratelimit import RateLimits
from services.plumbing.migrate import upgrade


class FakeServices:
    """Answers every call with `answer`; the broker is down for health."""

    answer = None

    def __init__(self):
        self.calls = []

    def broker_ok(self):
        return False

    def consumers_of(self, service):
        return []

    def call(self, service, method, *args, **context):
        self.calls.append((service, method, args, context))
        return self.answer


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    sessions = keys.session_factory(url)
    with sessions() as session:
        key, office = keys.create_key(session, "office", "county", "org-1")
        user = keys.create_staff_user(session, "li.wei", "李伟", "centre-1", "correct horse battery")
        session.commit()
        token = keys.sign_in(session, "li.wei", "correct horse battery")[1]
        session.commit()
    services = FakeServices()
    gateway = Gateway(services, sessions, GatewayMetrics(),
                      rate_limits=RateLimits(default="1000/minute", public="1000/minute"))
    return {"gateway": gateway, "http": Client(gateway), "services": services,
            "sessions": sessions, "office": office, "office_id": key.id, "token": token,
            "user": user}


def post(world, path, answer, key, **headers):
    world["services"].answer = answer
    return world["http"].post(path, json={"amount": "1.00"}, headers={
        "Authorization": f"Bearer {key}", **headers})


def audit_rows(world):
    with world["sessions"]() as session:
        return [(r.actor_kind, r.actor_id, r.route, r.object_id, r.status)
                for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]


def test_the_status_is_the_routes_unless_the_handler_replies_with_its_own(world):
    created = post(world, "/api/v1/campaigns/c1/donations", {"id": "d1", "replayed": False},
                   world["office"], **{"Idempotency-Key": "gift-1"})
    replayed = post(world, "/api/v1/campaigns/c1/donations", {"id": "d1", "replayed": True},
                    world["office"], **{"Idempotency-Key": "gift-1"})
    assert (created.status_code, replayed.status_code) == (201, 200)
    assert json.loads(replayed.get_data())["id"] == "d1"
    assert post(world, "/api/v1/campaigns", {"id": "c2"}, world["office"]).status_code == 201
    rows = audit_rows(world)
    assert [row[3:] for row in rows] == [("c1", 201), ("c1", 200), ("c2", 201)]
    assert {row[:2] for row in rows} == {("key", world["office_id"])}


def test_a_person_is_audited_as_a_user_and_calls_services_as_u_and_their_id(world):
    response = post(world, "/api/v1/requests", {"id": "r1"}, world["token"])
    assert response.status_code == 201
    user_id = world["user"].id
    assert audit_rows(world) == [("user", user_id, "/api/v1/requests", "r1", 201)]
    _service, _method, args, context = world["services"].calls[-1]
    assert args[0]["key_id"] == f"u_{user_id}" and context["trace_id"] == response.headers[
        "X-Request-Id"]


def test_health_documents_and_console_are_routes_that_are_not_audited(world):
    http = world["http"]
    health = http.get("/api/v1/health")
    assert health.status_code == 503 and json.loads(health.get_data())["status"] == "degraded"
    assert http.get("/api/v1/openapi.json").status_code == 200
    assert http.get("/api/v1/docs").mimetype == "text/html"
    assert http.get("/console").mimetype == "text/html"
    assert audit_rows(world) == []
    not_allowed = http.put("/console")
    assert not_allowed.status_code == 405 and "POST" in not_allowed.headers["Allow"]
    assert [row[2:] for row in audit_rows(world)] == [("/console", None, 405)]


def test_a_public_route_over_its_address_limit_is_a_named_audited_denial(world, tmp_path):
    gateway = Gateway(world["services"], world["sessions"], GatewayMetrics(),
                      rate_limits=RateLimits(default="1000/minute", public="1/minute"))
    http = Client(gateway)
    world["services"].answer = {"campaign": {}, "gifts": []}
    path = "/api/v1/public/campaigns/c-1/ledger"
    http.get(path)
    refused = http.get(path)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    with world["sessions"]() as session:
        rows = list(session.scalars(select(AuditRecord).where(AuditRecord.status == 429)))
    assert [(row.route, row.outcome, row.actor_kind) for row in rows] == [
        ("/api/v1/public/campaigns/<campaign_id>/ledger", "denied", "anonymous")]
