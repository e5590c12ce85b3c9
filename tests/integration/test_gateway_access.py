"""Function-level authorisation and tenancy over the whole route table, the key lifecycle,
staff logins and the audit trail — through the gateway app, with the services running.

The matrices iterate `gateway.routes.ROUTES`, so a route added anywhere is covered as it appears.
"""
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from gateway.routes import ALL_ROLES, ROUTES
from tests.fixtures import wait_for

from .helpers import Http, build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration

# Bodies that pass validation for routes whose object lies in another tenant, so the answer
# shows the tenant check (404), not a 400 about the body.
VALID_BODIES = {
    "complete_request": {"outcome": "办结"},
    "record_donation": {"amount": "10.00"},
}
IDENTITY_ROLE = {"office": "office", "host_office": "office", "branch_office": "office",
                 "desk": "desk_staff", "desk_session": "desk_staff"}


class Api(Http):
    """Http that also takes non-JSON answers (the audit export is CSV)."""

    def request(self, method, path, body=None, raw=None, headers=None, query=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(path, method=method, data=data, query_string=query,
                                    headers=self._headers(headers),
                                    content_type="application/json")
        text_body = response.get_data().decode("utf-8", errors="replace")
        try:
            return response.status_code, json.loads(text_body or "null")
        except ValueError:
            return response.status_code, text_body


def concrete(path: str, values: dict) -> str:
    import re
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>",
                  lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


def staff_session(world, side, admin, username):
    status, user = admin.post("/api/v1/staff-users", {
        "username": username, "display_name": "李伟", "org_id": world[side]["centre"],
        "password": "correct horse battery"})
    assert status == 201, user
    status, signed_in = Http(admin.client, None).post("/api/v1/sessions", {
        "username": username, "password": "correct horse battery"})
    assert status == 201, signed_in
    return Http(admin.client, signed_in["token"]), user


@pytest.fixture
def platform(platform):
    """Every service (the webhooks service too, so that webhook routes answer for real)."""
    return platform.start()


@pytest.fixture
def members_platform(databases, amqp_uri):
    from tests.fixtures import Platform
    running = Platform(databases, amqp_uri).start("members")
    yield running
    running.stop()


@pytest.fixture
def world(platform):
    world = build_world(platform)
    admin = world["admin"]
    world["ops"] = Http(admin.client, platform.key("ops", None, "ops"))
    for side in ("a", "b"):
        world[side]["desk_session"], _user = staff_session(world, side, admin, f"staff.{side}")
    return world


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_role_by_route_matrix(world):
    """Every route, every role (keys and a console session): 403 unless the role is listed;
    without credentials 401 unless the route is public."""
    callers = {"office": world["a"]["office"], "desk_staff": world["a"]["desk"],
               "desk_staff session": world["a"]["desk_session"], "ops": world["ops"],
               "admin": world["admin"]}
    callers = {label: Api(http.client, http.key) for label, http in callers.items()}
    anonymous = Api(world["admin"].client, None)
    checked = 0
    # Signing out ends the session that calls it: last.
    for route in sorted(ROUTES, key=lambda r: r.name == "end_session"):
        path = concrete(route.path, {})
        for label, http in callers.items():
            role = label.split()[0]
            status, body = http.request(route.method, path, body={})
            if route.public or role in route.roles:
                assert status not in (401, 403, 500), (route.name, label, status, body)
            else:
                assert status == 403, (route.name, label, status, body)
                assert body["error"]["code"] == "forbidden"
            checked += 1
        status, body = anonymous.request(route.method, path, body={})
        if not route.public:
            assert status == 401, (route.name, status, body)
    assert checked == len(ROUTES) * len(callers)
    assert set(ALL_ROLES) <= {label.split()[0] for label in callers}


@pytest.fixture
def b_objects(platform, world):
    b = world["b"]
    member = register_member(b, 70)
    wait_for_member_projection(platform, "services_desk", member["id"])
    status, request = b["desk"].post("/api/v1/requests", {
        "requester_member_id": member["id"], "category": "pension", "description": "养老认证"})
    assert status == 201, request
    status, campaign = b["branch_office"].post("/api/v1/campaigns", {
        "title": "助学", "purpose": "school_supplies", "opens_on": "2026-07-01",
        "closes_on": "2026-08-01"})
    assert status == 201, campaign
    # 收受分离: B's desk forwards the request to the member's home county, which makes a task
    status, claimed = b["desk"].post(f"/api/v1/requests/{request['id']}/claim")
    assert status == 200, claimed
    status, forwarded = b["desk"].post(f"/api/v1/requests/{request['id']}/forward",
                                       {"note": "请核实"})
    assert status == 200, forwarded
    tasks = wait_for(lambda: b["office"].get("/api/v1/home-tasks")[1]["items"],
                     message="B's home task")
    return {"member_id": member["id"], "request_id": request["id"],
            "campaign_id": campaign["id"], "org_id": b["county"], "task_id": tasks[0]["id"],
            "key_id": "not-a-tenant-object"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_tenant_matrix(world, b_objects):
    """Every tenant-scoped identity of side A, on every route it may call: B's objects are 404
    (routes with an id) and never appear in an answer (lists)."""
    secrets = [v for k, v in b_objects.items() if k != "key_id"]
    exact = 0
    for route in ROUTES:
        if route.public:
            continue
        path = concrete(route.path, b_objects)
        for identity, role in IDENTITY_ROLE.items():
            if role not in route.roles:
                continue
            http = Api(world["a"][identity].client, world["a"][identity].key)
            body = VALID_BODIES.get(route.name, {})
            status, answer = http.request(route.method, path, body=body)
            leaked = [s for s in secrets if s in json.dumps(answer)
                      and s not in path]
            assert not leaked, (route.name, identity, answer)
            if "<" in route.path:
                assert status not in range(200, 300), (route.name, identity, status, answer)
                names = set(re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", route.path))
                tenant_objects = names <= set(b_objects) - {"key_id"}
                body_is_valid = (route.name in VALID_BODIES or route.method == "GET"
                                 or route.body is None)
                if tenant_objects and body_is_valid:
                    assert status == 404, (route.name, identity, status, answer)
                    exact += 1
    assert exact >= 12  # members, requests and campaigns each seen by several identities
    # and side B itself does see them (the 404s above are about tenancy, not missing objects)
    b = world["b"]
    assert b["office"].get(f"/api/v1/members/{b_objects['member_id']}")[0] == 200
    assert b["desk_session"].get(f"/api/v1/requests/{b_objects['request_id']}")[0] == 200
    assert b["branch_office"].get(f"/api/v1/campaigns/{b_objects['campaign_id']}")[0] == 200
    assert b["office"].get(f"/api/v1/home-tasks/{b_objects['task_id']}")[0] == 200


def audit_rows(platform, **filters):
    status, page = Http(platform.http(), platform.key("admin", None)).get(
        "/api/v1/audit", query=dict(filters, limit=1000))
    assert status == 200, page
    return page["items"]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
def test_key_lifecycle_and_audit(members_platform):
    platform = members_platform
    http = platform.http()
    admin = Http(http, platform.key("admin", None, "bootstrap"))
    status, county = admin.post("/api/v1/org-units", {"kind": "county", "name": "淮阳区"})
    assert status == 201, county

    status, created = admin.post("/api/v1/keys", {"role": "office", "name": "county system",
                                                  "org_id": county["id"]})
    assert status == 201 and created["key"].startswith("ld_"), created
    office = Http(http, created["key"])
    assert office.get("/api/v1/org-units")[0] == 200
    status, listed = admin.get("/api/v1/keys")
    mine = next(k for k in listed["items"] if k["id"] == created["id"])
    assert mine["last_used_at"] is not None and mine["active"] and "key" not in mine
    assert created["key"] not in json.dumps(listed)
    hashes = platform.scalar("gateway", "SELECT secret_hash FROM api_keys WHERE id = :i",
                             i=created["id"])
    assert created["key"].split("_", 2)[2] not in hashes

    # rotation with an overlap window: both keys work until the old one expires
    status, rotated = admin.post(f"/api/v1/keys/{created['id']}/rotate",
                                 {"overlap_seconds": 3600})
    assert status == 201, rotated
    new = Http(http, rotated["new"]["key"])
    assert rotated["old"]["replaced_by"] == rotated["new"]["id"]
    assert office.get("/api/v1/org-units")[0] == 200 and new.get("/api/v1/org-units")[0] == 200
    assert admin.post(f"/api/v1/keys/{created['id']}/rotate", {})[0] == 409
    # the window ends: the old key is refused, the new one goes on
    engine = create_engine(platform.databases.url("gateway"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_keys SET expires_at = :t WHERE id = :i"),
                     {"t": datetime.now(UTC) - timedelta(seconds=1), "i": created["id"]})
    engine.dispose()
    # changed behind the gateway's back (as by another replica): refused within the key cache's
    # bound (GATEWAY_KEY_CACHE_SECONDS, 2 s)
    wait_for(lambda: office.get("/api/v1/org-units")[0] == 401, timeout=2.5,
             message="the expired key refused")
    assert new.get("/api/v1/org-units")[0] == 200
    # a key cannot be created already expired; a revoked key is refused
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    status, body = admin.post("/api/v1/keys", {"role": "ops", "name": "old", "expires_at": past})
    assert status == 400 and body["error"]["fields"] == {"expires_at": ["must be in the future"]}
    status, revoked = admin.post(f"/api/v1/keys/{rotated['new']['id']}/revoke")
    assert status == 200 and revoked["revoked_at"] and not revoked["active"]
    assert new.get("/api/v1/org-units")[0] == 401
    # bad input is a 400 with fields; an unknown org is a 404 naming the field
    status, body = admin.post("/api/v1/keys", {"role": "office", "name": "x",
                                               "org_id": str(uuid.uuid4()), "tenant": "x"})
    assert status == 400 and set(body["error"]["fields"]) == {"tenant"}
    status, body = admin.post("/api/v1/keys", {"role": "office", "name": "x",
                                               "org_id": str(uuid.uuid4())})
    assert status == 404 and body["error"]["fields"] == {"org_id": ["no such org unit"]}
    # a denial by role
    assert office.__class__(http, platform.key("office", county["id"])).post(
        "/api/v1/keys", {"role": "admin", "name": "escalate"})[0] == 403

    rows = audit_rows(platform)
    by_route = {}
    for row in rows:
        by_route.setdefault((row["method"], row["route"], row["outcome"]), []).append(row)
    create_rows = by_route[("POST", "/api/v1/keys", "succeeded")]
    assert any(r["object_id"] == created["id"] and r["actor_kind"] == "key"
               and r["status"] == 201 for r in create_rows)
    assert by_route[("POST", "/api/v1/org-units", "succeeded")][0]["object_id"] == county["id"]
    assert by_route[("POST", "/api/v1/keys/<key_id>/rotate", "succeeded")][0]["object_id"] \
        == created["id"]
    assert by_route[("POST", "/api/v1/keys/<key_id>/rotate", "failed")][0]["status"] == 409
    denied = by_route[("GET", "/api/v1/org-units", "denied")]
    assert {r["actor_id"] for r in denied} >= {created["id"], rotated["new"]["id"]}
    assert all(r["status"] == 401 and r["request_id"] for r in denied)
    forbidden = by_route[("POST", "/api/v1/keys", "denied")][0]
    assert forbidden["status"] == 403 and forbidden["org_id"] == county["id"]
    assert forbidden["role"] == "office" and forbidden["error_code"] == "forbidden"
    # reads that succeed are not audited
    assert ("GET", "/api/v1/org-units", "succeeded") not in by_route
    # per org and period
    assert {r["org_id"] for r in audit_rows(platform, org_id=county["id"])} == {county["id"]}
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert audit_rows(platform, since=future) == []
    assert len(audit_rows(platform, until=future)) >= len(rows)
    status, page = admin.get("/api/v1/audit", query={"limit": 2})
    status2, page2 = admin.get("/api/v1/audit", query={"limit": 2, "cursor": page["next_cursor"]})
    assert status2 == 200 and page2["items"][0]["id"] > page["items"][-1]["id"]
    response = http.get("/api/v1/audit/export", query_string={"outcome": "denied"},
                        headers={"Authorization": f"Bearer {admin.key}"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("id,occurred_at,request_id") and len(lines) - 1 == len(
        [r for r in audit_rows(platform) if r["outcome"] == "denied"])


def test_no_route_can_change_audit_records():
    writes = [r for r in ROUTES if r.path.startswith("/api/v1/audit") and r.method != "GET"]
    assert writes == []
    import inspect

    from gateway import audit
    source = inspect.getsource(audit)
    assert "update(" not in source and "delete(" not in source


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_staff_login_session_and_console(platform):
    world = build_world(platform)
    admin = world["admin"]
    http = platform.http()
    status, body = admin.post("/api/v1/staff-users", {
        "username": "wang.fang", "display_name": "王芳", "org_id": world["a"]["centre"],
        "password": "short"})
    assert status == 400 and "password" in body["error"]["fields"]
    session_http, user = staff_session(world, "a", admin, "wang.fang")
    stored = platform.scalar("gateway", "SELECT password_hash FROM staff_users WHERE id = :i",
                             i=user["id"])
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert "password" not in json.dumps(admin.get("/api/v1/staff-users")[1])
    # wrong password: 401, audited as denied
    status, body = Http(http, None).post("/api/v1/sessions", {"username": "wang.fang",
                                                              "password": "wrong password"})
    assert status == 401
    # the session acts as that person at that centre: their submissions carry their own id
    status, req = session_http.post("/api/v1/requests", {
        "requester_name": "西木拉", "category": "social_insurance", "description": "社保转移"})
    assert status == 201 and req["submitted_by"] == f"u_{user['id']}", req
    status, other = world["b"]["desk"].post("/api/v1/requests", {
        "requester_name": "外地人", "category": "other", "description": "不该看见"})
    assert status == 201
    # the console page: sign in (a CSRF token from the form, a same-origin POST), see the
    # centre's queue (and not the other centre's)
    origin = {"Origin": "http://localhost"}
    form = http.get("/console").get_data(as_text=True)
    assert "登录" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    failed = http.post("/console/login", headers=origin, data={
        "username": "wang.fang", "password": "nope", "csrf_token": token})
    assert failed.status_code == 401
    token = re.search(r'name="csrf_token" value="([^"]+)"', failed.get_data(as_text=True)).group(1)
    response = http.post("/console/login", headers=origin, data={
        "username": "wang.fang", "password": "correct horse battery", "csrf_token": token})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = http.get("/console").get_data(as_text=True)
    assert "西木拉" in page and "外地人" not in page and "李伟" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    http.post("/console/logout", headers=origin, data={"csrf_token": token})
    assert 'name="password"' in http.get("/console").get_data(as_text=True)
    # sessions are short-lived: once expired the token is refused
    engine = create_engine(platform.databases.url("gateway"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE staff_sessions SET expires_at = :t"),
                     {"t": datetime.now(UTC) - timedelta(seconds=1)})
    engine.dispose()
    assert session_http.get("/api/v1/requests")[0] == 401
    # signing out ends a session at once
    fresh, _ = Http(http, None).post("/api/v1/sessions", {"username": "wang.fang",
                                                          "password": "correct horse battery"})
    signed_in = Http(http, _["token"])
    assert signed_in.get("/api/v1/requests")[0] == 200
    assert signed_in.request("DELETE", "/api/v1/sessions/current")[0] == 204
    assert signed_in.get("/api/v1/requests")[0] == 401
    rows = audit_rows(platform, route="/api/v1/sessions")
    outcomes = [(r["status"], r["outcome"], r["actor_kind"]) for r in rows
                if r["route"] == "/api/v1/sessions"]
    assert (401, "denied", "anonymous") in outcomes and (201, "succeeded", "user") in outcomes
    # password guessing is throttled per client address and username (API and console share
    # the throttle): five free failures, then a growing wait (test_gateway_probes_and_throttles)
    guesses = [Http(http, None).post("/api/v1/sessions", {"username": "li.wei.b",
                                                          "password": f"guess {n}"})[0]
               for n in range(7)]
    assert guesses == [401] * 6 + [429]
    form = http.get("/console").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert http.post("/console/login", headers=origin, data={
        "username": "li.wei.b", "password": "x", "csrf_token": token}).status_code == 429
