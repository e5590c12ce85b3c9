"""What crosses the RPC boundary besides payloads: the caller, and error types.

The gateway passes a `caller` dict as the first argument of every call:
    {"key_id": ..., "org_id": ... or None, "role": "office"|"desk_staff"|"ops"|"admin"}
The tenant is always the caller's `org_id` (from its API key), never something from a body.
An `org_id` of None means platform-wide (admin and ops keys that belong to no org unit).
"""
import functools
import logging
import sys
import threading

import kombu.serialization
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import UnserializableValueError, deserialize_to_instance, serialize
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .broker import open_channel, release_quietly
from .caller import Caller  # noqa: F401  (re-exported for entrypoints)
from .container import INFRASTRUCTURE_ERRORS
from .errors import ALL_ERRORS, Unavailable
from .idempotency import request_fingerprint, run_once
from .topology import rpc_queue

log = logging.getLogger(__name__)

for _error in ALL_ERRORS:
    deserialize_to_instance(_error)


class ReplyChannel:
    """The RPC replies of one process, on one broker connection and channel of their own,
    without publisher confirms (issue 13). nameko's Publisher took a pooled connection and a
    producer, and published through kombu's retry machinery, for every reply: ~150 µs of CPU
    where this takes ~60. A confirm would promise little: a reply goes to its caller's
    exclusive, non-durable reply queue, which a broker restart loses anyway; a reply lost on the
    way is the caller's timeout (a 504 at the gateway, retried with the same Idempotency-Key,
    which gets the first reply back). A connection that fails is replaced and the reply sent
    once more; if that fails too the error reaches the container, which survives it (the
    request stays unacked and is redelivered)."""

    def __init__(self, amqp_uri: str, ssl=None, login_method=None):
        self.amqp_uri, self.ssl, self.login_method = amqp_uri, ssl, login_method
        # A green lock under eventlet: the frames of one reply go out before the next reply's.
        self._lock = threading.Lock()
        self._connection = self._channel = None

    def publish(self, body, content_type: str, encoding: str, exchange: str, routing_key: str,
                correlation_id: str | None) -> None:
        with self._lock:
            for attempt in (1, 2):
                try:
                    channel = self._ensure()
                    message = channel.prepare_message(body, None, content_type, encoding, {},
                                                      {"correlation_id": correlation_id})
                    channel._basic_publish(message, exchange=exchange, routing_key=routing_key)
                    return
                except INFRASTRUCTURE_ERRORS:
                    self.close()
                    if attempt == 2:
                        raise

    def _ensure(self):
        if self._channel is None:
            self._connection, self._channel = open_channel(self.amqp_uri, self.ssl,
                                                           self.login_method)
        return self._channel

    def close(self) -> None:
        release_quietly(self._connection)
        self._connection = self._channel = None


_reply_channels: dict[tuple, ReplyChannel] = {}


def reply_channel(amqp_uri: str, ssl=None, login_method=None) -> ReplyChannel:
    key = (amqp_uri, repr(ssl), login_method)
    if key not in _reply_channels:
        _reply_channels[key] = ReplyChannel(amqp_uri, ssl, login_method)
    return _reply_channels[key]


class UnconfirmedResponder(Responder):
    """nameko's responder, its reply encoded once and sent on the process's ReplyChannel."""

    def send_response(self, result, exc_info):
        error = None if exc_info is None else serialize(exc_info[1])
        # encoded as the request was (nameko's rule)
        serializer = kombu.serialization.registry.type_to_name[
            self.message.properties["content_type"]]
        try:
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": result, "error": error}, serializer)
        except Exception:
            # nameko's disaster avoidance: a result that cannot be encoded is the caller's error
            # (UnserializableValueError), never a container that dies on it
            exc_info = sys.exc_info()
            error, result = serialize(UnserializableValueError(result)), None
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": None, "error": error}, serializer)
        reply_channel(self.amqp_uri, self.ssl, self.login_method).publish(
            body, content_type, encoding, getattr(self.exchange, "name", self.exchange),
            self.message.properties["reply_to"], self.message.properties.get("correlation_id"))
        return result, exc_info


class QuorumRpcConsumer(RpcConsumer):
    """nameko's RPC consumer on the quorum request queue the topology step declares (nameko's
    own would re-declare it as classic, which the broker refuses); replies go unconfirmed."""

    def handle_result(self, message, result, exc_info):
        # nameko's RpcConsumer.handle_result with our responder
        config = self.container.config
        responder = UnconfirmedResponder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def setup(self):
        if self.queue is None:
            self.queue = rpc_queue(self.container.service_name)
            self.queue_consumer.register_provider(self)
            self._registered = True


class QuorumRpc(Rpc):
    rpc_consumer = QuorumRpcConsumer()


def rpc(fn):
    """nameko's @rpc, with our error types declared expected (a caller's mistake is logged as a
    rejection, not as a failure with a traceback), and two promises kept for every entrypoint:

    * a call that carries an Idempotency-Key (nameko context `idempotency_key`, set by the
      gateway) runs once per caller and key; a retry gets the first reply;
    * a database that is away (restarting, unreachable, pool exhausted) is a 503 the client may
      retry, never a 500 — the transaction has rolled back, nothing was written.
    """
    @functools.wraps(fn)
    def entrypoint(self, *args, **kwargs):
        try:
            unit = getattr(self, "db", None)
            key = getattr(unit, "idempotency_key", None)
            if not key:
                return fn(self, *args, **kwargs)
            caller = args[0] if args and isinstance(args[0], dict) else {}
            scope = f"{caller.get('key_id', '')}"[:120]
            return run_once(unit, scope, key, request_fingerprint(fn.__name__, args[1:], kwargs),
                            lambda: fn(self, *args, **kwargs))
        except (DBAPIError, PoolTimeout) as exc:
            if isinstance(exc, DBAPIError) and not (exc.connection_invalidated
                                                   or _is_operational(exc)):
                raise
            log.warning("database unavailable in %s: %s", fn.__name__, exc)
            raise Unavailable("the service's database is unavailable; retry shortly") from None

    return QuorumRpc.decorator(expected_exceptions=ALL_ERRORS)(entrypoint)


def _is_operational(exc: DBAPIError) -> bool:
    """A connection-level failure (server gone, restarting, refusing): not a bad statement."""
    return isinstance(exc, (OperationalError, InterfaceError))
