"""The HTTP endpoints of a service process's metrics port:

* `/metrics` — Prometheus;
* `/healthz` — liveness: 200 while every consumer loop (RPC and events) is connected and going
  round, 503 once one has not for `CONSUMER_STALE_SECONDS` (a process that lost its consumer
  fails its probe and is restarted by Kubernetes);
* `/readyz` — readiness: liveness and the service's database answering.
"""
import json
import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from sqlalchemy import text

from .container import consumer_health

log = logging.getLogger(__name__)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args):  # scrapes every few seconds would flood the log
        pass


def database_ok(container) -> bool:
    for dependency in container.dependencies:
        engine = getattr(dependency, "engine", None)
        if engine is not None:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception as exc:
                log.warning("readiness: database unavailable: %s", exc)
                return False
    return True


def probe_app(registry, container):
    metrics_app = make_wsgi_app(registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in ("/healthz", "/readyz"):
            return metrics_app(environ, start_response)
        consuming, details = consumer_health(container)
        ok = consuming
        if path == "/readyz":
            details["database"] = "ok" if database_ok(container) else "unavailable"
            ok = ok and details["database"] == "ok"
        details["status"] = "ok" if ok else "unavailable"
        body = json.dumps(details).encode()
        start_response("200 OK" if ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve(port: int, registry, container):
    """Serve the probes and metrics on `port` (0: a free one) in a background thread."""
    server = make_server("", port, probe_app(registry, container), _ThreadingServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
