"""Nothing lost: the outbox rides out a broker outage, a redelivered event has one effect, and
a handler that keeps failing is retried with backoff, parked in its dead-letter queue, listed
and replayed."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kombu import Connection
from nameko.runners import ServiceRunner
from nameko.testing.services import entrypoint_hook

from services import SERVICE_CLASSES
from services.donations import events as donation_events
from services.members import events as member_events
from services.plumbing import deadletters, topology
from services.plumbing.outbox import EventPublisher
from services.plumbing.subscriber import subscribe
from tests.fixtures import broker_stopped, container_config, purge_event_queues, wait_for

from .helpers import id_number

pytestmark = pytest.mark.integration

ADMIN = {"key_id": "admin", "role": "admin", "org_id": None}


def call(platform, service, method, *args):
    """Run an entrypoint inside the running container, without going through the broker."""
    with entrypoint_hook(platform.container(service), method) as hook:
        return hook(*args)


def make_member(platform, serial):
    county = call(platform, "members", "create_org_unit", ADMIN, {"kind": "county", "name": "c"})
    return call(platform, "members", "register_member", ADMIN, {
        "name": "党员", "id_number": id_number(serial), "phone": "13800001234",
        "home_org_id": county["id"]})


@pytest.mark.chaos
def test_member_registered_while_broker_is_down_reaches_the_desk_once(platform, backend):
    platform.start("members", "services_desk")
    with broker_stopped():
        member = make_member(platform, 1)  # the write path does not need the broker
        assert platform.scalar("members", "SELECT count(*) FROM members") == 1
        assert platform.scalar("members", "SELECT count(*) FROM outbox "
                                          "WHERE published_at IS NULL") == 2
    wait_for(lambda: platform.scalar(
        "services_desk", "SELECT count(*) FROM members_projection WHERE member_id = :m",
        m=member["id"]) == 1, timeout=90, message="the desk projection after the outage")
    wait_for(lambda: platform.scalar("members", "SELECT count(*) FROM outbox "
                                                "WHERE published_at IS NULL") == 0, timeout=30)
    assert platform.scalar("services_desk", "SELECT count(*) FROM members_projection") == 1
    assert platform.scalar("services_desk", "SELECT count(*) FROM processed_events "
                                            "WHERE consumer = 'services_desk.on_member_registered'") == 1


def test_redelivered_event_has_one_effect(platform, amqp_uri):
    platform.start("members")
    member = make_member(platform, 2)
    envelope = donation_events.DONATION_RECEIVED.envelope({
        "donation_id": "d-1", "campaign_id": "c-1", "member_id": member["id"],
        "amount": Decimal("3000.00"), "received_at": datetime.now(UTC)})
    publisher = EventPublisher(amqp_uri)
    try:
        for _ in range(3):  # the same event_id three times: a broker redelivery, a relay retry
            publisher.publish(envelope)
    finally:
        publisher.close()
    wait_for(lambda: platform.scalar("members", "SELECT count(*) FROM processed_events") == 1)
    wait_for(lambda: platform.scalar(
        "members", "SELECT count(*) FROM processed_events") == 1 and platform.scalar(
        "members", "SELECT giving_total FROM members WHERE id = :m", m=member["id"])
        == Decimal("3000.00"))
    # Give the other two deliveries time to be handled, then check they changed nothing.
    Connection(amqp_uri).close()
    wait_for(lambda: _queue_depth(amqp_uri, "members.on_donation_received") == 0)
    assert platform.scalar("members", "SELECT giving_total FROM members WHERE id = :m",
                           m=member["id"]) == Decimal("3000.00")


def _queue_depth(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        _name, messages, _consumers = conn.default_channel.queue_declare(queue, passive=True)
        return messages


class FlakyConsumer:
    """A consumer whose handler fails until told otherwise."""
    name = "flaky_probe"
    healthy = False
    handled: list = []

    @subscribe("members", "member_registered")
    def on_member_registered(self, event):
        if not FlakyConsumer.healthy:
            raise RuntimeError("downstream is broken")
        FlakyConsumer.handled.append(event.event_id)


def test_failing_handler_is_retried_then_parked_then_replayed(amqp_uri, tmp_path):
    with Connection(amqp_uri) as conn:
        topology.declare(conn, [FlakyConsumer])
    sub = topology.subscriptions_of(FlakyConsumer)[0]
    FlakyConsumer.healthy, FlakyConsumer.handled = False, []
    runner = ServiceRunner(container_config("flaky_probe", "sqlite://", amqp_uri,
                                            EVENT_MAX_RETRIES=2, EVENT_RETRY_BASE_SECONDS=0.2))
    runner.add_service(FlakyConsumer)
    runner.start()
    try:
        envelope = member_events.MEMBER_REGISTERED.envelope({
            "member_id": "m-1", "name": "x", "home_org_id": "o-1", "host_org_id": None,
            "registered_at": datetime.now(UTC)})
        publisher = EventPublisher(amqp_uri)
        publisher.publish(envelope)
        publisher.close()

        parked = wait_for(lambda: deadletters.list_parked(amqp_uri, [sub]), timeout=30,
                          message="the event to be parked")
        assert [(p["event_id"], p["attempts"]) for p in parked] == [(envelope["event_id"], 3)]
        assert "downstream is broken" in parked[0]["last_error"]
        # Listing does not consume: it is still there, and it is not being retried any more.
        assert len(deadletters.list_parked(amqp_uri, [sub])) == 1
        assert FlakyConsumer.handled == []

        FlakyConsumer.healthy = True
        assert deadletters.replay(amqp_uri, sub) == 1
        wait_for(lambda: FlakyConsumer.handled == [envelope["event_id"]], timeout=10)
        assert deadletters.list_parked(amqp_uri, [sub]) == []
    finally:
        runner.stop()


def test_a_batch_waits_once_for_its_confirms_and_tells_unroutable_events_apart(amqp_uri):
    """The relay's way of publishing: many events, one wait for the broker's confirms; an event
    type no queue is bound for comes back as not routed, without failing the rest."""
    subscription = next(sub for sub in topology.all_subscriptions(
        [topology.load_service_class(path) for path in SERVICE_CLASSES.values()])
        if (sub.producer, sub.event_type) == ("members", "member_registered"))
    purge_event_queues(amqp_uri)
    registered = [member_events.MEMBER_REGISTERED.envelope({
        "member_id": f"m-{n}", "name": "x", "home_org_id": "o-1", "host_org_id": None,
        "registered_at": datetime.now(UTC)}) for n in range(40)]
    nobody_listens = {"producer": "members", "event_type": "nobody_listens_to_this",
                      "event_id": "e-unrouted", "occurred_at": "2026-12-01T00:00:00+00:00",
                      "payload": {}}
    batch = [(envelope, f"trace-{n}") for n, envelope in enumerate(registered[:20])]
    batch += [(nobody_listens, None)] + [(envelope, None) for envelope in registered[20:]]
    publisher = EventPublisher(amqp_uri)
    try:
        routed = publisher.publish_many(batch)
        assert routed == [True] * 20 + [False] + [True] * 20
        assert publisher.publish_many(batch[:3]) == [True] * 3   # the channel goes on
    finally:
        publisher.close()
    wait_for(lambda: _queue_depth(amqp_uri, subscription.queue_name) == 43)
    with Connection(amqp_uri) as conn:
        first = conn.default_channel.basic_get(subscription.queue_name, no_ack=True)
        assert first.headers["nameko.request_id"] == "trace-0"
        assert first.properties["message_id"] == registered[0]["event_id"]
        assert first.content_type == "application/json" and first.delivery_info["routing_key"] \
            == "member_registered"
    purge_event_queues(amqp_uri)
