"""The service container every process runs (`SERVICE_CONTAINER_CLS`): nameko's, made to survive
the broker, the database and the network going away, and able to say whether it consumes.

nameko kills a container when an exception escapes any of its threads. Some of those
exceptions are expected whenever RabbitMQ or PostgreSQL blinks: acking a delivery or publishing
an RPC reply on a connection the broker dropped raises `ConnectionResetError`, rejecting a
delivery raises on a closed channel. None of them may stop the process:

* an ack that fails leaves the delivery unacked; the broker redelivers it after the consumer
  reconnects and the handler's processed-event record makes the second run harmless;
* an RPC reply that cannot be sent leaves the request unacked; it is redelivered (or expires
  with the 30 s RPC policy) and a retry carrying the same Idempotency-Key gets the first reply.

So a worker thread, or the thread that hands one delivery to a worker, that ends with such an
error is logged and counted, and the container goes on. kombu's consumer loop reconnects by
itself with backoff; `consumer_ages` tells how long ago each consumer loop last went round, which
is what the liveness probe reads: a consumer that is not connected, or whose loop is stuck, is
down.
"""
import logging
import time

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.containers import ServiceContainer
from nameko.messaging import QueueConsumer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

# Errors of the infrastructure, not of our code: a dropped connection, a closed channel, a
# database that restarts. (OSError covers ConnectionResetError, BrokenPipeError, timeouts.)
INFRASTRUCTURE_ERRORS = (OSError, AMQPError, KombuError, DBAPIError, PoolTimeout)

# A consumer loop goes round at least once a second while connected (kombu drains with a 1 s
# timeout); one that has not for this long has lost its broker connection.
CONSUMER_STALE_SECONDS = 5.0


class ResilientServiceContainer(ServiceContainer):
    """Survives infrastructure errors in the threads that handle one message."""

    def __init__(self, service_cls, config):
        super().__init__(service_cls, config)
        self.survived_errors = 0
        for consumer in self.queue_consumers():
            _stamp_iterations(consumer)

    def queue_consumers(self) -> list[QueueConsumer]:
        return [ext for ext in self.subextensions if isinstance(ext, QueueConsumer)]

    def consumer_ages(self) -> dict[str, float]:
        """Seconds since each consumer loop (RPC, events) last went round while connected; inf
        for one that is not connected (yet, or any more)."""
        now = time.monotonic()
        return {f"consumer@{id(consumer):x}":
                now - consumer.liudong_last_iteration if consumer.liudong_connected
                else float("inf")
                for consumer in self.queue_consumers()}

    def consuming(self) -> bool:
        ages = self.consumer_ages()
        return bool(ages) and all(age <= CONSUMER_STALE_SECONDS for age in ages.values())

    def _handle_worker_thread_exited(self, gt, worker_ctx):
        self._worker_threads.pop(worker_ctx, None)
        self._survive_or_die(gt, f"worker {worker_ctx.entrypoint.method_name}")

    def _handle_managed_thread_exited(self, gt, identifier):
        self._managed_threads.pop(gt, None)
        if "handle_message" in str(identifier):  # one delivery, handed to an entrypoint
            self._survive_or_die(gt, identifier)
        else:  # a loop (consumer, relay, timer): if it ends, the container must go
            self._handle_thread_exited(gt)

    def _survive_or_die(self, gt, what):
        try:
            gt.wait()
        except INFRASTRUCTURE_ERRORS as exc:
            self.survived_errors += 1
            log.warning("%s ended with %s: %s; the message will be redelivered when the "
                        "connection is back (the container goes on)",
                        what, type(exc).__name__, exc)
            return
        except BaseException:
            pass  # nameko's own handling below (it waits on the thread again)
        else:
            return
        self._handle_thread_exited(gt)


def _stamp_iterations(consumer: QueueConsumer) -> None:
    """Record the time of every turn of the consumer's loop (kombu calls `on_iteration`), and
    whether it is connected: kombu calls `on_connection_error` for every failed (re)connect and
    `on_consume_ready` once consuming again."""
    if getattr(consumer, "liudong_stamped", False):
        return  # a shared extension: one instance, maybe seen twice
    iteration, connection_error, consume_ready = (
        consumer.on_iteration, consumer.on_connection_error, consumer.on_consume_ready)

    def on_iteration():
        consumer.liudong_last_iteration = time.monotonic()
        return iteration()

    def on_connection_error(exc, interval):
        consumer.liudong_connected = False
        return connection_error(exc, interval)

    def on_consume_ready(connection, channel, consumers, **kwargs):
        consumer.liudong_connected = True
        consumer.liudong_last_iteration = time.monotonic()
        return consume_ready(connection, channel, consumers, **kwargs)

    consumer.on_iteration = on_iteration
    consumer.on_connection_error = on_connection_error
    consumer.on_consume_ready = on_consume_ready
    consumer.liudong_connected = False
    consumer.liudong_stamped = True


def consumer_health(container) -> tuple[bool, dict]:
    """(consuming, details) for any container (a plain nameko one reports no consumer ages)."""
    if not isinstance(container, ResilientServiceContainer):
        return True, {}
    ages = container.consumer_ages()
    return container.consuming(), {
        "consumers": {name: (round(age, 1) if age != float("inf") else None)
                      for name, age in ages.items()},
        "survived_errors": container.survived_errors}
