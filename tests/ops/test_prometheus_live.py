"""A real Prometheus (Debian's, started by deploy/local/infra.py start_prometheus as `make run`
starts it) scraping the real platform processes (started like tests/e2e/test_processes.py) and
RabbitMQ, with the repository's rules: every target is up, a stopped service fires
LiudongProcessDown which resolves after a restart, a handler that always fails ends parked and
LiudongEventsParked fires, an overdue desk request shows in the overdue gauge, and every Grafana
panel query and every recording rule returns data through Prometheus's HTTP API.

Scrapes and rule evaluations run every second, and every rule's `for:` is shortened to 1 s in a
copy of the rule files written to a temporary directory (the originals are not touched).
"""
import importlib.util
import json
import math
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy import create_engine, text

from services import SERVICE_CLASSES
from services.plumbing import deadletters
from services.plumbing.envelope import new_envelope
from services.plumbing.outbox import EventPublisher
from tests.e2e.test_processes import Processes, client, make_key
from tests.fixtures import Databases, free_port, purge_event_queues, wait_for

pytestmark = pytest.mark.ops

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "liudong-dashboard.json"
PROCESSES = list(SERVICE_CLASSES) + ["gateway"]
SHORT_FOR = "1s"
POISONED_CONSUMER = "members.on_donation_received"


def load_infra():
    spec = importlib.util.spec_from_file_location("local_infra", REPO / "deploy/local/infra.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


infra = load_infra()


def shortened_rule_files(directory: Path) -> list[Path]:
    """Copies of the repository's rule files with every `for:` set to 1 s."""
    copies = []
    for name in infra.PROMETHEUS_RULE_FILES:
        rules = yaml.safe_load((infra.PROMETHEUS_RULES_DIR / name).read_text(encoding="utf-8"))
        shortened = 0
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = SHORT_FOR
                    shortened += 1
        assert shortened, f"{name} has no `for:` to shorten"
        copy = directory / name
        copy.write_text(yaml.safe_dump(rules, sort_keys=False, allow_unicode=True))
        copies.append(copy)
    return copies


class PrometheusApi:
    def __init__(self, url: str):
        self.url = url

    def _get(self, path: str, **params):
        reply = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = reply.json()
        assert reply.status_code == 200 and body["status"] == "success", (path, params, body)
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        data = self._get("query", query=expr)
        assert data["resultType"] == "vector", (expr, data)
        return data["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def alerts(self, name: str, state: str | None = None) -> list[dict]:
        return [a for a in self._get("alerts")["alerts"] if a["labels"]["alertname"] == name
                and (state is None or a["state"] == state)]

    def targets(self) -> list[dict]:
        return self._get("targets", state="active")["activeTargets"]

    def rules(self) -> list[dict]:
        return [rule for group in self._get("rules")["groups"] for rule in group["rules"]]

    def series(self, match: str) -> list[dict]:
        return self._get("series", **{"match[]": match})


@pytest.fixture(scope="module")
def stack(amqp_uri, pg_admin_engine, tmp_path_factory):
    """The five processes on PostgreSQL and the session's vhost, each with its own metrics
    port; event retries and the desk's deadline sweep made fast."""
    tmp = tmp_path_factory.mktemp("ops")
    purge_event_queues(amqp_uri)
    dbs = Databases("postgresql", tmp, pg_admin_engine)
    gateway_port = free_port()
    env = dict(os.environ, AMQP_URI=amqp_uri, GATEWAY_PORT=str(gateway_port),
               GATEWAY_RPC_TIMEOUT_SECONDS="3", LIUDONG_OUTBOX_POLL_SECONDS="0.2",
               LIUDONG_EVENT_MAX_RETRIES="1", LIUDONG_EVENT_RETRY_BASE_SECONDS="0.2",
               DESK_SWEEP_SECONDS="1", LIUDONG_VAR_DIR=str(tmp), PYTHONWARNINGS="ignore")
    metrics = {}
    for name in PROCESSES:
        env[f"{name.upper()}_DATABASE_URL"] = dbs.url(name)
        metrics[name] = free_port()
        env[f"{name.upper()}_METRICS_PORT"] = str(metrics[name])
    processes = Processes(env, tmp)
    for name in PROCESSES:
        processes.start(name)
    base = f"http://127.0.0.1:{gateway_port}/api/v1"

    def healthy():
        try:
            return requests.get(f"{base}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_for(healthy, timeout=60, interval=0.5, message="the platform to report healthy")
    yield {"base": base, "env": env, "processes": processes, "metrics": metrics, "tmp": tmp,
           "dbs": dbs, "amqp_uri": amqp_uri}
    for name in list(processes.procs):
        processes.stop(name)
    purge_event_queues(amqp_uri)  # the poisoned event must not meet later tests in this vhost
    dbs.drop_all()


@pytest.fixture(scope="module")
def prometheus(stack):
    tmp = stack["tmp"]
    rules_dir = tmp / "rules"
    rules_dir.mkdir()
    targets = {name: [f"127.0.0.1:{port}"] for name, port in stack["metrics"].items()}
    targets["rabbitmq"] = [f"127.0.0.1:{infra.BROKER_METRICS_PORT}"]
    process = infra.start_prometheus(tmp, targets, port=free_port(),
                                     rule_files=shortened_rule_files(rules_dir),
                                     scrape_interval="1s", evaluation_interval="1s")
    assert process is not None, f"Prometheus did not start; see {tmp / 'log' / 'prometheus.log'}"
    assert (tmp / "prometheus" / "data").is_dir()  # storage in the given directory
    yield PrometheusApi(process.url)
    process.terminate()
    process.wait(30)


def all_targets_up(api: PrometheusApi) -> bool:
    targets = api.targets()
    return ({t["labels"]["job"] for t in targets} == set(PROCESSES) | {"rabbitmq"}
            and all(t["health"] == "up" for t in targets))


@pytest.fixture(scope="module")
def desk_request(stack):
    """An open proxy request at a service centre, submitted through the gateway."""
    base = stack["base"]
    admin = client(make_key(stack, "admin", name="ops admin"))

    def org(kind, name, parent=None):
        reply = admin.post(f"{base}/org-units", json={"kind": kind, "name": name,
                                                     "parent_id": parent})
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    centre = org("service_centre", "监控服务中心", org("joint_committee", "监控联合党委"))
    desk = client(make_key(stack, "desk_staff", centre, "ops desk"))

    def submit():
        reply = desk.post(f"{base}/requests", json={
            "requester_name": "老乡", "category": "other", "description": "代办"})
        return reply if reply.status_code == 201 else None

    request = wait_for(submit, timeout=30, interval=0.3,
                       message="the desk to learn the centre").json()
    assert desk.get(f"{base}/requests/{request['id']}").status_code == 200
    return request


@pytest.fixture(scope="module")
def parked_event(stack):
    """A donation_received event the members service can never handle (its payload breaks the
    contract): retried once, then parked."""
    amqp_uri = stack["amqp_uri"]
    (subscription,) = [s for s in deadletters.platform_subscriptions(POISONED_CONSUMER)]
    envelope = new_envelope("donations", "donation_received", 1,
                            {"donation_id": "d-poison", "amount": "not money"})
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.publish(envelope)
    finally:
        publisher.close()
    parked = wait_for(lambda: deadletters.list_parked(amqp_uri, [subscription]), timeout=30,
                      interval=0.3, message="the poisoned event to be parked")
    assert [(p["event_id"], p["attempts"]) for p in parked] == [(envelope["event_id"], 2)]
    return envelope


# -- the tests -----------------------------------------------------------------------------------
def test_every_platform_process_and_the_broker_is_scraped_and_up(prometheus):
    wait_for(lambda: all_targets_up(prometheus), timeout=30, interval=0.5,
             message="every target to be up")
    up = {r["metric"]["job"]: r["value"][1] for r in prometheus.query("up")}
    assert up == {job: "1" for job in PROCESSES + ["rabbitmq"]}
    # each process's own series reach Prometheus under its job
    services = {r["metric"]["service"]
                for r in prometheus.query("max by (service) (liudong_workers_max)")}
    assert services == set(SERVICE_CLASSES)
    assert prometheus.query('liudong_http_requests_in_flight{job="gateway"}')


def test_a_stopped_service_fires_process_down_and_it_resolves_after_a_restart(stack, prometheus):
    def donations_down(state=None):
        return [a for a in prometheus.alerts("LiudongProcessDown", state)
                if a["labels"]["job"] == "donations"]

    wait_for(lambda: all_targets_up(prometheus), timeout=30, interval=0.5,
             message="every target to be up")
    assert donations_down() == []
    processes = stack["processes"]
    assert processes.stop("donations") == 0
    try:
        (firing,) = wait_for(lambda: donations_down("firing"), timeout=30, interval=0.5,
                             message="LiudongProcessDown to fire for donations")
        assert firing["labels"]["severity"] == "critical"
        assert firing["annotations"]["summary"].startswith("donations (127.0.0.1:")
        assert firing["annotations"]["runbook_url"] == "deploy/README.md#liudongprocessdown"
    finally:
        processes.start("donations")
    wait_for(lambda: donations_down() == [], timeout=60, interval=0.5,
             message="LiudongProcessDown to resolve after the restart")
    assert prometheus.value('up{job="donations"}') == 1


def test_a_handler_that_always_fails_ends_parked_and_the_parked_alert_fires(prometheus,
                                                                            parked_event):
    consumer = f'consumer="{POISONED_CONSUMER}"'
    firing = wait_for(lambda: prometheus.alerts("LiudongEventsParked", "firing"), timeout=30,
                      interval=0.5, message="LiudongEventsParked to fire")
    assert [(a["labels"]["consumer"], a["labels"]["service"]) for a in firing] == [
        (POISONED_CONSUMER, "members")]
    assert firing[0]["annotations"]["runbook_url"] == "deploy/README.md#liudongeventsparked"
    assert prometheus.value(f"max(liudong_events_parked_messages{{{consumer}}})") == 1
    # the way there: one failed delivery retried, the second parked
    assert prometheus.value(f"sum(liudong_events_retried_total{{{consumer}}})") == 1
    assert prometheus.value(f"sum(liudong_events_parked_total{{{consumer}}})") == 1


def test_an_overdue_desk_request_shows_in_the_overdue_gauge(stack, prometheus, desk_request):
    open_other = 'max(liudong_desk_open_requests{category="other"})'
    overdue_other = 'max(liudong_desk_overdue_requests{category="other"})'
    wait_for(lambda: prometheus.value(open_other) == 1, timeout=30, interval=0.5,
             message="the open request in the gauge")
    assert prometheus.value(overdue_other) == 0
    # Its deadline passes (what days of waiting would do).
    engine = create_engine(stack["dbs"].url("services_desk"))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE requests SET deadline = :d, warn_on = :d WHERE id = :i"),
                         {"d": date.today() - timedelta(days=3), "i": desk_request["id"]})
    finally:
        engine.dispose()
    wait_for(lambda: prometheus.value(overdue_other) == 1, timeout=30, interval=0.5,
             message="the overdue gauge to count the request")
    assert prometheus.value(open_other) == 1
    window = prometheus.query('max by (window) (liudong_desk_requests_by_time_to_deadline'
                              '{category="other"})')
    assert {r["metric"]["window"]: r["value"][1] for r in window} == {"overdue": "1"}
    assert prometheus.value('liudong:desk_overdue_requests:ratio') is not None


def poll(predicate, timeout: float) -> bool:
    """Like wait_for, but leaves the failure message to the caller (it says what is missing
    at the end, not at the start)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def _panels(panels):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = []
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            # Grafana's variables as a dashboard opened on "All" would send them
            expr = re.sub(r"\$__rate_interval", "1m", target["expr"])
            expr = re.sub(r"\$\{?\w+\}?", ".*", expr)
            queries.append((f"panel {panel['id']} {panel['title']!r} {target['refId']}", expr))
    variables = [v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                 for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return queries, variables


def test_every_dashboard_query_and_recording_rule_returns_data(stack, prometheus, desk_request,
                                                               parked_event):
    wait_for(lambda: all_targets_up(prometheus), timeout=30, interval=0.5,
             message="every target to be up")
    # Traffic once Prometheus has seen the write and read series: a rate only counts what a
    # series gained between two scrapes, not the request that created it.
    written = 'liudong_http_requests_total{method="POST", route="/api/v1/requests"}'
    wait_for(lambda: prometheus.query(written), timeout=30, interval=0.5,
             message="Prometheus to see the first write")
    desk = client(make_key(stack, "desk_staff", desk_request["centre_org_id"], "ops traffic"))
    for n in range(3):
        reply = desk.post(f"{stack['base']}/requests", json={
            "requester_name": f"老乡{n}", "category": "other", "description": "代办"})
        assert reply.status_code == 201, reply.text
        assert desk.get(f"{stack['base']}/requests").status_code == 200
    queries, variables = dashboard_queries()
    assert len(queries) >= 20
    empty = {}

    def all_answer():
        empty.clear()
        for where, expr in queries:
            if not prometheus.query(expr):
                empty[where] = expr
        return not empty

    # series of the last seconds (a rate needs two scrapes) may still be on their way
    assert poll(all_answer, timeout=30), f"dashboard queries without data: {empty}"
    for variable in variables:
        metric, label = re.fullmatch(r"label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)",
                                     variable).groups()
        assert [s for s in prometheus.series(metric) if s.get(label)], variable

    rules = prometheus.rules()
    assert all(rule["health"] == "ok" for rule in rules), \
        [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    recorded = sorted({r["name"] for r in rules if r["type"] == "recording"})
    assert len(recorded) >= 30
    missing = {}

    def every_rule_records():
        missing.clear()
        for name in recorded:
            values = [float(r["value"][1]) for r in prometheus.query(name)]
            if not values or not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
                missing[name] = values
        return not missing

    assert poll(every_rule_records, timeout=30), \
        f"recording rules without a value in [0, 1]: {missing}"
