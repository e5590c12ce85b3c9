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
from tests.fixtures import free_port, wait_for

from .helpers import build_world, register_member

pytestmark = pytest.mark.integration

FAST = {"WEBHOOK_POLL_SECONDS": 0.1, "WEBHOOK_RETRY_BASE_SECONDS": 0.2,
        "WEBHOOK_RETRY_MAX_SECONDS": 0.5, "WEBHOOK_MAX_ATTEMPTS": 50,
        "WEBHOOK_TIMEOUT_SECONDS": 2}


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



class Receiver:
    """A real HTTP endpoint on loopback: answers with the statuses queued in `answers` (then
    200) and keeps every request it got."""

    def __init__(self, port: int, answers=()):
        self.port, self.answers, self.got = port, list(answers), []
        self._server = self._listener = None

    def start(self):
        self._listener = eventlet.listen(("127.0.0.1", self.port))
        self._server = eventlet.spawn(eventlet.wsgi.server, self._listener, self.app,
                                      log_output=False)
        return self

    def stop(self):
        if self._server:
            self._server.kill()
            self._listener.close()

    def app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        self.got.append({"body": body, "signature": environ.get("HTTP_X_LIUDONG_SIGNATURE", ""),
                         "event_type": environ.get("HTTP_X_LIUDONG_EVENT_TYPE")})
        status = self.answers.pop(0) if self.answers else 200
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    def events(self):
        return [json.loads(r["body"]) for r in self.got]


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
    assert "Connection" in first["log"][0]["error"]

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
