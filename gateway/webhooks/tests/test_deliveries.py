"""The webhooks service on its own (SQLite, no broker, real HTTP to loopback receivers): what
may be registered, what is forwarded, the SSRF checks at delivery time (DNS rebinding), what the
log keeps of a receiver's answer, "disabled" meaning nothing is sent, and one consistent
history across replays."""
import json

import pytest
from sqlalchemy import select

from gateway.client import verify_signature
from gateway.webhooks.events import FORWARDED
from gateway.webhooks.models import Delivery
from gateway.webhooks.tests.receiver import Receiver
from services.members import events as member_events
from services.plumbing.errors import Conflict, NotFound, ValidationFailed

from .conftest import BRANCH, COUNTY, ELSEWHERE, TOWNSHIP, caller, flow_event, received

MEMBER = "member-1"


def accepted(service, member_id=MEMBER, seq=1):
    service.forward_member_flow_accepted(received(
        flow_event(member_events.MEMBER_FLOW_ACCEPTED, member_id, TOWNSHIP, BRANCH, seq=seq),
        "forward_member_flow_accepted"))


def register(service, url, org=COUNTY, event_types=("member_flow_accepted",)):
    return service.create_webhook(caller(org), {"url": url, "event_types": list(event_types)})


def deliveries(service, hook, org=COUNTY):
    return service.list_deliveries(caller(org), hook["id"], {})["items"]


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.mark.parametrize("url, message", [
    ("http://10.20.30.40/hook", "refused: 10.20.30.40 is a private address"),
    ("http://192.168.1.10:8080/hook", "refused: 192.168.1.10 is a private address"),
    ("http://172.16.0.5/hook", "refused: 172.16.0.5 is a private address"),
    ("http://169.254.169.254/latest/meta-data/",
     "refused: 169.254.169.254 is a link-local address"),
    ("http://127.0.0.2:5672/", "refused: 127.0.0.2 is a loopback address"),
    ("ftp://example.org/hook", "only http and https URLs are accepted"),
    ("http://me:pw@example.org/hook", "credentials in the URL are not accepted"),
])
def test_internal_or_malformed_urls_are_refused_at_registration(service, tenancy, dns, url,
                                                                message):
    with pytest.raises(ValidationFailed) as caught:
        register(service, url)
    assert message in caught.value.fields["url"][0]
    assert service.list_webhooks(caller(COUNTY))["items"] == []


def test_a_name_that_resolves_inside_is_refused_at_registration(service, tenancy, dns):
    dns.names["hook.county.example"] = ["10.1.2.3"]
    with pytest.raises(ValidationFailed) as caught:
        register(service, "https://hook.county.example/x")
    assert caught.value.fields == {"url": [
        "refused: the host name resolves to a private address"]}


def test_forwarded_payloads_are_the_contracts_with_ids_and_never_names(service, tenancy,
                                                                       receiver):
    hook = register(service, receiver.url)
    accepted(service)
    body = json.loads(deliveries_body(service, hook))
    contract = FORWARDED["member_flow_accepted"].contract
    assert set(body["data"]) == set(contract.schema().fields)
    assert body["data"]["member_id"] == MEMBER
    # the decision (events.py): ids only; a receiver fetches names with its own key
    for forwarded in FORWARDED.values():
        names = set(forwarded.contract.schema().fields)
        assert not {n for n in names if "name" in n or "phone" in n or "id_number" in n}, \
            forwarded.event_type
        assert set(forwarded.concerns) <= names


def deliveries_body(service, hook):
    with service.db.read() as session:
        return session.scalar(select(Delivery.body).where(Delivery.endpoint_id == hook["id"]))


def test_signed_delivery_and_a_failing_answer_body_is_never_kept(make_service, tenancy):
    service = make_service(WEBHOOK_MAX_ATTEMPTS=5)
    receiver = Receiver(answers=[500], answer_body=b"db password is hunter2").start()
    try:
        hook = register(service, receiver.url)
        accepted(service)
        assert service.send_due() == 1 and service.send_due() == 1
    finally:
        receiver.stop()
    [delivery] = deliveries(service, hook)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    assert [(e["status_code"], e["error"]) for e in delivery["log"]] == [
        (500, "the receiver answered 500"), (200, None)]
    assert "hunter2" not in json.dumps(delivery)
    got = receiver.got[-1]
    assert got["event_type"] == "member_flow_accepted"
    assert verify_signature(hook["secret"], got["signature"], got["body"])


def test_dns_rebinding_is_refused_at_delivery_without_contacting_the_address(
        make_service, tenancy, dns, receiver):
    """The name was public at registration; by delivery it points at loopback, where a real
    receiver listens: nothing reaches it unless loopback is allowed."""
    strict = make_service(WEBHOOK_ALLOWED_NETWORKS="")
    dns.names["hook.example"] = ["93.184.215.14"]
    hook = register(strict, f"http://hook.example:{receiver.port}/hook")
    accepted(strict)
    dns.names["hook.example"] = ["127.0.0.1"]
    assert strict.send_due() == 1
    [delivery] = deliveries(strict, hook)
    assert delivery["status"] == "pending" and receiver.got == []
    assert delivery["log"][0] == {**delivery["log"][0], "status_code": None,
                                  "error": "refused: the host name resolves to a loopback "
                                           "address"}
    assert dns.lookups.count("hook.example") == 2        # registration, then the delivery
    # the same delivery, with loopback allowed (as for an on-premise receiver), arrives
    allowing = make_service(WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32")
    assert allowing.send_due() == 1
    assert deliveries(allowing, hook)[0]["status"] == "delivered" and len(receiver.got) == 1


def test_an_address_refused_later_by_configuration_is_not_contacted(make_service, tenancy,
                                                                    receiver):
    hook = register(make_service(), receiver.url)       # loopback allowed at registration
    strict = make_service(WEBHOOK_ALLOWED_NETWORKS="")
    accepted(strict)
    strict.send_due()
    assert receiver.got == []
    assert deliveries(strict, hook)[0]["log"][0]["error"] == \
        "refused: 127.0.0.1 is a loopback address"


def test_disabled_means_nothing_is_sent(service, tenancy, receiver):
    hook = register(service, receiver.url)
    accepted(service)
    disabled = service.disable_webhook(caller(COUNTY), hook["id"])
    assert disabled["disabled_at"] is not None and "secret" not in disabled
    assert service.send_due() == 0
    [delivery] = deliveries(service, hook)
    assert delivery["status"] == "failed" and "disabled" in delivery["last_error"]
    with pytest.raises(Conflict) as caught:
        service.replay_delivery(caller(COUNTY), delivery["id"])
    assert caught.value.http_status == 409
    assert service.send_due() == 0 and receiver.got == []
    accepted(service, "member-2", seq=2)          # and no new deliveries are written
    assert len(deliveries(service, hook)) == 1


def test_replays_keep_one_consistent_history(service, tenancy):
    receiver = Receiver(answers=[500, 502, 503]).start()     # WEBHOOK_MAX_ATTEMPTS is 3
    try:
        hook = register(service, receiver.url)
        accepted(service)
        while service.send_due():
            pass
        [failed] = deliveries(service, hook)
        assert (failed["status"], failed["attempts"], failed["delivered_at"]) == \
            ("failed", 3, None)

        replayed = service.replay_delivery(caller(COUNTY), failed["id"])
        assert (replayed["status"], replayed["attempts"], replayed["replays"]) == \
            ("pending", 3, 1)
        assert len(replayed["log"]) == 3
        service.send_due()
        [delivered] = deliveries(service, hook)
        assert (delivered["status"], delivered["attempts"]) == ("delivered", 4)
        assert [(e["replay"], e["status_code"]) for e in delivered["log"]] == [
            (0, 500), (0, 502), (0, 503), (1, 200)]
        first_delivered = delivered["delivered_at"]
        assert first_delivered == delivered["log"][3]["at"]

        service.replay_delivery(caller(COUNTY), failed["id"])
        service.send_due()
        [again] = deliveries(service, hook)
        assert (again["status"], again["attempts"], again["replays"]) == ("delivered", 5, 2)
        assert again["delivered_at"] == first_delivered         # the first delivery stays
        assert len(again["log"]) == again["attempts"] == 5
        assert len(receiver.got) == 5
        assert {r["delivery_id"] for r in receiver.got} == {failed["id"]}
    finally:
        receiver.stop()


def test_other_tenants_see_nothing(service, tenancy, receiver):
    hook = register(service, receiver.url)
    accepted(service)
    assert service.list_webhooks(caller(ELSEWHERE))["items"] == []
    with pytest.raises(NotFound):
        service.list_deliveries(caller(ELSEWHERE), hook["id"], {})
    delivery_id = deliveries(service, hook)[0]["id"]
    with pytest.raises(NotFound):
        service.replay_delivery(caller(ELSEWHERE), delivery_id)
    with pytest.raises(NotFound):
        service.disable_webhook(caller(ELSEWHERE), hook["id"])


def test_every_forwarded_event_has_its_forward_handler_and_nothing_else():
    from gateway.webhooks.service import WebhooksService
    from services.plumbing.topology import subscriptions_of
    forwarding = {(sub.producer, sub.event_type, sub.method)
                  for sub in subscriptions_of(WebhooksService) if sub.method.startswith("forward_")}
    assert forwarding == {(f.contract.producer, f.event_type, f"forward_{f.event_type}")
                          for f in FORWARDED.values()}
