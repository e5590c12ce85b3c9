"""The gateway's Prometheus metrics: HTTP requests by route template (never a path with ids),
RPC calls by service and outcome."""
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class GatewayMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("liudong_http_requests", "HTTP requests by route and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.duration = Histogram("liudong_http_request_duration_seconds", "HTTP request time.",
                                  ["route", "method"], buckets=BUCKETS, registry=self.registry)
        self.in_flight = Gauge("liudong_http_requests_in_flight", "HTTP requests being served.",
                               registry=self.registry)
        self.rpc_calls = Counter("liudong_rpc_calls", "RPC calls from the gateway by outcome.",
                                 ["service", "method", "outcome"], registry=self.registry)
        self.audit_suppressed = Counter(
            "liudong_gateway_audit_suppressed", "Denials not written to the audit: over the "
            "bound per key or address (GATEWAY_AUDIT_DENIALS_LIMIT).", registry=self.registry)
        self.rpc_duration = Histogram("liudong_rpc_call_duration_seconds", "RPC call time.",
                                      ["service", "method"], buckets=BUCKETS,
                                      registry=self.registry)

    def http_request(self, route: str, method: str, status: int, seconds: float):
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(seconds)

    def rpc_call(self, service: str, method: str, outcome: str, seconds: float):
        self.rpc_calls.labels(service, method, outcome).inc()
        self.rpc_duration.labels(service, method).observe(seconds)
