"""The gateway's edges: rate limit per key (429 + Retry-After), body limit (413), a service with
no running consumer (503 + Retry-After); each denial or failed write lands in the audit."""
import json

import pytest

from gateway.ratelimit import RateLimits

from .helpers import Http

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rate_limit_per_key_with_retry_after(platform):
    platform.start("members")
    gateway = platform.gateway
    gateway.rate_limits = RateLimits(default="5/minute")
    admin = Http(platform.http(), platform.key("admin", None))
    status, limited = admin.post("/api/v1/keys", {"role": "ops", "name": "tight",
                                                  "rate_limit": "3/minute"})
    assert status == 201, limited
    tight = Http(platform.http(), limited["key"])
    assert [tight.get("/api/v1/org-units")[0] for _ in range(3)] == [200, 200, 200]
    response = platform.http().get("/api/v1/org-units",
                                   headers={"Authorization": f"Bearer {limited['key']}"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(response.get_data())["error"]["code"] == "rate_limited"
    # another key has its own budget (the gateway default, 5/minute: admin used 1 so far)
    other = Http(platform.http(), platform.key("ops", None))
    assert other.get("/api/v1/org-units")[0] == 200
    assert admin.get("/api/v1/org-units")[0] == 200
    # bad limits are refused at creation
    status, body = admin.post("/api/v1/keys", {"role": "ops", "name": "x", "rate_limit": "lots"})
    assert status == 400 and "rate_limit" in body["error"]["fields"]
    gateway.rate_limits = RateLimits(default="1000/minute")
    status, page = admin.get("/api/v1/audit", query={"outcome": "denied"})
    assert [(r["status"], r["actor_id"], r["error_code"]) for r in page["items"]] == [
        (429, limited["id"], "rate_limited")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_body_over_the_limit_is_413_and_audited(platform):
    platform.start("members")
    platform.gateway.max_body_bytes = 2000
    admin = Http(platform.http(), platform.key("admin", None))
    status, body = admin.post("/api/v1/org-units", raw=json.dumps({"kind": "county",
                                                                   "name": "x" * 3000}))
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert platform.scalar("members", "SELECT count(*) FROM org_units") == 0
    status, page = admin.get("/api/v1/audit")
    assert [(r["route"], r["status"], r["outcome"]) for r in page["items"]] == [
        ("/api/v1/org-units", 413, "failed")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_service_not_running_is_503_with_retry_after(platform):
    platform.start("members")
    platform.stop("members")
    platform.gateway.client.timeout = 2.0
    office = Http(platform.http(), platform.key("admin", None))
    response = platform.http().get("/api/v1/org-units",
                                   headers={"Authorization": f"Bearer {office.key}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert json.loads(response.get_data())["error"]["code"] == "service_unavailable"
