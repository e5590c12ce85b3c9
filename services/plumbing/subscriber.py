"""`@subscribe(producer, event_type)`: the event entrypoint with bounded retry and parking.

Unlike nameko's `event_handler`, a failing handler never loses its event and never hot-loops:

* success: the delivery is acked;
* failure, attempts left: a copy goes to the retry queue of its delay, `retry.<ms>ms` with
  <ms> = base * 2**attempt seconds (header `x-attempt` counts), routing key = the consumer's
  queue, then the original is acked; when the queue's TTL runs out RabbitMQ dead-letters the copy
  back onto the consumer's queue;
* failure, no attempts left (or not an envelope at all): the delivery is rejected without
  requeue, and the queue's dead-letter exchange parks it in `<consumer>.parked`.

The handler method receives a `ReceivedEvent`. Handlers must be idempotent
(`record_first_delivery`), since a retried or replayed delivery may have had an effect.

`@subscribe(..., batched=True)` (issue 13) is for handlers that only write through `self.db`
and are cheap: deliveries that wait while one batch is handled are handled together by one
worker in one transaction (the handler's own `self.db.transaction()` joins it), then acked one
by one. A quiet queue still has each event handled alone at once; a busy one pays one BEGIN,
COMMIT and worker per batch instead of per event. If any handler of a batch fails, the batch
rolls back and its events are handled again one by one, each in its own transaction, so a
failing event is retried or parked alone, exactly as without batching. One batch of a queue is
handled at a time, in the order the deliveries came. At most EVENT_BATCH_SIZE events a batch
(default: the container's max_workers, which is also its prefetch per queue).
`@subscribe(..., together=True)` hands such a handler the batch as one list (and, in the one by
one retry, each event alone in a list), for handlers that write a batch with one statement.
"""
import functools
import logging
import threading

import eventlet
import eventlet.event
import eventlet.queue
from kombu import Connection
from nameko.events import SERVICE_POOL, EventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer
from prometheus_client.core import GaugeMetricFamily

from .batches import EventBatch
from .container import INFRASTRUCTURE_ERRORS
from .envelope import MalformedEnvelope, ReceivedEvent
from .metrics import metrics_of
from .outbox import EventPublisher
from .topology import Subscription, consumer_queue, retry_delay_ms, retry_exchange, retry_queue

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-attempt"


class Subscriber(EventHandler):
    def __init__(self, producer: str, event_type: str, batched: bool = False, **kwargs):
        super().__init__(producer, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)
        self.batched = batched

    def subscription_for(self, service_name: str, method_name: str) -> Subscription:
        return Subscription(service_name, method_name, self.source_service, self.event_type)

    def setup(self):
        self.subscription = self.subscription_for(self.container.service_name, self.method_name)
        self.queue = consumer_queue(self.subscription)
        config = self.container.config
        self.max_retries = int(config.get("EVENT_MAX_RETRIES", 5))
        self.retry_base = float(config.get("EVENT_RETRY_BASE_SECONDS", 1.0))
        self._publisher = EventPublisher(config["AMQP_URI"])
        self._publish_lock = threading.Lock()
        self._retry_queues_declared = set()
        self.batch_size = int(config.get("EVENT_BATCH_SIZE", self.container.max_workers))
        self._waiting = eventlet.queue.LightQueue()  # (event, message) for the batch loop
        Consumer.setup(self)  # nameko's EventHandler.setup would build its own queue

    def start(self):
        super().start()
        if self.batched:
            self.container.spawn_managed_thread(
                self._batches_forever, identifier=f"{self.subscription.consumer}.batches")

    def stop(self):
        super().stop()
        self._publisher.close()

    def handle_message(self, body, message):
        try:
            event = ReceivedEvent.from_envelope(body, self.subscription.consumer)
        except MalformedEnvelope as exc:
            log.error("parking a message that is not an event envelope on %s: %s",
                      self.subscription.queue_name, exc)
            self._park(message)
            return
        if self.batched:
            self._waiting.put((event, message))
            return
        context_data = self.unpack_message_headers(message)
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=context_data,
                handle_result=lambda worker_ctx, result, exc_info:
                    self._handle_result(message, result, exc_info))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    # -- batches -------------------------------------------------------------------------------
    def _batches_forever(self):
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self.batch_size and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            self._handle_batch(batch)

    def _handle_batch(self, deliveries: list) -> None:
        """One worker for the batch; returns once its deliveries are acked, retried or parked
        (or the worker ended without a result: they stay unacked and come back)."""
        contexts = [self.unpack_message_headers(message) for _event, message in deliveries]
        batch = EventBatch([(event, context.get("request_id"))
                            for (event, _message), context in zip(deliveries, contexts, strict=True)])
        finished = eventlet.event.Event()

        def handle_result(worker_ctx, result, exc_info):
            outcomes = result if exc_info is None else [exc_info] * len(deliveries)
            try:
                for (_event, message), outcome in zip(deliveries, outcomes, strict=True):
                    try:
                        self._handle_result(message, None, outcome)
                    except INFRASTRUCTURE_ERRORS as exc:
                        # Acked on a connection the broker dropped: the broker redelivers it.
                        # The batch's other deliveries are settled all the same.
                        log.warning("could not settle a delivery on %s: %s: %s",
                                    self.subscription.queue_name, type(exc).__name__, exc)
            finally:
                if not finished.ready():
                    finished.send()
            return result, exc_info

        try:
            worker_ctx = self.container.spawn_worker(self, (batch,), {}, context_data=contexts[0],
                                                     handle_result=handle_result)
        except ContainerBeingKilled:
            for _event, message in deliveries:
                self.queue_consumer.requeue_message(message)
            return
        thread = self.container._worker_threads.get(worker_ctx)
        if thread is not None:
            thread.link(lambda _gt: finished.ready() or finished.send())
        finished.wait()

    def _handle_result(self, message, result, exc_info):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        if attempt < self.max_retries:
            self._retry_later(message, attempt, exc_info[1])
        else:
            log.error("parking event after %d attempts on %s: %s", attempt + 1,
                      self.subscription.queue_name, exc_info[1])
            self._park(message)
        return result, exc_info

    def _declare_retry_queue(self, delay_ms: int) -> None:
        """The topology step declares the delays of the configured settings; a container run with
        others (tests, a changed setting) declares its own, once, with the same arguments."""
        if delay_ms in self._retry_queues_declared:
            return
        with Connection(self.container.config["AMQP_URI"], connect_timeout=5) as conn:
            retry_queue(delay_ms)(conn.default_channel).declare()
        self._retry_queues_declared.add(delay_ms)

    def _retry_later(self, message, attempt: int, error: BaseException):
        delay_ms = retry_delay_ms(self.retry_base, attempt)
        delay = delay_ms / 1000
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt + 1
        headers["x-last-error"] = f"{type(error).__name__}: {error}"[:500]
        # the broker's bookkeeping of the earlier round trips, not ours to carry on
        for broker_header in ("x-death", "x-delivery-count", "x-first-death-exchange",
                              "x-first-death-queue", "x-first-death-reason"):
            headers.pop(broker_header, None)
        try:
            with self._publish_lock:
                self._declare_retry_queue(delay_ms)
                self._publisher.publish_raw(
                    message.body, self.subscription.queue_name, headers,
                    message.content_type, message.content_encoding,
                    exchange=retry_exchange(delay_ms))
        except Exception:
            # Could not hand it to the retry queue: leave it unacked so the broker redelivers it
            # when this connection goes; requeue now if the connection is still alive.
            log.exception("could not schedule a retry; requeueing")
            self._publisher.close()
            self.queue_consumer.requeue_message(message)
            return
        log.warning("event handler failed (attempt %d of %d), retrying in %.1fs: %s",
                    attempt + 1, self.max_retries + 1, delay, error)
        metrics = metrics_of(self.container)
        if metrics:
            metrics.events_retried.labels(self.container.service_name,
                                          self.subscription.consumer).inc()
        self.queue_consumer.ack_message(message)

    def _park(self, message):
        if message.channel.connection:
            message.reject(requeue=False)
        metrics = metrics_of(self.container)
        if metrics:
            metrics.events_parked.labels(self.container.service_name,
                                         self.subscription.consumer).inc()

    @classmethod
    def collect_container_metrics(cls, container):
        """Depth of every parked queue of the container, read with passive declares on one
        connection at scrape time."""
        # One family for all of them: a second family of the same name would make the whole
        # scrape invalid ("second TYPE line") for Prometheus.
        family = GaugeMetricFamily("liudong_events_parked_messages",
                                   "Deliveries waiting in a dead-letter queue.",
                                   labels=["service", "consumer"])
        subscribers = [e for e in container.entrypoints if isinstance(e, cls)]
        with Connection(container.config["AMQP_URI"], connect_timeout=2) as conn:
            channel = conn.default_channel
            for subscriber in subscribers:
                _name, messages, _consumers = channel.queue_declare(
                    subscriber.subscription.parked_queue_name, passive=True)
                family.add_metric([container.service_name, subscriber.subscription.consumer],
                                  messages)
        yield family


def subscribe(producer: str, event_type: str, batched: bool = False, together: bool = False):
    """The event entrypoint (see the module's docstring); `batched` for cheap handlers that only
    write through `self.db`. `together` (batched too) for a handler that takes a list of
    events and writes them with one statement each kind: a batch's events in one call, and in
    the one-by-one retry each alone in a list of one."""
    def decorate(handler):
        @functools.wraps(handler)
        def entrypoint(self, event):
            if isinstance(event, EventBatch):
                return event.run(self, handler, together)
            return handler(self, [event] if together else event)
        return Subscriber.decorator(producer, event_type, batched=batched or together)(entrypoint)
    return decorate
