"""Run the gateway: `python -m gateway.server` (GATEWAY_PORT, default 8080)."""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

import eventlet.event  # noqa: E402
import eventlet.wsgi  # noqa: E402
from prometheus_client import start_http_server  # noqa: E402

from services.plumbing import config, logs  # noqa: E402
import services.plumbing.rpc  # noqa: E402,F401  (registers error types for RPC replies)

from .app import Gateway  # noqa: E402
from .http_metrics import GatewayMetrics  # noqa: E402
from .keys import session_factory  # noqa: E402
from .rpc import ServiceClient  # noqa: E402

log = logging.getLogger("gateway")


def build_gateway(amqp_uri: str | None = None, database_url: str | None = None,
                  metrics: GatewayMetrics | None = None) -> Gateway:
    metrics = metrics or GatewayMetrics()
    client = ServiceClient(amqp_uri or config.amqp_uri(),
                           timeout=config.env_float("GATEWAY_RPC_TIMEOUT_SECONDS", 10.0),
                           size=config.env_int("GATEWAY_RPC_POOL_SIZE", 50), metrics=metrics)
    return Gateway(client, session_factory(database_url), metrics,
                   max_body_bytes=config.env_int("GATEWAY_MAX_BODY_BYTES", 1024 * 1024))


def main():
    logs.configure("gateway")
    gateway = build_gateway()
    metrics_port = config.metrics_port("gateway")
    if metrics_port is not None:
        start_http_server(metrics_port, registry=gateway.metrics.registry)
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    port = config.env_int("GATEWAY_PORT", 8080)
    listener = eventlet.listen((host, port))
    server = eventlet.spawn(eventlet.wsgi.server, listener, gateway, log_output=False,
                            max_size=1000)
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
