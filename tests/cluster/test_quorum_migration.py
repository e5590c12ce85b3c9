"""Upgrading an installation whose queues are classic (the topology before issue 16): the topology
step replaces every queue by a quorum queue and no waiting message is lost — events waiting for
their consumer, retries waiting for their delay, parked events, RPC requests with their reply
address. On a vhost of its own on the shared broker."""
import json
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue

from services import SERVICE_CLASSES
from services.plumbing import quorum_migration, topology
from tests.fixtures import INFRA, wait_for

pytestmark = pytest.mark.integration

CLASSES = [topology.load_service_class(p) for p in SERVICE_CLASSES.values()]


def declare_classic_topology(conn):
    """What `python -m services.plumbing.topology` and nameko declared before quorum queues."""
    channel = conn.channel()
    for sub in topology.all_subscriptions(CLASSES):
        Queue(sub.queue_name, exchange=topology.events_exchange(sub.producer),
              routing_key=sub.event_type, durable=True,
              queue_arguments={"x-dead-letter-exchange": topology.DEAD_LETTER_EXCHANGE,
                               "x-dead-letter-routing-key": sub.queue_name})(channel).declare()
        Queue(f"{sub.consumer}.retry", durable=True,
              queue_arguments={"x-dead-letter-exchange": "",
                               "x-dead-letter-routing-key": sub.queue_name})(channel).declare()
        Queue(sub.parked_queue_name, exchange=topology.dead_letter_exchange(),
              routing_key=sub.queue_name, durable=True)(channel).declare()
    for service in ("members", "donations"):
        Queue(f"rpc-{service}", exchange=Exchange("nameko-rpc", type="topic", durable=True),
              routing_key=f"{service}.*", durable=True)(channel).declare()
    channel.close()


def queues_by_type(vhost: str) -> dict:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type",
                          "messages", "--formatter", "json"],
                         check=True, capture_output=True, text=True).stdout
    return {row["name"]: (row["type"], row["messages"]) for row in json.loads(out)}


def event_ids(messages) -> list:
    return [json.loads(m.body)["event_id"] for m in messages]


def take_all(conn, queue: str) -> list:
    channel = conn.channel()
    messages = []
    while (message := channel.basic_get(queue, no_ack=False)) is not None:
        messages.append(message)
        channel.basic_ack(message.delivery_tag)
    channel.close()
    return messages


@pytest.fixture
def classic_vhost():
    vhost = f"liudong-migration-{uuid.uuid4().hex[:8]}"
    subprocess.run(INFRA + ["vhost-add", vhost], check=True)
    uri = f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
    with Connection(uri) as conn:
        declare_classic_topology(conn)
    yield vhost, uri
    subprocess.run(INFRA + ["vhost-delete", vhost], check=False)


def test_topology_step_moves_classic_queues_to_quorum_keeping_every_waiting_message(classic_vhost):
    vhost, uri = classic_vhost
    subs = {s.consumer: s for s in topology.all_subscriptions(CLASSES)}
    desk = subs["services_desk.on_member_registered"]
    giving = subs["members.on_donation_received"]
    with Connection(uri) as conn:
        producer = Producer(conn.channel())
        for n in range(3):  # waiting for the consumers: routed to every consumer's queue
            producer.publish({"event_id": f"e{n}"}, exchange=topology.events_exchange("members"),
                             routing_key="member_registered", serializer="json", delivery_mode=2)
        # a retry waiting out its delay in the classic per-consumer retry queue
        producer.publish({"event_id": "retrying"}, exchange="",
                         routing_key=f"{giving.consumer}.retry", serializer="json",
                         delivery_mode=2, expiration=600, headers={"x-attempt": 2})
        producer.publish({"event_id": "parked"}, exchange=topology.dead_letter_exchange(),
                         routing_key=desk.queue_name, serializer="json", delivery_mode=2)
        producer.publish({"args": [], "kwargs": {}}, exchange=Exchange("nameko-rpc", type="topic"),
                         routing_key="members.get_member", serializer="json", delivery_mode=2,
                         reply_to="rpc.reply-gateway-1", correlation_id="call-7")
    before = queues_by_type(vhost)
    assert before[desk.queue_name] == ("classic", 3) and before["rpc-members"] == ("classic", 1)

    subprocess.run([sys.executable, "-m", "services.plumbing.topology", "--amqp-uri", uri],
                   check=True, capture_output=True)

    after = queues_by_type(vhost)
    assert {name: kind for name, (kind, _n) in after.items() if kind != "quorum"} == {}
    assert not [name for name in after if name.endswith((".retry", ".migrating"))], after
    expected = {q.name for q in topology.durable_queues(CLASSES)}
    assert expected <= set(after)
    with Connection(uri) as conn:
        for sub in subs.values():
            if (sub.producer, sub.event_type) == ("members", "member_registered"):
                ids = event_ids(take_all(conn, sub.queue_name))
                assert sorted(ids) == ["e0", "e1", "e2"], (sub.consumer, ids)
        retried = take_all(conn, giving.queue_name)
        assert event_ids(retried) == ["retrying"]
        assert retried[0].properties["application_headers"]["x-attempt"] == 2
        assert "expiration" not in retried[0].properties  # it must not expire in the main queue
        assert event_ids(take_all(conn, desk.parked_queue_name)) == ["parked"]
        (request,) = take_all(conn, "rpc-members")
        assert (request.properties["reply_to"], request.properties["correlation_id"]) == \
            ("rpc.reply-gateway-1", "call-7")

        # routed as before: a new event reaches the new quorum queue
        Producer(conn.channel()).publish({"event_id": "after"}, serializer="json",
                                         exchange=topology.events_exchange("members"),
                                         routing_key="member_registered")
        arrived = []
        wait_for(lambda: arrived.extend(event_ids(take_all(conn, desk.queue_name))) or arrived,
                 message="the event published after the migration")
        assert arrived == ["after"]
        # running the step again finds nothing to migrate
        assert quorum_migration.migrate(conn, CLASSES) == []


def test_migration_refuses_while_a_service_still_consumes_and_keeps_the_messages(classic_vhost):
    vhost, uri = classic_vhost
    sub = topology.subscriptions_of(topology.load_service_class(SERVICE_CLASSES["donations"]))[0]
    with Connection(uri) as conn, Connection(uri) as consumer_conn:
        Producer(conn.channel()).publish({"event_id": "waiting"}, serializer="json",
                                         exchange="", routing_key=sub.queue_name)
        consumer_channel = consumer_conn.channel()
        consumer_channel.basic_qos(0, 1, False)
        consumer_channel.basic_consume(sub.queue_name, callback=lambda message: None)
        with pytest.raises(quorum_migration.ConsumersAttached):
            quorum_migration.migrate(conn, CLASSES)
    # the consumer went away without acking: the message is still there, in the classic queue
    assert queues_by_type(vhost)[sub.queue_name] == ("classic", 1)
