"""Prometheus metrics of a service process, one registry per container (so several containers
can run in one test process), served on the process's own port.

Names follow Prometheus conventions: `liudong_` prefix, `_total` counters, `_seconds`
durations. Labels are bounded (service, entrypoint, kind, outcome): never an id.
"""
import logging
import time

from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from . import probes
from .batches import outcomes
from .errors import ServiceError

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def entrypoint_kind(entrypoint) -> str:
    name = type(entrypoint).__name__.lower()
    if "rpc" in name:
        return "rpc"
    if "subscriber" in name or "event" in name:
        return "event"
    if "timer" in name:
        return "timer"
    return name


class _ExtensionCollector:
    """At scrape time, asks every extension of the container with a `collect_metrics()` for its
    gauges, and every extension type with a `collect_container_metrics(container)` once (for
    figures that one query answers for all extensions of that type)."""

    def __init__(self, container):
        self.container = container

    def collect(self):
        asked_types = set()
        for extension in self.container.extensions:
            collectors = [getattr(extension, "collect_metrics", None)]
            per_type = getattr(type(extension), "collect_container_metrics", None)
            if per_type is not None and type(extension) not in asked_types:
                asked_types.add(type(extension))
                collectors.append(lambda per_type=per_type: per_type(self.container))
            for collect in filter(None, collectors):
                try:
                    yield from collect()
                except Exception:  # a broken collector must not break the whole scrape
                    log.exception("metrics collector %s failed", extension)


class Metrics(DependencyProvider):
    """Counts and times every entrypoint; serves /metrics. Other extensions find it through
    `metrics_of(container)` to count retries and parks."""

    def setup(self):
        service = self.container.service_name
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "liudong_entrypoint_calls", "Entrypoint runs by outcome (success, rejected, error).",
            ["service", "entrypoint", "kind", "outcome"], registry=self.registry)
        self.duration = Histogram(
            "liudong_entrypoint_duration_seconds", "Entrypoint run time.",
            ["service", "entrypoint", "kind"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.events_retried = Counter(
            "liudong_events_retried", "Event deliveries sent to the retry queue after a failure.",
            ["service", "consumer"], registry=self.registry)
        self.events_parked = Counter(
            "liudong_events_parked", "Event deliveries parked in a dead-letter queue.",
            ["service", "consumer"], registry=self.registry)
        workers_in_use = Gauge("liudong_workers_in_use", "Workers running now.", ["service"],
                               registry=self.registry)
        workers_in_use.labels(service).set_function(lambda: len(self.container._worker_threads))
        workers_max = Gauge("liudong_workers_max", "Most workers that may run at once.", ["service"],
                            registry=self.registry)
        workers_max.labels(service).set(self.container.max_workers)
        self.registry.register(_ExtensionCollector(self.container))
        self._started = {}
        self.server = None
        self.port = None

    def start(self):
        port = self.container.config.get("METRICS_PORT")
        if port is not None:
            self.server = probes.serve(port, self.registry, self.container)
            self.port = self.server.server_port
            log.info("metrics on :%s/metrics, probes on /healthz and /readyz", self.port)

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    kill = stop

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        labels = (self.container.service_name, entrypoint.method_name, entrypoint_kind(entrypoint))
        for _event, outcome in outcomes(worker_ctx, result, exc_info):
            self.calls.labels(*labels, _outcome(outcome)).inc()
        if started is not None:
            self.duration.labels(*labels).observe(time.perf_counter() - started)

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)

    def get_dependency(self, worker_ctx):
        return self


def _outcome(exc_info) -> str:
    if exc_info is None:
        return "success"
    if isinstance(exc_info[1], ServiceError) and exc_info[1].http_status < 500:
        return "rejected"  # the caller's mistake, not ours
    return "error"


def metrics_of(container):
    for extension in container.dependencies:
        if isinstance(extension, Metrics):
            return extension
    return None


def gauge(name: str, documentation: str, labels: dict, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family
