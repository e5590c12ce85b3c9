"""Webhooks end to end: an org registers an endpoint, a real HTTP receiver on loopback gets the
org's events signed (HMAC-SHA256 over timestamp and body), a receiver that is down or failing
loses nothing (retried with backoff until it answers 2xx), the delivery log keeps every attempt
with its response code, a delivery can be replayed, and no event leaves its tenant."""
import json
from contextlib import contextmanager

import eventlet
import eventlet.wsgi
import pytest

from gateway.client import verify_signature
from gateway.webhooks.tests.receiver import Receiver
from tests.fixtures import free_port, wait_for

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration

# Receivers run on loopback: allowed here as a county's on-premise network would be.
FAST = {"WEBHOOK_POLL_SECONDS": 0.1, "WEBHOOK_RETRY_BASE_SECONDS": 0.2,
        "WEBHOOK_RETRY_MAX_SECONDS": 0.5, "WEBHOOK_MAX_ATTEMPTS": 50,
        "WEBHOOK_TIMEOUT_SECONDS": 2, "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}


# -- shared with the other gateway tests ------------------------------------------------------
@contextmanager
def served(app):
    listener = eventlet.listen(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False,
                            max_size=100)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        listener.close()



@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
def test_signed_retried_logged_replayable_and_tenant_bound(platform):
    platform.start(webhooks=FAST)
    world = build_world(platform)
    wait_for(lambda: platform.scalar("webhooks", "SELECT count(*) FROM org_units_projection")
             == 10, message="webhooks to learn the org trees")
    a, b = world["a"], world["b"]

    port_a = free_port()
    receiver_b = Receiver(free_port()).start()
    status, hook_a = a["office"].post("/api/v1/webhooks", {
        "url": f"http://127.0.0.1:{port_a}/hook", "event_types": ["member_flow_accepted"]})
    assert status == 201 and hook_a["secret"].startswith("whsec_"), hook_a
    status, hook_b = b["office"].post("/api/v1/webhooks", {
        "url": f"http://127.0.0.1:{receiver_b.port}/hook",
        "event_types": ["member_flow_accepted", "member_flowed_out"]})
    assert status == 201, hook_b
    # bodies are checked; tenants see only their own endpoints
    status, body = a["office"].post("/api/v1/webhooks", {"url": "ftp://x",
                                                         "event_types": ["nope"]})
    assert status == 400 and {"url", "event_types.0"} <= set(body["error"]["fields"])
    assert [h["id"] for h in a["office"].get("/api/v1/webhooks")[1]["items"]] == [hook_a["id"]]
    assert "secret" not in json.dumps(a["office"].get("/api/v1/webhooks")[1])
    assert a["office"].get(f"/api/v1/webhooks/{hook_b['id']}/deliveries")[0] == 404

    # A's member flows into A's host branch while A's receiver is down
    member = register_member(a, 90)
    status, accepted = a["host_office"].post(f"/api/v1/members/{member['id']}/accept", {})
    assert status == 200, accepted

    def deliveries(http, hook):
        status, page = http.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
        assert status == 200, page
        return page["items"]

    wait_for(lambda: (deliveries(a["office"], hook_a) or [{}])[0].get("attempts", 0) >= 2,
             message="failed attempts against the receiver that is down")
    first = deliveries(a["office"], hook_a)[0]
    assert first["status"] == "pending" and first["log"][0]["status_code"] is None
    assert first["log"][0]["error"] == "connection refused"

    # it comes back, answers 500 once, then 200: the delivery arrives, once delivered
    receiver_a = Receiver(port_a, answers=[500]).start()
    try:
        wait_for(lambda: deliveries(a["office"], hook_a)[0]["status"] == "delivered",
                 message="the delivery after the receiver came back")
        done = deliveries(a["office"], hook_a)[0]
        codes = [entry["status_code"] for entry in done["log"]]
        assert codes[-2:] == [500, 200] and None in codes
        assert len(receiver_a.got) == 2
        got = receiver_a.got[-1]
        assert verify_signature(hook_a["secret"], got["signature"], got["body"])
        assert not verify_signature(hook_b["secret"], got["signature"], got["body"])
        assert not verify_signature(hook_a["secret"], got["signature"], got["body"] + b" ")
        event = json.loads(got["body"])
        assert event["event_type"] == "member_flow_accepted" == got["event_type"]
        assert event["data"]["member_id"] == member["id"]

        # replay sends the same event again and logs it
        status, replayed = a["office"].post(f"/api/v1/webhook-deliveries/{done['id']}/replay")
        assert status == 200 and replayed["status"] == "pending"
        wait_for(lambda: len(receiver_a.got) == 3, message="the replayed delivery")
        assert json.loads(receiver_a.got[2]["body"])["event_id"] == event["event_id"]
        # one history: every attempt counted and logged, the first delivery time kept
        wait_for(lambda: deliveries(a["office"], hook_a)[0]["status"] == "delivered",
                 message="the replay to be logged")
        after = deliveries(a["office"], hook_a)[0]
        assert after["attempts"] == len(after["log"]) == len(done["log"]) + 1
        assert after["replays"] == 1 and after["delivered_at"] == done["delivered_at"]
        assert after["log"][:-1] == done["log"] and after["log"][-1]["replay"] == 1
        assert b["office"].post(f"/api/v1/webhook-deliveries/{done['id']}/replay")[0] == 404
    finally:
        receiver_a.stop()

    # B subscribed to the same event type but the member is A's: nothing went to B
    assert deliveries(b["office"], hook_b) == [] and receiver_b.got == []
    # and B does receive its own
    member_b = register_member(b, 91)
    b["host_office"].post(f"/api/v1/members/{member_b['id']}/accept", {})
    wait_for(lambda: len(receiver_b.got) == 1, message="B's own event")
    assert receiver_b.events()[0]["data"]["member_id"] == member_b["id"]
    assert all(e["data"]["member_id"] != member["id"] for e in receiver_b.events())
    receiver_b.stop()
