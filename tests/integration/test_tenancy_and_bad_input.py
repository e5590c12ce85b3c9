"""Cross-tenant access is a 404, bodies cannot move data across tenants, and bad input is a
400 with field messages that leaves no row behind."""
import pytest

from .helpers import Http, build_world, id_number, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start()
    return build_world(platform)


@pytest.fixture
def b_objects(platform, world):
    """A member, a request and a campaign of side B."""
    b = world["b"]
    member = register_member(b, 50)
    wait_for_member_projection(platform, "services_desk", member["id"])
    status, request = b["desk"].post("/api/v1/requests", {
        "requester_member_id": member["id"], "category": "pension", "description": "养老认证"})
    assert status == 201, request
    status, campaign = b["office"].post("/api/v1/campaigns", {
        "title": "防汛救灾", "purpose": "flood_relief", "opens_on": "2026-07-01",
        "closes_on": "2026-08-01"})
    assert status == 201, campaign
    return {"member": member, "request": request, "campaign": campaign}


def test_office_a_gets_404_for_every_object_of_office_b(world, b_objects):
    a = world["a"]
    callers = [a["office"], a["host_office"], a["branch_office"], a["desk"]]
    member_id = b_objects["member"]["id"]
    request_id = b_objects["request"]["id"]
    campaign_id = b_objects["campaign"]["id"]
    for caller in (a["office"], a["host_office"], a["branch_office"], a["desk"]):
        assert caller.get(f"/api/v1/members/{member_id}")[0] == 404
        assert caller.get("/api/v1/members")[1]["items"] == []
    for caller in (a["office"], a["desk"]):
        assert caller.get(f"/api/v1/requests/{request_id}")[0] == 404
        assert caller.get("/api/v1/requests")[1]["items"] == []
    assert a["desk"].post(f"/api/v1/requests/{request_id}/claim")[0] == 404
    assert a["desk"].post(f"/api/v1/requests/{request_id}/complete", {"outcome": "x"})[0] == 404
    for caller in (a["office"], a["branch_office"]):
        assert caller.get(f"/api/v1/campaigns/{campaign_id}")[0] == 404
        status, body = caller.post(f"/api/v1/campaigns/{campaign_id}/donations",
                                   {"amount": "10.00"})
        assert status == 404, body
    assert len(callers) == 4


def test_b_sees_its_own_objects_from_home_and_host_sides(world, b_objects):
    b = world["b"]
    member_id = b_objects["member"]["id"]
    for caller in (b["office"], b["host_office"], b["branch_office"]):
        assert caller.get(f"/api/v1/members/{member_id}")[0] == 200


def test_bodies_cannot_set_tenant_or_status(platform, world, b_objects):
    a = world["a"]
    status, body = a["office"].post("/api/v1/members", {
        "name": "越权", "id_number": id_number(60), "phone": "13800001234",
        "home_org_id": world["b"]["township"], "host_org_id": world["b"]["branch"]})
    assert status == 400 and "home_org_id" in body["error"]["fields"]
    status, body = a["office"].post("/api/v1/members", {
        "name": "越权", "id_number": id_number(61), "phone": "13800001234",
        "home_org_id": world["a"]["township"], "office_id": world["b"]["county"],
        "status": "accepted"})
    assert status == 400
    assert set(body["error"]["fields"]) == {"office_id", "status"}
    status, body = a["desk"].post("/api/v1/requests", {
        "requester_name": "老乡", "category": "other", "description": "x",
        "centre_org_id": world["b"]["centre"], "status": "completed"})
    assert status == 400 and {"centre_org_id", "status"} <= set(body["error"]["fields"])
    status, body = a["office"].post("/api/v1/campaigns", {
        "title": "x", "purpose": "other", "opens_on": "2026-01-01", "closes_on": "2026-02-01",
        "organiser_org_id": world["b"]["county"]})
    assert status == 400 and "organiser_org_id" in body["error"]["fields"]
    assert platform.scalar("members", "SELECT count(*) FROM members") == 1


def test_malformed_json_wrong_types_and_bad_check_digit(platform, world):
    a = world["a"]
    for raw in ("{", "[1, 2]", '"text"', "NaN", '{"name": NaN}'):
        status, body = a["office"].request("POST", "/api/v1/members", raw=raw)
        assert status == 400, raw
        assert body["error"]["code"] == "malformed_json"
    status, body = a["office"].post("/api/v1/members", {
        "name": 42, "id_number": 110105198001010011, "phone": ["x"], "home_org_id": None})
    assert status == 400
    assert set(body["error"]["fields"]) == {"name", "id_number", "phone", "home_org_id"}
    wrong = id_number(70)[:-1] + ("0" if id_number(70)[-1] != "0" else "1")
    status, body = a["office"].post("/api/v1/members", {
        "name": "党员", "id_number": wrong, "phone": "13800001234",
        "home_org_id": world["a"]["township"]})
    assert status == 400 and "check digit" in body["error"]["fields"]["id_number"][0]
    assert platform.scalar("members", "SELECT count(*) FROM members") == 0
    assert platform.scalar("members",
                           "SELECT count(*) FROM outbox WHERE event_type = 'member_registered'") == 0


@pytest.mark.parametrize("amount, message_part", [
    ("-5.00", ""), ("0.00", ""), ("1.005", ""), (12.5, "string"), ("abc", ""), ("1e3", "")])
def test_bad_amounts_are_400_and_write_nothing(platform, world, amount, message_part):
    a = world["a"]
    status, campaign = a["office"].post("/api/v1/campaigns", {
        "title": "助学", "purpose": "school_supplies", "opens_on": "2026-01-01",
        "closes_on": "2026-12-31"})
    assert status == 201, campaign
    status, body = a["office"].post(f"/api/v1/campaigns/{campaign['id']}/donations",
                                    {"amount": amount})
    assert status == 400, body
    assert "amount" in body["error"]["fields"]
    assert message_part in " ".join(body["error"]["fields"]["amount"])
    assert platform.scalar("donations", "SELECT count(*) FROM donations") == 0
    assert platform.scalar(
        "donations", "SELECT count(*) FROM outbox WHERE event_type = 'donation_received'") == 0


def test_authentication_and_role_errors_use_the_error_format(platform, world):
    from .helpers import Http
    anonymous = Http(world["admin"].client, None)
    status, body = anonymous.get("/api/v1/members")
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    status, body = Http(world["admin"].client, "ld_0000000000000000_" + "x" * 43).get(
        "/api/v1/members")
    assert status == 401
    status, body = world["a"]["desk"].post("/api/v1/org-units", {"kind": "county", "name": "x"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = world["a"]["office"].get("/api/v1/nowhere")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = world["a"]["office"].request("DELETE", "/api/v1/members")
    assert status == 405


def test_oversized_body_is_413(platform, world):
    raw = '{"name": "' + "x" * (1024 * 1024) + '"}'
    status, body = world["a"]["office"].request("POST", "/api/v1/members", raw=raw)
    assert status == 413 and body["error"]["code"] == "body_too_large"


def test_text_no_database_can_store_is_400_or_404_never_500(platform, world):
    """JSON allows NUL and lone surrogates; PostgreSQL stores neither. Caught once, at the edge."""
    a = world["a"]
    for raw in ('{"name": "a\\u0000b", "id_number": "x", "phone": "1", "home_org_id": "y"}',
                '{"name": "\\ud800", "id_number": "x", "phone": "1", "home_org_id": "y"}'):
        status, body = a["office"].request("POST", "/api/v1/members", raw=raw)
        assert status == 400 and body["error"]["fields"] == {
            "name": ["must not contain NUL characters or unpaired surrogates"]}, body
    status, body = a["office"].get("/api/v1/members", query={"name": "a\x00b"})
    assert status == 400 and "name" in body["error"]["fields"]
    status, body = a["office"].get("/api/v1/members/a%00b")
    assert status == 404
    anonymous = Http(a["office"].client, None)
    status, body = anonymous.request("POST", "/api/v1/sessions",
                                     raw='{"username": "a\\u0000", "password": "x"}')
    assert status == 400
    status, body = world["admin"].get("/api/v1/audit", query={
        "since": "0350-10-28T00:41:58.76-16:20"})
    assert status == 400 and "since" in body["error"]["fields"]
    status, body = world["admin"].get("/api/v1/audit", query={
        "since": "2026-01-01T00:00:00-16:20"})
    assert status == 200, body
    assert platform.scalar("members", "SELECT count(*) FROM members") == 0
