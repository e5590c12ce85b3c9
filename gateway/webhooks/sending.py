"""One HTTP POST of a delivery to its receiver (plain Python, no nameko).

The connection is opened through `AddressPolicy.checked_address`: the host name is resolved,
every address checked, and the socket connected to the checked address (TLS still verifies the
certificate against the host name). No proxy from the environment, no redirects followed, and
the receiver's answer body is never read: the log keeps the status code and a short reason of
ours, so the delivery log cannot be used to read what an internal address answers.
"""
import errno
import socket
import time
from dataclasses import dataclass

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import connection as urllib3_connection

from .addresses import AddressPolicy, RefusedAddress, default_port, split_url

USER_AGENT = "liudong-webhooks/1"


@dataclass(frozen=True)
class Outgoing:
    """What one attempt sends: the exact body signed, to the endpoint's URL."""
    delivery_id: str
    url: str
    body: bytes
    headers: dict


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    reason: str | None         # ours, never the receiver's words; None when delivered
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _CheckedConnection:
    """Mixed into urllib3's connections: connect only to an address the policy allows."""
    policy: AddressPolicy

    def _new_conn(self) -> socket.socket:
        address = self.policy.checked_address(self._dns_host, self.port)
        try:
            return urllib3_connection.create_connection(
                (address, self.port), self.timeout, source_address=self.source_address,
                socket_options=self.socket_options)
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, "connect timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"could not connect: {exc}") from exc


def _pool(policy: AddressPolicy, scheme: str, host: str, port: int, timeout: float):
    base_conn, base_pool = ((HTTPSConnection, HTTPSConnectionPool) if scheme == "https"
                            else (HTTPConnection, HTTPConnectionPool))
    conn_cls = type("CheckedConnection", (_CheckedConnection, base_conn), {"policy": policy})
    pool_cls = type("CheckedPool", (base_pool,), {"ConnectionCls": conn_cls})
    return pool_cls(host, port, timeout=Timeout(connect=timeout, read=timeout), maxsize=1,
                    retries=False, block=False)


def post(outgoing: Outgoing, policy: AddressPolicy, timeout: float) -> Outcome:
    started = time.perf_counter()
    status_code, reason = None, None
    try:
        parts = split_url(outgoing.url)
        scheme = parts.scheme.lower()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        pool = _pool(policy, scheme, parts.hostname, parts.port or default_port(scheme),
                     timeout)
        try:
            response = pool.urlopen("POST", path, body=outgoing.body,
                                    headers=dict(outgoing.headers, Connection="close"),
                                    redirect=False, retries=False, preload_content=False,
                                    assert_same_host=False)
            status_code = response.status
            response.close()             # unread: nothing of the answer is kept
            response.release_conn()
        finally:
            pool.close()
        if not 200 <= status_code < 300:
            reason = f"the receiver answered {status_code}"
    except RefusedAddress as exc:
        reason = str(exc)
    except NewConnectionError as exc:         # (a subclass of ConnectTimeoutError)
        refused = getattr(exc.__cause__, "errno", None) == errno.ECONNREFUSED
        reason = "connection refused" if refused else "could not connect"
    except (ConnectTimeoutError, ReadTimeoutError):
        reason = f"no answer within {timeout:g} s"
    except SSLError:
        reason = "TLS handshake or certificate check failed"
    except ProtocolError:
        reason = "the connection broke or the answer was not HTTP"
    except (HTTPError, OSError):
        reason = "the request failed"
    return Outcome(status_code, reason, int((time.perf_counter() - started) * 1000))
