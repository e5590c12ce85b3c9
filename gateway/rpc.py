"""Calling the services over RPC with a timeout, from a pool of standalone nameko proxies.

nameko's proxies have no timeout of their own worth trusting, and a standalone proxy is not
safe to share between concurrent requests: so each call borrows one proxy from a pool, and a
proxy that timed out or lost its connection is thrown away rather than reused (a late reply
would otherwise confuse the next caller).
"""
import logging
import threading
import time
import warnings

import eventlet
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy

from services.plumbing.errors import ServiceError

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """The service has no running consumer, or the broker cannot be reached: HTTP 503."""


class ServiceTimeout(Exception):
    """The service is running but did not answer in time: HTTP 504."""


# nameko asks for `mandatory` on every RPC request and warns, each time, that without confirms
# an unroutable one goes unnoticed: known and accepted (see `_ProxyPool.get`).
warnings.filterwarnings("ignore", message="Mandatory delivery was requested")


class UnconfirmedClusterProxy(ClusterProxy):
    """nameko's cluster proxy, its service proxies publishing without confirms."""

    def __getattr__(self, name):
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(self._worker_ctx, name, self._reply_listener,
                                               use_confirms=False)
        return self._proxies[name]


class _ProxyPool:
    """At most `size` proxies in use at once; idle ones are reused, broken ones dropped."""

    def __init__(self, amqp_uri: str, timeout: float, size: int):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(size)
        self._idle = []

    def get(self):
        self._slots.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            standalone = ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=self.timeout)
            # Requests go without publisher confirms: a round trip less per call. A request the
            # broker lost is a timeout (504, retried with the same Idempotency-Key), never a
            # false success; nameko needs confirms only to tell an undeclared service queue at
            # once, and the topology step declares every one before anything runs.
            standalone._proxy = UnconfirmedClusterProxy(standalone._worker_ctx,
                                                        standalone._reply_listener)
            return standalone, standalone.start()
        except BaseException:
            self._slots.release()
            raise

    def put(self, item):
        self._idle.append(item)
        self._slots.release()

    def discard(self, item):
        try:
            item[0].stop()
        except Exception:
            pass
        self._slots.release()


class ServiceClient:
    def __init__(self, amqp_uri: str, timeout: float = 10.0, size: int = 20, metrics=None):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.metrics = metrics
        self._pool = _ProxyPool(amqp_uri, timeout, size)

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
            item = self._pool.get()
        except Exception as exc:  # cannot even connect
            raise ServiceUnavailable(f"message broker unreachable: {exc}") from exc
        standalone, proxy = item
        healthy = False
        try:
            # Pooled proxies keep their context: set (or clear) both on every call. The trace id
            # travels as nameko's `request_id` (its header name on the wire).
            context = standalone._worker_ctx.data
            for name, value in (("request_id", trace_id), ("idempotency_key", idempotency_key)):
                if value is None:
                    context.pop(name, None)
                else:
                    context[name] = value
            with eventlet.Timeout(timeout or self.timeout, ServiceTimeoutSignal):
                result = getattr(getattr(proxy, service), method)(*args)
            healthy = True
            return result
        except ServiceError:
            healthy = True
            raise
        except UnknownService as exc:
            healthy = True
            raise ServiceUnavailable(f"{service} is not running") from exc
        except (RpcTimeout, ServiceTimeoutSignal) as exc:
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
                self._pool.put(item)
            else:
                self._pool.discard(item)

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
