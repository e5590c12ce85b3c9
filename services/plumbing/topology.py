"""Names and declaration of every exchange and queue, so that they exist before anyone publishes.

Every durable queue is a quorum queue (replicated by RabbitMQ over the nodes of a cluster; a
single node is a cluster of one), and every queue that dead-letters does so at-least-once
(`x-dead-letter-strategy: at-least-once`, which RabbitMQ honours only with
`x-overflow: reject-publish`): a dead-lettered message leaves its queue only once the target
queue has confirmed it.

Per producer service: a durable topic exchange `<producer>.events`, routing key = event type.
Per consumer (one handler method of one service), two quorum queues:

    <service>.<method>           bound to <producer>.events with the event type; dead-letters
                                 into the `dead-letters` exchange with its own name as key
    <service>.<method>.parked    bound to `dead-letters`: deliveries that exhausted their retries

Retries wait in one quorum queue per backoff delay, shared by every consumer:

    retry.<ms>ms                 bound to the fanout exchange `retry.<ms>ms`; queue-level TTL of
                                 <ms>, then dead-letters through the default exchange with the
                                 routing key it was published with: the consumer's queue

A queue-level TTL rather than a per-message one: every message of a delay queue expires in the
order it arrived, so a long backoff never holds a short one up behind it.

Per service, its RPC request queue `rpc-<service>` (nameko's name and binding) is quorum too.

The same functions are used by the deploy step and by the consumers, so a consumer never
re-declares a queue with different arguments. `quorum_migration` moves an installation whose
queues are classic onto this topology without losing a waiting message.
"""
import importlib
import logging
from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "dead-letters"
RPC_EXCHANGE = "nameko-rpc"  # nameko's default, which the platform does not change

QUORUM = {"x-queue-type": "quorum"}
# RabbitMQ dead-letters a quorum queue's messages at-least-once only with reject-publish overflow.
DEAD_LETTERS_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once",
                              "x-overflow": "reject-publish"}


@dataclass(frozen=True)
class Subscription:
    consumer_service: str
    method: str
    producer: str
    event_type: str

    @property
    def consumer(self) -> str:
        return f"{self.consumer_service}.{self.method}"

    @property
    def queue_name(self) -> str:
        return self.consumer

    @property
    def parked_queue_name(self) -> str:
        return f"{self.consumer}.parked"


def events_exchange(producer: str) -> Exchange:
    return Exchange(f"{producer}.events", type="topic", durable=True, auto_delete=False)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True, auto_delete=False)


def consumer_queue(sub: Subscription) -> Queue:
    return Queue(sub.queue_name, exchange=events_exchange(sub.producer), routing_key=sub.event_type,
                 durable=True, auto_delete=False,
                 queue_arguments=QUORUM | DEAD_LETTERS_AT_LEAST_ONCE | {
                     "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                     "x-dead-letter-routing-key": sub.queue_name})


def parked_queue(sub: Subscription) -> Queue:
    return Queue(sub.parked_queue_name, exchange=dead_letter_exchange(),
                 routing_key=sub.queue_name, durable=True, auto_delete=False,
                 queue_arguments=QUORUM)


def retry_delay_ms(base_seconds: float, attempt: int) -> int:
    """The backoff before retry number `attempt + 1`: base * 2**attempt, in whole milliseconds."""
    return max(1, round(base_seconds * (2 ** attempt) * 1000))


def retry_delays_ms(max_retries: int, base_seconds: float) -> list[int]:
    return [retry_delay_ms(base_seconds, attempt) for attempt in range(max_retries)]


def retry_exchange(delay_ms: int) -> Exchange:
    return Exchange(f"retry.{delay_ms}ms", type="fanout", durable=True, auto_delete=False)


def retry_queue(delay_ms: int) -> Queue:
    # Published to with the consumer's queue as routing key; no x-dead-letter-routing-key, so on
    # expiry the message goes through the default exchange ("") to that queue.
    return Queue(f"retry.{delay_ms}ms", exchange=retry_exchange(delay_ms), durable=True,
                 auto_delete=False,
                 queue_arguments=QUORUM | DEAD_LETTERS_AT_LEAST_ONCE | {
                     "x-message-ttl": delay_ms, "x-dead-letter-exchange": ""})


def rpc_exchange() -> Exchange:
    return Exchange(RPC_EXCHANGE, type="topic", durable=True, auto_delete=False)


def rpc_queue(service: str) -> Queue:
    """nameko's RPC request queue of a service (name and binding as nameko makes them)."""
    return Queue(f"rpc-{service}", exchange=rpc_exchange(), routing_key=f"{service}.*",
                 durable=True, auto_delete=False, queue_arguments=QUORUM)


def load_service_class(path: str):
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def subscriptions_of(service_cls) -> list[Subscription]:
    """The subscriptions declared by a service class's `@subscribe` entrypoints."""
    subs = []
    for name in dir(service_cls):
        method = getattr(service_cls, name, None)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            sub = getattr(entrypoint, "subscription_for", None)
            if sub is not None:
                subs.append(sub(service_cls.name, name))
    return subs


def producers_of(service_classes) -> set[str]:
    return {cls.name for cls in service_classes}


def all_subscriptions(service_classes) -> list[Subscription]:
    return [sub for cls in service_classes for sub in subscriptions_of(cls)]


def platform_subscribed_events() -> set[tuple[str, str]]:
    """(producer, event_type) pairs that some service of the platform consumes."""
    from services import SERVICE_CLASSES
    classes = [load_service_class(path) for path in SERVICE_CLASSES.values()]
    return {(sub.producer, sub.event_type) for sub in all_subscriptions(classes)}


def configured_retry_delays_ms() -> list[int]:
    """The delays the services retry with, from the same settings their containers read."""
    from . import config
    return retry_delays_ms(*config.event_retry_settings())


def durable_queues(service_classes, delays_ms=None) -> list[Queue]:
    """Every durable queue of the platform: RPC requests, consumers, parked, retry delays."""
    queues = [rpc_queue(cls.name) for cls in sorted(service_classes, key=lambda c: c.name)
              if has_rpc_entrypoints(cls)]
    for sub in all_subscriptions(service_classes):
        queues += [consumer_queue(sub), parked_queue(sub)]
    delays = configured_retry_delays_ms() if delays_ms is None else delays_ms
    return queues + [retry_queue(ms) for ms in sorted(set(delays))]


def has_rpc_entrypoints(service_cls) -> bool:
    from nameko.rpc import Rpc
    return any(isinstance(entrypoint, Rpc)
               for name in dir(service_cls)
               for entrypoint in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ()))


def declare(connection: Connection, service_classes, delays_ms=None) -> list[str]:
    """Declare every exchange and queue; idempotent. Returns what was declared, for the log."""
    declared = []
    with connection.channel() as channel:
        for producer in sorted(producers_of(service_classes)):
            events_exchange(producer)(channel).declare()
            declared.append(f"exchange {producer}.events")
        dead_letter_exchange()(channel).declare()
        declared.append(f"exchange {DEAD_LETTER_EXCHANGE}")
        for queue in durable_queues(service_classes, delays_ms):
            queue(channel).declare()  # declares its exchange too, and binds
            declared.append(f"queue {queue.name}")
    return declared


# Consumers the platform no longer has. Their queues would stay bound to the producer's exchange
# and hold every event of their type for ever, with nobody to take them: the topology step
# deletes them and their parked queues (deleting one that is gone already is a no-op).
RETIRED_SUBSCRIPTIONS = tuple(
    # issue 13: webhooks scopes by org unit only and keeps no projection of members
    Subscription("webhooks", f"on_{event_type}", "members", event_type)
    for event_type in ("member_registered", "member_flowed_out", "member_flow_accepted",
                       "member_flow_refused", "member_moved", "member_returned",
                       "member_lost_contact", "member_found"))


def retire(connection: Connection, retired=RETIRED_SUBSCRIPTIONS) -> list[str]:
    deleted = []
    with connection.channel() as channel:
        for sub in retired:
            for name in (sub.queue_name, sub.parked_queue_name):
                channel.queue_delete(name)
                deleted.append(f"queue {name}")
    return deleted


def main(argv=None):
    import argparse

    from services import SERVICE_CLASSES

    from . import config
    from .quorum_migration import migrate
    parser = argparse.ArgumentParser(
        description="Declare every exchange and queue of the platform; classic queues of an "
                    "earlier version are first replaced by quorum queues, keeping their messages "
                    "(stop the services before; see services/plumbing/quorum_migration.py).")
    parser.add_argument("--amqp-uri", default=config.amqp_uri())
    args = parser.parse_args(argv)
    classes = [load_service_class(path) for path in SERVICE_CLASSES.values()]
    with Connection(args.amqp_uri) as connection:
        connection.ensure_connection(max_retries=10)
        for line in migrate(connection, classes):
            print("migrated", line)
        for line in declare(connection, classes):
            print("declared", line)
        for line in retire(connection):
            print("deleted", line)


if __name__ == "__main__":
    main()
