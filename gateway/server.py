"""Run the gateway: `python -m gateway.server` (GATEWAY_PORT, default 8080)."""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402

import eventlet.event  # noqa: E402
import eventlet.wsgi  # noqa: E402
from prometheus_client import start_http_server  # noqa: E402

from services.plumbing import config, logs  # noqa: E402
from services.plumbing.heap import settle_heap  # noqa: E402

from .app import Gateway  # noqa: E402
from .errors import error_body  # noqa: E402
from .http_metrics import GatewayMetrics  # noqa: E402
from .keys import session_factory  # noqa: E402
from .rpc import ServiceClient  # noqa: E402

log = logging.getLogger("gateway")


# The longest request line (method, URL, version) served; eventlet reads no further.
MAX_REQUEST_LINE = eventlet.wsgi.MAX_REQUEST_LINE


class GatewayProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP protocol, except that a URL too long to read is refused with the API's
    JSON error (eventlet's own 414 has an empty body and no Content-Type), and replies leave
    without Nagle's delay."""

    def setup(self):
        super().setup()
        # A reply larger than eventlet's 16 KiB write buffer (a list page of fifty members)
        # leaves in two sends, its headers and then its body. With Nagle's algorithm the body
        # waited for the client's ACK of the headers, which clients delay by up to 40 ms: such
        # a page took 50 ms where one of twenty took 5 (issue 13).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not a TCP socket

    def _read_request_line(self):
        line = super()._read_request_line()
        if len(line) < self.server.url_length_limit:
            return line
        body = json.dumps(error_body("uri_too_long", f"the URL exceeds {MAX_REQUEST_LINE} bytes "
                                                     "(send long input in a JSON body)")).encode()
        self.wfile.write(b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
                         b"Content-Type: application/json; charset=utf-8\r\n"
                         b"X-Content-Type-Options: nosniff\r\n"
                         b"X-Request-Id: " + uuid.uuid4().hex.encode() + b"\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.close_connection = 1
        return ""  # nothing more to read: eventlet closes the connection


def serve(listener, gateway, max_size: int = 1000) -> None:
    """Serve the gateway on a listening socket until killed (the server and the tests)."""
    eventlet.wsgi.server(listener, gateway, log_output=False, max_size=max_size,
                         protocol=GatewayProtocol, url_length_limit=MAX_REQUEST_LINE)


def build_gateway(amqp_uri: str | None = None, database_url: str | None = None,
                  metrics: GatewayMetrics | None = None) -> Gateway:
    metrics = metrics or GatewayMetrics()
    client = ServiceClient(amqp_uri or config.amqp_uri(),
                           timeout=config.env_float("GATEWAY_RPC_TIMEOUT_SECONDS", 10.0),
                           size=config.env_int("GATEWAY_RPC_POOL_SIZE", 50), metrics=metrics)
    return Gateway(client, session_factory(database_url), metrics,
                   max_body_bytes=config.env_int("GATEWAY_MAX_BODY_BYTES", 1024 * 1024),
                   max_upload_bytes=config.env_int("GATEWAY_MAX_UPLOAD_BYTES", 32 * 1024 * 1024))


def main():
    logs.configure("gateway")
    gateway = build_gateway()
    metrics_port = config.metrics_port("gateway")
    if metrics_port is not None:
        start_http_server(metrics_port, registry=gateway.metrics.registry)
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    port = config.env_int("GATEWAY_PORT", 8080)
    listener = eventlet.listen((host, port))
    settle_heap()
    server = eventlet.spawn(serve, listener, gateway)
    stop = eventlet.event.Event()

    def on_signal(signum, _frame):
        if not stop.ready():
            stop.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("gateway on http://%s:%s/api/v1 (metrics on :%s)", host, port, metrics_port)
    log.info("gateway stopping on signal %s", stop.wait())
    server.kill()
    listener.close()
    log.info("gateway stopped")


if __name__ == "__main__":
    main()
