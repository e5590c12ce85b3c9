"""Names and declaration of every exchange and queue, so that they exist before anyone publishes.

Per producer service: a durable topic exchange `<producer>.events`, routing key = event type.
Per consumer (one handler method of one service), three durable queues:

    <service>.<method>           bound to <producer>.events with the event type; dead-letters
                                 into the `dead-letters` exchange with its own name as key
    <service>.<method>.retry     holds a failed delivery for its backoff delay (per-message
                                 TTL), then dead-letters it back to the main queue
    <service>.<method>.parked    bound to `dead-letters`: deliveries that exhausted their retries

The same `consumer_queue_arguments` are used by the deploy step and by the consumers, so a
consumer never re-declares a queue with different arguments.
"""
import importlib
import logging
from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "dead-letters"


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
    def retry_queue_name(self) -> str:
        return f"{self.consumer}.retry"

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
                 queue_arguments={"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                                  "x-dead-letter-routing-key": sub.queue_name})


def retry_queue(sub: Subscription) -> Queue:
    # No binding: the consumer publishes into it through the default exchange. On expiry a message
    # goes back through the default exchange ("") to the main queue.
    return Queue(sub.retry_queue_name, durable=True, auto_delete=False,
                 queue_arguments={"x-dead-letter-exchange": "",
                                  "x-dead-letter-routing-key": sub.queue_name})


def parked_queue(sub: Subscription) -> Queue:
    return Queue(sub.parked_queue_name, exchange=dead_letter_exchange(),
                 routing_key=sub.queue_name, durable=True, auto_delete=False)


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


def declare(connection: Connection, service_classes) -> list[str]:
    """Declare every exchange and queue; idempotent. Returns what was declared, for the log."""
    declared = []
    with connection.channel() as channel:
        for producer in sorted(producers_of(service_classes)):
            events_exchange(producer)(channel).declare()
            declared.append(f"exchange {producer}.events")
        dead_letter_exchange()(channel).declare()
        declared.append(f"exchange {DEAD_LETTER_EXCHANGE}")
        for sub in all_subscriptions(service_classes):
            for queue in (consumer_queue(sub), retry_queue(sub), parked_queue(sub)):
                queue(channel).declare()
                declared.append(f"queue {queue.name}")
    return declared


def main(argv=None):
    import argparse

    from services import SERVICE_CLASSES

    from . import config
    parser = argparse.ArgumentParser(description="Declare every exchange and queue of the platform.")
    parser.add_argument("--amqp-uri", default=config.amqp_uri())
    args = parser.parse_args(argv)
    classes = [load_service_class(path) for path in SERVICE_CLASSES.values()]
    with Connection(args.amqp_uri) as connection:
        connection.ensure_connection(max_retries=10)
        for line in declare(connection, classes):
            print("declared", line)


if __name__ == "__main__":
    main()
