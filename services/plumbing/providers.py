"""nameko dependency providers: the service database (with its outbox relay) and the log context."""
import logging
import threading
import weakref

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData
from sqlalchemy.orm import sessionmaker

from . import logs
from .batches import outcomes
from .db import UnitOfWork, make_engine
from .metrics import gauge
from .outbox import EventPublisher, OutboxRelay, run_relay_loop
from .tables import PlumbingTables
from .topology import platform_subscribed_events

log = logging.getLogger(__name__)
# The trace id in a worker's nameko context: named `request_id` there and on the wire (the
# gateway's calls and the outbox's event headers, `nameko.request_id`).
TRACE_ID = "request_id"


class Database(DependencyProvider):
    """`self.db` in a service: a UnitOfWork on the service's own database. Also runs the outbox
    relay of this process in a managed thread."""

    def __init__(self, metadata: MetaData, tables: PlumbingTables):
        self.metadata = metadata
        self.tables = tables

    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(self.engine, self.tables, EventPublisher(config["AMQP_URI"]),
                                 subscribed=platform_subscribed_events())
        self.poll_seconds = float(config.get("OUTBOX_POLL_SECONDS", 0.5))
        self.linger_seconds = float(config.get("OUTBOX_LINGER_SECONDS", 0.0))
        self._wake = threading.Event()
        self._stopping = False
        self._units = weakref.WeakKeyDictionary()

    def start(self):
        self.container.spawn_managed_thread(self._relay_forever, identifier="outbox_relay")

    def _relay_forever(self):
        run_relay_loop(self.relay, self._wake, self.poll_seconds, lambda: self._stopping,
                       self.linger_seconds)

    def stop(self):
        self._stopping = True
        self._wake.set()
        self.relay.publisher.close()
        self.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        unit = UnitOfWork(self.session_factory, self.tables,
                          trace_id=worker_ctx.data.get(TRACE_ID),
                          on_events_committed=self._wake.set,
                          idempotency_key=worker_ctx.data.get("idempotency_key"))
        self._units[worker_ctx] = unit
        return unit

    def worker_teardown(self, worker_ctx):
        unit = self._units.pop(worker_ctx, None)
        if unit is not None:
            unit.close()

    def collect_metrics(self):
        count, age = self.relay.backlog()
        labels = {"service": self.container.service_name}
        yield gauge("liudong_outbox_backlog_events", "Outbox events not yet published.", labels, count)
        yield gauge("liudong_outbox_oldest_age_seconds",
                    "Age of the oldest unpublished outbox event (0 when none).", labels, age)


class LogContext(DependencyProvider):
    """Puts the worker's trace id, event id and entrypoint into every log line it writes,
    and writes one line per entrypoint run with its outcome."""

    def worker_setup(self, worker_ctx):
        event_id = None
        if worker_ctx.args and hasattr(worker_ctx.args[0], "event_id"):
            event_id = worker_ctx.args[0].event_id
        logs.set_context(trace_id=worker_ctx.data.get(TRACE_ID), event_id=event_id,
                         entrypoint=worker_ctx.entrypoint.method_name,
                         service=self.container.service_name)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        for handled, outcome in outcomes(worker_ctx, result, exc_info):
            if handled is not None:  # one event of a batch: its own trace and event id
                event, trace_id = handled
                logs.set_context(trace_id=trace_id, event_id=event.event_id)
            self._outcome(outcome)

    @staticmethod
    def _outcome(exc_info) -> None:
        if exc_info is None:
            logs.log_fields(log, logging.INFO, "entrypoint done", outcome="success")
        else:
            exc = exc_info[1]
            status = getattr(exc, "http_status", 500)
            level = logging.INFO if status < 500 else logging.ERROR
            log.log(level, "entrypoint failed: %s: %s", type(exc).__name__, exc,
                    exc_info=exc_info if status >= 500 else None,
                    extra={"fields": {"outcome": "rejected" if status < 500 else "error"}})

    def worker_teardown(self, worker_ctx):
        logs.set_context(trace_id=None, event_id=None, entrypoint=None)
