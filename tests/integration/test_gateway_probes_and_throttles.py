"""Denials that used to leave no trace are audited, within a bound (a 404 on another tenant's
id, a 405); signing in is throttled per client address and username with a growing delay, so a
stranger cannot lock a clerk out; routes without a key are rate limited per client address."""
import json
import uuid

import pytest

from gateway.audit import DenialBound
from gateway.ratelimit import RateLimits, SignInThrottle

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration


def audit_rows(platform, **where):
    clause = " AND ".join(f"{column} = :{column}" for column in where) or "TRUE"
    engine = platform.engine("gateway")
    try:
        with engine.connect() as conn:
            from sqlalchemy import text
            return [dict(row._mapping) for row in conn.execute(text(
                f"SELECT actor_id, method, route, object_id, status, outcome FROM audit_records "
                f"WHERE {clause} ORDER BY id"), where)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_probing_other_tenants_ids_and_methods_is_audited_within_a_bound(platform):
    platform.start("members")
    world = build_world(platform)
    a, b = world["a"], world["b"]
    theirs = register_member(b, 3)
    prober = a["office"]
    prober_id = prober.key.split("_")[1]
    assert prober.get(f"/api/v1/members/{theirs['id']}")[0] == 404
    assert prober.get("/api/v1/keys/anything/revoke")[0] == 405
    assert audit_rows(platform, actor_id=prober_id) == [
        {"actor_id": prober_id, "method": "GET", "route": "/api/v1/members/<member_id>",
         "object_id": theirs["id"], "status": 404, "outcome": "failed"},
        {"actor_id": prober_id, "method": "GET", "route": "/api/v1/keys/<key_id>/revoke",
         "object_id": None, "status": 405, "outcome": "failed"}]
    # a scan: only so many rows per key, the rest counted
    platform.gateway.audit_denials = DenialBound("5/minute")
    scanner = a["host_office"]
    for _ in range(20):
        assert scanner.get(f"/api/v1/members/{uuid.uuid4()}")[0] == 404
    assert len(audit_rows(platform, actor_id=scanner.key.split("_")[1])) == 5
    assert platform.gateway.metrics.registry.get_sample_value(
        "liudong_gateway_audit_suppressed_total") == 15
    # a list (no id) answering 200 and a 404 on a route that does not exist stay unaudited
    assert prober.get("/api/v1/members")[0] == 200
    assert prober.get("/api/v1/no-such-thing")[0] == 404
    assert len(audit_rows(platform, actor_id=prober_id)) == 2


def sign_in(http, address, password, username="li.wei"):
    response = http.post("/api/v1/sessions", data=json.dumps(
        {"username": username, "password": password}), content_type="application/json",
        environ_base={"REMOTE_ADDR": address})
    return response.status_code, response.headers.get("Retry-After")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sign_in_is_throttled_per_address_and_username_with_a_growing_delay(platform):
    platform.start("members")
    world = build_world(platform)
    now = [1000.0]
    platform.gateway.sign_in_throttle = SignInThrottle(free_failures=5, clock=lambda: now[0])
    status, _user = world["admin"].post("/api/v1/staff-users", {
        "username": "li.wei", "display_name": "李伟", "org_id": world["a"]["centre"],
        "password": "correct horse battery"})
    assert status == 201
    http = platform.http()
    stranger, clerk = "203.0.113.9", "10.1.2.3"
    assert [sign_in(http, stranger, "guess")[0] for _ in range(6)] == [401] * 6
    assert sign_in(http, stranger, "guess") == (429, "1")
    # the right password from the stranger's address waits too; the clerk's desk does not
    assert sign_in(http, stranger, "correct horse battery")[0] == 429
    assert sign_in(http, clerk, "correct horse battery")[0] == 201
    # each further failure doubles the wait: 1 s, 2 s, 4 s
    waits = []
    for _ in range(3):
        now[0] += 600
        assert sign_in(http, stranger, "guess")[0] == 401
        waits.append(sign_in(http, stranger, "guess")[1])
    assert waits == ["2", "4", "8"]
    # after the wait the right password works, and clears the count
    now[0] += 600
    assert sign_in(http, stranger, "correct horse battery")[0] == 201
    assert sign_in(http, stranger, "guess")[0] == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_routes_without_a_key_are_limited_per_client_address(platform):
    platform.start("members")
    platform.gateway.rate_limits = RateLimits(default="1000/minute", public="3/minute")
    http = platform.http()
    here = {"REMOTE_ADDR": "198.51.100.1"}
    assert [http.get("/api/v1/openapi.json", environ_base=here).status_code
            for _ in range(2)] == [200, 200]
    assert http.get("/api/v1/docs", environ_base=here).status_code == 200
    for path in ("/api/v1/openapi.json", f"/api/v1/public/campaigns/{uuid.uuid4()}/ledger",
                 "/api/v1/health", "/api/v1/docs"):
        response = http.get(path, environ_base=here)
        assert response.status_code == 429, path
        assert int(response.headers["Retry-After"]) >= 1
        assert json.loads(response.get_data())["error"]["code"] == "rate_limited"
    there = {"REMOTE_ADDR": "198.51.100.2"}
    assert http.get("/api/v1/openapi.json", environ_base=there).status_code == 200
