"""The thin flow through every service, via the gateway, on real RabbitMQ and real databases
(PostgreSQL and SQLite): register → desk projection → request lifecycle; campaign → gift →
member's giving total credited exactly once."""
from decimal import Decimal

import pytest

from tests.fixtures import wait_for

from .helpers import build_world, register_member, wait_for_member_projection

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start()
    return build_world(platform)


def test_member_request_and_gift_flow_through_all_services(platform, world):
    a = world["a"]
    member = register_member(a, 1)
    assert member["id_number"].count("*") == 8 and member["phone"] == "138****1234"

    # The desk learns the member from the event, then takes a request for them.
    wait_for_member_projection(platform, "services_desk", member["id"])
    status, request = a["desk"].post("/api/v1/requests", {
        "requester_member_id": member["id"], "category": "social_insurance",
        "description": "代办家乡社保缴费"})
    assert status == 201, request
    assert request["status"] == "submitted"
    status, claimed = a["desk"].post(f"/api/v1/requests/{request['id']}/claim")
    assert status == 200 and claimed["status"] == "in_progress", claimed
    first_owner = claimed["first_owner"]
    status, done = a["desk"].post(f"/api/v1/requests/{request['id']}/complete",
                                  {"outcome": "已办结，回执已寄回"})
    assert status == 200 and done["status"] == "completed", done
    assert done["first_owner"] == first_owner
    status, queue = a["desk"].get("/api/v1/requests")
    assert [r["id"] for r in queue["items"]] == [request["id"]]

    # A campaign of the host branch; the member gives twice, one retried with the same key.
    wait_for_member_projection(platform, "donations", member["id"])
    status, campaign = a["branch_office"].post("/api/v1/campaigns", {
        "title": "抗击疫情 爱心捐款", "purpose": "pandemic_relief", "goal": "500000.00",
        "opens_on": "2020-01-28", "closes_on": "2030-02-28"})
    assert status == 201, campaign
    gift = {"amount": "490982.52", "member_id": member["id"]}
    path = f"/api/v1/campaigns/{campaign['id']}/donations"
    status, first = a["branch_office"].post(path, gift, headers={"Idempotency-Key": "gift-1"})
    assert status == 201, first
    status, retried = a["branch_office"].post(path, gift, headers={"Idempotency-Key": "gift-1"})
    assert status == 200 and retried["id"] == first["id"] and retried["replayed"] is True
    status, second = a["branch_office"].post(path, {"amount": "0.48", "member_id": member["id"]},
                                             headers={"Idempotency-Key": "gift-2"})
    assert status == 201, second
    status, conflict = a["branch_office"].post(path, {"amount": "1.00"},
                                               headers={"Idempotency-Key": "gift-1"})
    assert status == 409, conflict

    status, totals = a["branch_office"].get(f"/api/v1/campaigns/{campaign['id']}")
    assert status == 200 and totals["cash_total"] == "490983.00", totals
    assert totals["donation_count"] == 2

    # members credits the giving total from donation_received, once per gift.
    wait_for(lambda: a["office"].get(f"/api/v1/members/{member['id']}")[1]["giving_total"]
             == "490983.00", message="giving total credited")
    assert platform.scalar("members", "SELECT giving_total FROM members WHERE id = :m",
                           m=member["id"]) == Decimal("490983.00")


def test_health_reports_broker_and_every_service(platform, world):
    status, health = world["admin"].get("/api/v1/health")
    assert status == 200, health
    assert health == {"status": "ok", "broker": "ok",
                      "services": {"members": "ok", "services_desk": "ok", "donations": "ok",
                                   "webhooks": "ok"}}


def test_openapi_document_covers_every_route_and_the_error_format(platform, world):
    status, document = world["admin"].get("/api/v1/openapi.json")
    assert status == 200
    paths = document["paths"]
    for path in ("/api/v1/members", "/api/v1/members/{member_id}", "/api/v1/requests",
                 "/api/v1/requests/{request_id}/claim", "/api/v1/campaigns/{campaign_id}/donations",
                 "/api/v1/health"):
        assert path in paths
    schemas = document["components"]["schemas"]
    assert {"Error", "MemberCreate", "Member"} <= set(schemas)
    member_create = schemas["MemberCreate"]
    assert "id_number" in member_create["required"]
    assert paths["/api/v1/members"]["post"]["responses"]["400"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/Error"}
