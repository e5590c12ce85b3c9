"""Calling the services over RPC with a timeout, on a pool of broker connections of our own.

Each call borrows one `_Caller` (a connection, a channel and a reply queue), publishes the
request straight on its channel and waits for the reply with the request's correlation id. A
caller that timed out or lost its connection is thrown away rather than reused (its channel may
be half-way through a frame). The wire format is nameko's: services answer through their
`rpc` entrypoints as they would to a nameko proxy.

Why not nameko's standalone proxy (issue 13): for every call it took a pooled producer and
published through kombu's retry machinery, and it acked every reply; a request and its reply
cost the gateway ~0.45 ms of CPU, most of it there. Requests go without publisher confirms (a
request the broker lost is a timeout: 504, retried with the same Idempotency-Key, never a false
success) but `mandatory`: a request no queue takes comes back at once (503, not a timeout).
Replies are consumed without acks: the reply queue is exclusive to this connection and dies
with it, so an ack promised nothing.
"""
import threading
import time
import uuid

import eventlet
from kombu import Connection
from kombu.utils.json import dumps, loads
from nameko.exceptions import deserialize

import services.plumbing.rpc  # noqa: F401  (registers the services' error types for deserialize)
from services.plumbing.broker import open_channel, release_quietly
from services.plumbing.errors import ServiceError

RPC_EXCHANGE = "nameko-rpc"   # nameko's default, where the services' RPC queues are bound


class ServiceUnavailable(Exception):
    """The service has no running consumer, or the broker cannot be reached: HTTP 503."""


class ServiceTimeout(Exception):
    """The service is running but did not answer in time: HTTP 504."""


class Unroutable(Exception):
    """The broker returned the request: no queue is bound for the service's method."""


class _Caller:
    """One broker connection with a reply queue of its own; one call at a time."""

    def __init__(self, amqp_uri: str):
        self.connection, self.channel = open_channel(amqp_uri)
        try:
            self.reply_to = uuid.uuid4().hex
            queue = f"rpc.reply-gateway-{self.reply_to}"
            self.channel.exchange_declare(RPC_EXCHANGE, "topic", durable=True, auto_delete=False)
            self.channel.queue_declare(queue, exclusive=True, auto_delete=True)
            self.channel.queue_bind(queue, RPC_EXCHANGE, routing_key=self.reply_to)
            self.channel.events["basic_return"].add(self._on_return)
            self.channel.basic_consume(queue, no_ack=True, callback=self._on_reply)
        except BaseException:
            self.close()
            raise
        self._waiting_for = None
        self._reply = self._returned = None

    def call(self, service: str, method: str, args, headers: dict):
        """The service's result; raises its error (deserialized as nameko does), `Unroutable`,
        or what the connection raises."""
        self._waiting_for = uuid.uuid4().hex
        self._reply = self._returned = None
        message = self.channel.prepare_message(
            dumps({"args": args, "kwargs": {}}), None, "application/json", "utf-8", headers,
            {"delivery_mode": 2, "reply_to": self.reply_to, "correlation_id": self._waiting_for})
        self.channel._basic_publish(message, exchange=RPC_EXCHANGE,
                                    routing_key=f"{service}.{method}", mandatory=True)
        while self._reply is None and self._returned is None:
            self.connection.drain_events()
        if self._returned is not None:
            raise Unroutable(f"no queue takes {service}.{method}")
        answer = self._reply
        if answer.get("error"):
            raise deserialize(answer["error"])
        return answer["result"]

    def _on_reply(self, message):
        if message.properties.get("correlation_id") != self._waiting_for:
            return   # a duplicate reply to an earlier call (a redelivered request)
        body = message.body
        if isinstance(body, bytes):
            body = body.decode(message.properties.get("content_encoding") or "utf-8")
        self._reply = loads(body)

    def _on_return(self, exc, exchange, routing_key, message):
        if message.properties.get("correlation_id") == self._waiting_for:
            self._returned = routing_key

    def close(self) -> None:
        release_quietly(self.connection)


class _CallerPool:
    """At most `size` callers in use at once; idle ones are reused, broken ones dropped."""

    def __init__(self, amqp_uri: str, size: int):
        self.amqp_uri = amqp_uri
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Caller] = []

    def get(self) -> _Caller:
        self._slots.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            return _Caller(self.amqp_uri)
        except BaseException:
            self._slots.release()
            raise

    def put(self, caller: _Caller) -> None:
        self._idle.append(caller)
        self._slots.release()

    def discard(self, caller: _Caller) -> None:
        caller.close()
        self._slots.release()


class ServiceClient:
    def __init__(self, amqp_uri: str, timeout: float = 10.0, size: int = 20, metrics=None):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.metrics = metrics
        self._pool = _CallerPool(amqp_uri, size)

    def call(self, service: str, method: str, *args, trace_id: str | None = None, timeout=None,
             idempotency_key: str | None = None):
        """Call `service.method(*args)`; raises ServiceError (the service's own answer),
        ServiceUnavailable or ServiceTimeout. `trace_id` and `idempotency_key` travel in the
        call's context (nameko headers), where the service's logs and `rpc` entrypoints look."""
        started = time.perf_counter()
        outcome = "error"
        try:
            result = self._call(service, method, args, trace_id, timeout, idempotency_key)
            outcome = "success"
            return result
        except ServiceError:
            outcome = "rejected"
            raise
        except ServiceTimeout:
            outcome = "timeout"
            raise
        except ServiceUnavailable:
            outcome = "unavailable"
            raise
        finally:
            if self.metrics is not None:
                self.metrics.rpc_call(service, method, outcome, time.perf_counter() - started)

    def _call(self, service, method, args, trace_id, timeout, idempotency_key=None):
        try:
            caller = self._pool.get()
        except Exception as exc:  # cannot even connect
            raise ServiceUnavailable(f"message broker unreachable: {exc}") from exc
        healthy = False
        # The trace id travels as nameko's `request_id` (its header name on the wire).
        headers = {}
        if trace_id is not None:
            headers["nameko.request_id"] = trace_id
        if idempotency_key is not None:
            headers["nameko.idempotency_key"] = idempotency_key
        try:
            with eventlet.Timeout(timeout or self.timeout, ServiceTimeoutSignal):
                result = caller.call(service, method, list(args), headers)
            healthy = True
            return result
        except ServiceError:
            healthy = True
            raise
        except Unroutable as exc:
            healthy = True
            raise ServiceUnavailable(f"{service} is not running") from exc
        except ServiceTimeoutSignal as exc:
            if not self.consumers_of(service):  # 0, or the broker cannot even say (outage)
                raise ServiceUnavailable(f"{service} is not running") from exc
            raise ServiceTimeout(f"{service} did not answer within {timeout or self.timeout}s") from exc
        except (OSError, ConnectionError) as exc:
            raise ServiceUnavailable(f"message broker unreachable: {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("amqp", "kombu")):
                raise ServiceUnavailable(f"message broker error: {exc}") from exc
            raise
        finally:
            if healthy:
                self._pool.put(caller)
            else:
                self._pool.discard(caller)

    def consumers_of(self, service: str) -> int | None:
        """Consumers on the service's RPC queue (None when the broker cannot tell)."""
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as conn:
                _name, _messages, consumers = conn.default_channel.queue_declare(
                    f"rpc-{service}", passive=True)
                return consumers
        except Exception:
            return None

    def broker_ok(self) -> bool:
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            return True
        except Exception:
            return False


class ServiceTimeoutSignal(Exception):
    """Raised by eventlet.Timeout inside a call (kept apart from the public ServiceTimeout)."""
