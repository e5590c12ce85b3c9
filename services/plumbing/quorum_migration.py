"""Moves an installation whose queues are classic (before issue 16) onto quorum queues, losing no
waiting message. The topology step runs it before declaring, so upgrading is:

    1. stop the services and the gateway (scale them to 0): nothing may consume while a queue
       is replaced — a message a consumer holds unacked when its queue is deleted is gone;
    2. python -m services.plumbing.topology   (the k8s setup Job, `make run`, `make cluster`)
    3. start the new version.

A queue cannot change its type in place, so each classic queue Q of the platform is replaced:

    a. a quorum holding queue `Q.migrating` takes Q's binding, then Q loses it: whatever is
       published meanwhile waits in the holding queue, nothing is unroutable;
    b. Q's messages are moved (published to the holding queue with confirms, then acked);
    c. Q is deleted and declared again as quorum with its binding;
    d. the holding queue loses its binding and its messages are moved to Q; it is deleted.

The per-consumer retry queues of the classic topology (`<consumer>.retry`, per-message TTL) are
emptied into their consumer's queue (the remaining backoff is not waited out; the attempt count
travels in the message) and deleted. A run that stopped half-way is resumed by running it again:
a holding queue left behind is emptied into its queue. A crash between a confirmed publish and
its ack can leave one message twice, which the handlers' idempotency records make harmless.
"""
import logging

import amqp
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Queue

from .topology import QUORUM, all_subscriptions, durable_queues

log = logging.getLogger(__name__)

HOLDING_SUFFIX = ".migrating"


class ConsumersAttached(Exception):
    """A queue to replace still has consumers: the services must be stopped first."""


def legacy_retry_queue_name(consumer: str) -> str:
    return f"{consumer}.retry"


def migrate(connection: Connection, service_classes, delays_ms=None) -> list[str]:
    """Makes every durable queue of the platform quorum, moving waiting messages; idempotent.
    Returns what it did, for the log (empty when there was nothing to migrate)."""
    done = []
    # First, while the consumer queues they dead-letter into still exist: a retry expiring
    # while its consumer queue is being replaced would be dropped (classic dead-lettering).
    for sub in all_subscriptions(service_classes):
        legacy = legacy_retry_queue_name(sub.consumer)
        if _exists(connection, legacy):
            moved = _move(connection, legacy, sub.queue_name)
            _delete(connection, legacy)
            done.append(f"queue {legacy}: {moved} waiting retr(ies) moved to {sub.queue_name}, "
                        f"queue deleted")
    for queue in durable_queues(service_classes, delays_ms):
        moved = _replace_if_classic(connection, queue)
        if moved is not None:
            done.append(f"queue {queue.name}: classic -> quorum, {moved} message(s) kept")
        kept = _empty_holding_queue(connection, queue)
        if kept:
            done.append(f"queue {queue.name}: {kept} message(s) from an interrupted migration")
    return done


def queue_type_ok(connection: Connection, queue: Queue) -> bool:
    """Declares `queue` as the topology wants it; False when a queue of that name exists with
    other arguments (a classic queue of the old topology)."""
    channel = connection.channel()
    try:
        queue(channel).declare()
        return True
    except PreconditionFailed:
        return False
    finally:
        _close(channel)


def _replace_if_classic(connection: Connection, queue: Queue) -> int | None:
    if queue_type_ok(connection, queue):
        return None
    holding = _holding_queue(queue)
    channel = connection.channel()
    try:
        _name, _messages, consumers = channel.queue_declare(queue.name, passive=True)
        if consumers:
            raise ConsumersAttached(f"{queue.name} has {consumers} consumer(s): stop the services "
                                    f"before migrating to quorum queues")
        holding(channel).declare()  # quorum, and bound as `queue` is
        if queue.exchange is not None and queue.exchange.name:
            channel.queue_unbind(queue.name, queue.exchange.name, queue.routing_key)
    finally:
        _close(channel)
    moved = _move(connection, queue.name, holding.name)
    _delete(connection, queue.name)
    log.warning("queue %s replaced by a quorum queue (%d message(s) moved)", queue.name, moved)
    if not queue_type_ok(connection, queue):
        raise RuntimeError(f"{queue.name} could not be declared as a quorum queue")
    return moved


def _empty_holding_queue(connection: Connection, queue: Queue) -> int:
    holding = _holding_queue(queue)
    if not _exists(connection, holding.name):
        return 0
    channel = connection.channel()
    try:
        if queue.exchange is not None and queue.exchange.name:
            channel.queue_unbind(holding.name, queue.exchange.name, queue.routing_key)
    finally:
        _close(channel)
    moved = _move(connection, holding.name, queue.name)
    # quorum queues refuse if-empty deletes; unbound and drained, nothing can reach it by now
    _delete(connection, holding.name, if_empty=False)
    return moved


def _holding_queue(queue: Queue) -> Queue:
    return Queue(queue.name + HOLDING_SUFFIX, exchange=queue.exchange,
                 routing_key=queue.routing_key, durable=True, auto_delete=False,
                 queue_arguments=QUORUM)


def _move(connection: Connection, source: str, target: str) -> int:
    """Every message of `source` to `target`, each published with a confirm before it is acked,
    with its body and its properties (RPC requests keep reply_to and correlation_id) but not a
    per-message TTL: a retry of the classic topology must not expire in its consumer's queue."""
    channel = connection.channel()
    returned = []
    channel.events["basic_return"].add(lambda *args: returned.append(args))
    moved = 0
    try:
        while True:
            message = channel.basic_get(source, no_ack=False)
            if message is None:
                return moved
            properties = {k: v for k, v in message.properties.items() if k != "expiration"}
            channel.basic_publish_confirm(amqp.Message(message.body, **properties), exchange="",
                                          routing_key=target, mandatory=True)
            if returned:  # not acked: it stays in `source`
                raise RuntimeError(f"cannot move messages from {source}: no queue {target}")
            channel.basic_ack(message.delivery_tag)
            moved += 1
    finally:
        _close(channel)


def _exists(connection: Connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
        return True
    except NotFound:
        return False
    finally:
        _close(channel)


def _delete(connection: Connection, name: str, if_empty: bool = True) -> None:
    channel = connection.channel()
    try:
        channel.queue_delete(name, if_empty=if_empty)
    finally:
        _close(channel)


def _close(channel) -> None:
    try:
        channel.close()
    except Exception:  # already closed by the broker's refusal
        pass
