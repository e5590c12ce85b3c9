"""A county office's program using the Python client (gateway/client) over real HTTP: typed
calls, pagination across pages, retries that honour Retry-After, and an idempotent donation
that a retry records once."""
import pytest

from gateway.client import ApiError, Client
from gateway.ratelimit import RateLimits
from tests.integration.helpers import build_world, id_number, wait_for_member_projection
from tests.integration.test_gateway_webhooks import served

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_county_office_program_through_the_client(platform):
    platform.start()
    world = build_world(platform)
    with served(platform.gateway) as base_url:
        import eventlet
        # the client blocks on sockets; eventlet's patched stdlib keeps the served gateway
        # answering meanwhile
        office = Client(base_url, world["a"]["office"].key, backoff=0.05)
        assert office.health()["status"] == "ok"
        units = {u["id"] for u in office.org_units()}
        assert world["a"]["county"] in units and world["b"]["county"] not in units

        registered = [office.register_member(f"党员{n}", id_number(200 + n), "13800001234",
                                             world["a"]["township"], world["a"]["branch"])
                      for n in range(5)]
        listed = list(office.members(page_size=2))          # three pages
        assert [m["id"] for m in listed] == [m["id"] for m in registered]

        try:
            office.register_member("坏", "123", "13800001234", world["a"]["township"])
        except ApiError as exc:
            assert exc.status == 400 and "id_number" in exc.fields and exc.request_id
        else:
            pytest.fail("a bad ID number was accepted")
        with pytest.raises(ApiError) as missing:
            office.member(world["b"]["county"])
        assert missing.value.status == 404

        branch = Client(base_url, world["a"]["branch_office"].key, backoff=0.05)
        campaign = branch.create_campaign("助学", "school_supplies", "2026-07-01", "2026-08-01",
                                          goal="10000.00")
        wait_for_member_projection(platform, "donations", registered[0]["id"])
        gift = branch.record_donation(campaign["id"], "3000.00", member_id=registered[0]["id"],
                                      idempotency_key="receipt-0001")
        again = branch.record_donation(campaign["id"], "3000.00",
                                       member_id=registered[0]["id"],
                                       idempotency_key="receipt-0001")
        assert again["id"] == gift["id"]
        assert branch.campaign(campaign["id"])["raised_total"] == "3000.00"
        assert [c["id"] for c in branch.campaigns()] == [campaign["id"]]

        # over the key's rate limit the client waits Retry-After and goes on
        platform.gateway.rate_limits = RateLimits(default="2/second")
        slow = Client(base_url, world["a"]["office"].key, backoff=0.05)
        answers = [slow.member(registered[0]["id"])["id"] for _ in range(5)]
        assert answers == [registered[0]["id"]] * 5
        admin_key = world["admin"].key
        platform.gateway.rate_limits = RateLimits(default="1000/minute")
        audit = Client(base_url, admin_key).request("GET", "/api/v1/audit",
                                                    query={"outcome": "denied"})
        assert any(r["status"] == 429 for r in audit["items"])
        # with retries off, the 429 reaches the program
        platform.gateway.rate_limits = RateLimits(default="1/minute")
        impatient = Client(base_url, world["a"]["office"].key, retries=0)
        impatient.org_units()
        with pytest.raises(ApiError) as limited:
            impatient.org_units()
        assert limited.value.status == 429 and limited.value.retry_after >= 1
        eventlet.sleep(0)
