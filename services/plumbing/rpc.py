"""What crosses the RPC boundary besides payloads: the caller, and error types.

The gateway passes a `caller` dict as the first argument of every call:
    {"key_id": ..., "org_id": ... or None, "role": "office"|"desk_staff"|"ops"|"admin"}
The tenant is always the caller's `org_id` (from its API key), never something from a body.
An `org_id` of None means platform-wide (admin and ops keys that belong to no org unit).
"""
import functools
import logging

from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import deserialize_to_instance
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .caller import Caller  # noqa: F401  (re-exported for entrypoints)
from .errors import ALL_ERRORS, Unavailable
from .idempotency import request_fingerprint, run_once
from .topology import rpc_queue

log = logging.getLogger(__name__)

for _error in ALL_ERRORS:
    deserialize_to_instance(_error)


class UnconfirmedReplyPublisher(Publisher):
    use_confirms = False


class UnconfirmedResponder(Responder):
    """nameko's responder, sending the reply without waiting for a publisher confirm (issue 13:
    the wait was a broker round trip per call). A confirm would promise little: replies go to
    the caller's exclusive, non-durable reply queue, which a broker restart loses anyway. A
    reply lost on the way is the caller's timeout (a 504 at the gateway, retried with the same
    Idempotency-Key, which gets the first reply back), as it was with confirms."""

    publisher_cls = UnconfirmedReplyPublisher


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
