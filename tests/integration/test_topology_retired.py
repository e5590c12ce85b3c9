"""The topology step deletes the queues of consumers the platform no longer has (issue 13:
webhooks scopes by org unit only and stopped consuming member events); left behind, such a
queue would hold every event of its type for ever."""
from datetime import UTC, datetime

import pytest
from amqp.exceptions import NotFound
from kombu import Connection

from gateway.webhooks.service import WebhooksService
from services.members import events as member_events
from services.plumbing import topology
from services.plumbing.outbox import EventPublisher

pytestmark = pytest.mark.integration


def queue_depth(amqp_uri: str, name: str) -> int | None:
    try:
        with Connection(amqp_uri) as conn:
            return conn.default_channel.queue_declare(name, passive=True)[1]
    except NotFound:
        return None


def test_webhooks_takes_org_events_only():
    consumed = {sub.event_type for sub in topology.subscriptions_of(WebhooksService)
                if sub.producer == "members"}
    assert consumed == {"org_unit_registered", "org_unit_moved", "member_flowed_out",
                        "member_flow_accepted", "member_moved", "member_returned"}
    assert all(sub.method.startswith("forward_") for sub in topology.subscriptions_of(WebhooksService)
               if sub.event_type.startswith("member_"))


def test_a_retired_consumers_queues_are_deleted_by_the_topology_step(amqp_uri):
    retired = topology.RETIRED_SUBSCRIPTIONS[0]
    assert retired.queue_name == "webhooks.on_member_registered"
    with Connection(amqp_uri) as conn:  # as an earlier version declared it
        topology.consumer_queue(retired)(conn.default_channel).declare()
        topology.parked_queue(retired)(conn.default_channel).declare()
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.publish(member_events.MEMBER_REGISTERED.envelope({
            "member_id": "m-1", "name": "x", "home_org_id": "o-1", "host_org_id": None,
            "registered_at": datetime.now(UTC)}))
    finally:
        publisher.close()
    assert queue_depth(amqp_uri, retired.queue_name) == 1  # it keeps what nobody will take
    topology.main(["--amqp-uri", amqp_uri])
    assert queue_depth(amqp_uri, retired.queue_name) is None
    assert queue_depth(amqp_uri, retired.parked_queue_name) is None
    topology.main(["--amqp-uri", amqp_uri])  # again: nothing to delete, no error
