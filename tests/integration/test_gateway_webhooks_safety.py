"""Webhooks through the gateway on PostgreSQL, issue 18: an office key cannot make the platform
call internal addresses (refused at registration, and at delivery after resolving the name:
DNS rebinding), the log never repeats a receiver's answer, a disabled endpoint gets nothing
(replay is a 409), a self-reported newcomer reaches the home county like any arrival, and
every forwarded event's payload is in the OpenAPI document.

The internal addresses below are never contacted: they are refused before any connection.
Receivers run on 127.0.0.1, which the test configuration allows (as a county's on-premise
network would be)."""
import json

import pytest

from gateway.openapi import build_document
from gateway.webhooks import addresses
from gateway.webhooks.events import FORWARDED
from gateway.webhooks.tests.conftest import FakeDns
from gateway.webhooks.tests.receiver import Receiver
from tests.fixtures import wait_for

from .helpers import build_world, id_number, register_member
from .test_gateway_webhooks import FAST

pytestmark = pytest.mark.integration

INTERNAL = [
    ("http://10.20.30.40/hook", "refused: 10.20.30.40 is a private address"),
    ("http://192.168.1.10:8080/hook", "refused: 192.168.1.10 is a private address"),
    ("http://172.16.0.5/hook", "refused: 172.16.0.5 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local"),
    ("http://100.64.0.7/hook", "refused: 100.64.0.7 is a shared (CGNAT) address"),
    ("http://224.0.0.251:5353/", "refused: 224.0.0.251 is a multicast address"),
    ("http://0.0.0.0:5672/", "refused: 0.0.0.0 is an unspecified address"),
    ("http://127.0.0.2:15672/api", "refused: 127.0.0.2 is a loopback address"),
    ("http://[::1]:5432/", "refused: ::1 is a loopback address"),
    ("http://[fd00::5]/hook", "refused: fd00::5 is a private address"),
    ("http://[::ffff:10.0.0.1]/hook", "refused: ::ffff:a00:1 is a private address"),
    ("ftp://files.example.org/hook", "only http and https URLs are accepted"),
    ("gopher://example.org/", "only http and https URLs are accepted"),
    ("https://user:secret@example.org/hook", "credentials in the URL are not accepted"),
]


@pytest.fixture
def world(platform):
    platform.start(webhooks=FAST)
    built = build_world(platform)
    wait_for(lambda: platform.scalar("webhooks", "SELECT count(*) FROM org_units_projection")
             == 10, message="webhooks to learn the org trees")
    return built


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def deliveries(http, hook):
    status, page = http.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
    assert status == 200, page
    return page["items"]


def subscribe(http, url, *event_types):
    status, hook = http.post("/api/v1/webhooks", {"url": url,
                                                  "event_types": list(event_types)})
    assert status == 201, hook
    return hook


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_internal_addresses_are_refused_at_registration_and_after_resolving(
        world, receiver, monkeypatch):
    office = world["a"]["office"]
    for url, message in INTERNAL:
        status, body = office.post("/api/v1/webhooks", {"url": url,
                                                        "event_types": ["member_flowed_out"]})
        assert status == 400, (url, body)
        assert message in body["error"]["fields"]["url"][0], (url, body)
    assert office.get("/api/v1/webhooks")[1]["items"] == []

    # A name that is public when registered and internal when the event is sent (DNS
    # rebinding): refused at the delivery, then delivered once it points to an allowed receiver.
    dns = FakeDns()
    monkeypatch.setattr(addresses, "resolve", dns.resolve)
    dns.names["hooks.county.example"] = ["10.20.30.40"]
    status, body = office.post("/api/v1/webhooks", {
        "url": "https://hooks.county.example/x", "event_types": ["member_flowed_out"]})
    assert status == 400 and body["error"]["fields"]["url"] == [
        "refused: the host name resolves to a private address"]
    dns.names["hooks.county.example"] = ["93.184.215.14"]
    hook = subscribe(office, f"http://hooks.county.example:{receiver.port}/hook",
                     "member_flowed_out")
    dns.names["hooks.county.example"] = ["10.20.30.40"]
    member = register_member(world["a"], 71, host_org_id=None)
    status, _ = office.post(f"/api/v1/members/{member['id']}/flow-out",
                            {"host_org_id": world["a"]["branch"]})
    assert status == 200
    wait_for(lambda: (deliveries(office, hook) or [{}])[0].get("attempts", 0) >= 1,
             message="an attempt at the rebound name")
    attempt = deliveries(office, hook)[0]["log"][0]
    assert (attempt["status_code"], attempt["error"]) == (
        None, "refused: the host name resolves to a private address")
    dns.names["hooks.county.example"] = ["127.0.0.1"]
    wait_for(lambda: deliveries(office, hook)[0]["status"] == "delivered",
             message="the delivery once the name points to the allowed receiver")
    assert [e["event_type"] for e in receiver.events()] == ["member_flowed_out"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_log_keeps_status_and_reason_never_the_receivers_answer(world):
    office = world["a"]["office"]
    receiver = Receiver(answers=[500], answer_body=b"root:x:0:0:root:/root:/bin/bash").start()
    try:
        hook = subscribe(office, receiver.url, "member_flow_accepted")
        member = register_member(world["a"], 72)
        assert world["a"]["host_office"].post(f"/api/v1/members/{member['id']}/accept",
                                              {})[0] == 200
        wait_for(lambda: (deliveries(office, hook) or [{}])[0].get("status") == "delivered",
                 message="the delivery after one 500")
    finally:
        receiver.stop()
    delivery = deliveries(office, hook)[0]
    assert [(e["status_code"], e["error"]) for e in delivery["log"]] == [
        (500, "the receiver answered 500"), (200, None)]
    assert "root" not in json.dumps(delivery)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_disabled_endpoint_gets_nothing_and_its_replay_is_a_conflict(world, receiver):
    office = world["a"]["office"]
    hook = subscribe(office, receiver.url, "member_flow_accepted")
    witness = Receiver().start()
    try:
        member = register_member(world["a"], 73)
        world["a"]["host_office"].post(f"/api/v1/members/{member['id']}/accept", {})
        wait_for(lambda: len(receiver.got) == 1, message="the first delivery")
        delivered = deliveries(office, hook)[0]

        status, disabled = office.post(f"/api/v1/webhooks/{hook['id']}/disable")
        assert status == 200 and disabled["disabled_at"], disabled
        status, body = office.post(f"/api/v1/webhook-deliveries/{delivered['id']}/replay")
        assert status == 409 and body["error"]["code"] == "conflict", body
        assert deliveries(office, hook) == [delivered]          # nothing set to be sent

        # a later event: an enabled endpoint of the same org gets it, the disabled one nothing
        witness_hook = subscribe(office, witness.url, "member_flow_accepted")
        second = register_member(world["a"], 74)
        world["a"]["host_office"].post(f"/api/v1/members/{second['id']}/accept", {})
        wait_for(lambda: len(witness.got) == 1, message="the enabled endpoint's delivery")
        assert deliveries(office, witness_hook)[0]["status"] == "delivered"
        assert deliveries(office, hook) == [delivered] and len(receiver.got) == 1
    finally:
        witness.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_self_reported_newcomer_reaches_the_home_county(world, receiver):
    a = world["a"]
    hook = subscribe(a["office"], receiver.url, "member_flow_accepted")
    status, report = a["branch_office"].post("/api/v1/self-reports", {
        "name": "新来的", "id_number": id_number(75), "phone": "13800005555",
        "home_org_id": a["township"], "host_org_id": a["branch"]})
    assert status == 201, report
    status, decided = a["host_office"].post(f"/api/v1/self-reports/{report['id']}/accept", {})
    assert status == 200 and decided["member_id"], decided

    wait_for(lambda: len(receiver.got) == 1, message="the home county's delivery")
    [event] = receiver.events()
    assert event["event_type"] == "member_flow_accepted"
    assert (event["data"]["member_id"], event["data"]["home_org_id"],
            event["data"]["host_org_id"], event["data"]["status"]) == (
        decided["member_id"], a["township"], a["branch"], "active")
    assert event["data"]["reason"] == f"self-report {report['id']}"
    assert "name" not in event["data"]                     # ids only; the name is fetched
    status, member = a["office"].get(f"/api/v1/members/{decided['member_id']}")
    assert status == 200 and member["name"] == "新来的"
    status, history = a["office"].get(f"/api/v1/members/{decided['member_id']}/history")
    assert [(h["action"], h["reason"]) for h in history["items"]] == [
        ("registered", f"self-report {report['id']}"),
        ("accept", f"self-report {report['id']}")]
    assert deliveries(a["office"], hook)[0]["status"] == "delivered"


def test_every_forwarded_event_payload_and_header_is_documented():
    document = build_document()
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    assert set(document["webhooks"]) == set(FORWARDED)
    for event_type, forwarded in FORWARDED.items():
        operation = document["webhooks"][event_type]["post"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert headers["X-Liudong-Event-Type"]["schema"] == {"type": "string",
                                                             "const": event_type}
        assert {"X-Liudong-Signature", "X-Liudong-Event-Id"} <= set(headers)
        envelope = operation["requestBody"]["content"]["application/json"]["schema"]
        data = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        assert set(data["properties"]) == set(forwarded.contract.schema().fields)
        assert envelope["properties"]["version"]["const"] == forwarded.contract.version
        assert "ids only" in operation["description"]
