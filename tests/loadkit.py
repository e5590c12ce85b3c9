"""The platform under load, shared by the fault tests (tests/chaos, tests/cluster): a PostgreSQL
cluster of the test's own, the platform as `make run` runs it (supervised processes, any number
of replicas per service) on a broker the test owns, client threads that keep writing through
the gateway as a careful integrator would, and the checks that nothing was lost or doubled.

A broker is anything with `add_vhost(vhost)` and `uri(vhost)`: a RabbitNode, or a LocalCluster
(whose URI lists every node, for failover).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import eventlet
import pytest
import requests
from kombu import Connection
from sqlalchemy import create_engine, text

from services import SERVICE_CLASSES
from services.plumbing import topology
from tests.fixtures import Databases, free_port, wait_for
from tests.integration.helpers import id_number

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "local"))
import infra  # noqa: E402
from supervisor import Supervisor  # noqa: E402

CLIENTS = 4
RETRYABLE = (429, 502, 503, 504)


@contextmanager
def own_postgres():
    """A PostgreSQL cluster of the caller's own, on a free port, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="liudong-chaos-pg-"))
    base.chmod(0o755)  # the cluster runs as the `postgres` user, who must reach its data
    data_dir = str(base / "data")
    port = free_port()
    infra.postgres_up(data_dir, port)
    # pre-ping: the test restarts this cluster, and the admin connection must outlive that
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres",
                           isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        yield {"dir": data_dir, "port": port, "engine": engine}
    finally:
        engine.dispose()
        infra.postgres_down(data_dir)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    with own_postgres() as database:
        yield database


def restart_postgres(postgres) -> None:
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # -l: the restarted server must not inherit our pipes (we would wait for it to exit)
    subprocess.run(user + [infra._pg_bin("pg_ctl"), "-D", postgres["dir"], "-m", "fast", "-w",
                           "-l", os.path.join(postgres["dir"], "server.log"), "restart"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- the platform, supervised --------------------------------------------------------------------
class Stack:
    def __init__(self, broker, postgres, tmp: Path, replicas: int, prefix: str = "chaos"):
        self.vhost = f"{prefix}-{uuid.uuid4().hex[:6]}"
        broker.add_vhost(self.vhost)
        self.amqp_uri = broker.uri(self.vhost)
        with Connection(self.amqp_uri) as conn:
            topology.declare(conn, [topology.load_service_class(p)
                                    for p in SERVICE_CLASSES.values()])
        self.dbs = Databases("postgresql", tmp, postgres["engine"])
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        env = dict(os.environ, AMQP_URI=self.amqp_uri, GATEWAY_PORT=str(self.port),
                   GATEWAY_RPC_TIMEOUT_SECONDS="3", LIUDONG_OUTBOX_POLL_SECONDS="0.2",
                   GATEWAY_RATE_LIMIT="100000/minute",  # the load, not the limiter, is tested
                   LIUDONG_VAR_DIR=str(tmp), PYTHONWARNINGS="ignore")
        for name in list(SERVICE_CLASSES) + ["gateway"]:
            env[f"{name.upper()}_DATABASE_URL"] = self.dbs.url(name)
        self.supervisor = Supervisor(tmp / "log", say=lambda m: print(f"[supervisor] {m}"),
                                     first_backoff=0.5)
        self.probes = {}
        for service in SERVICE_CLASSES:
            for replica in range(replicas):
                name = f"{service}-{replica}"
                self.probes[name] = free_port()
                self.supervisor.add(name, [sys.executable, "-m", "services.plumbing.runner", service],
                                    cwd=REPO, env=env | {f"{service.upper()}_METRICS_PORT":
                                                         str(self.probes[name])})
        self.supervisor.add("gateway", [sys.executable, "-m", "gateway.server"], cwd=REPO,
                            env=env | {"GATEWAY_METRICS_PORT": str(free_port())})
        self.env = env
        self._watching = True
        self.supervisor.start_all()
        self._watcher = eventlet.spawn(self._watch)

    def _watch(self):
        while self._watching:
            self.supervisor.poll()
            eventlet.sleep(0.2)

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def probe(self, name: str) -> int | None:
        try:
            return requests.get(f"http://127.0.0.1:{self.probes[name]}/healthz", timeout=3).status_code
        except requests.RequestException:
            return None

    def key(self, role: str, org: str | None = None) -> str:
        cmd = [sys.executable, "-m", "gateway.keys", "create", "--role", role, "--name", "load",
               "--json"] + (["--org", org] if org else [])
        out = subprocess.run(cmd, cwd=REPO, env=self.env, check=True, capture_output=True,
                             text=True).stdout
        return json.loads(out)["key"]

    def scalar(self, service: str, sql: str):
        engine = create_engine(self.dbs.url(service))
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def rows(self, service: str, sql: str) -> list:
        engine = create_engine(self.dbs.url(service))
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def parked(self) -> dict:
        classes = [topology.load_service_class(p) for p in SERVICE_CLASSES.values()]
        counts = {}
        with Connection(self.amqp_uri) as conn:
            channel = conn.channel()
            for sub in topology.all_subscriptions(classes):
                _name, messages, _consumers = channel.queue_declare(sub.parked_queue_name,
                                                                    passive=True)
                if messages:
                    counts[sub.parked_queue_name] = messages
        return counts

    def close(self):
        self._watching = False
        self._watcher.wait()
        self.supervisor.stop_all()
        self.dbs.drop_all()


def session(key: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    return http


# -- the load -------------------------------------------------------------------------------------
class Load:
    """Client threads that write until told to stop; every write retried with its key."""

    def __init__(self, stack: Stack, world: dict, kinds=("member", "gift", "request")):
        self.stack, self.world, self.kinds = stack, world, kinds
        self.stopping = False
        self.acknowledged = {"member": [], "gift": [], "request": []}
        self.statuses = Counter()
        self.last_success = 0.0
        self.acknowledged_at = []  # monotonic times of every acknowledgement
        self.lock = threading.Lock()
        self.serial = 100
        self.failure = None

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def write(self, http, path: str, body: dict, ok: tuple) -> dict:
        """POST until acknowledged (a careful integrator: same key, back off on 503/504)."""
        key = uuid.uuid4().hex
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                response = http.post(f"{self.stack.base}{path}", json=body, timeout=15,
                                     headers={"Idempotency-Key": key})
                status = response.status_code
            except requests.RequestException:
                status = "no answer"
            self.statuses[status] += 1
            if status in ok:
                self.last_success = time.monotonic()
                self.acknowledged_at.append(self.last_success)
                return response.json()
            if status not in RETRYABLE and status != "no answer":
                raise AssertionError(f"POST {path} answered {status}: {response.text}")
            retry_after = response.headers.get("Retry-After") if status != "no answer" else None
            time.sleep(min(float(retry_after), 1.0) if retry_after else 0.5)
        raise AssertionError(f"POST {path} never acknowledged")

    def client(self, number: int):
        try:
            self._client(number)
        except BaseException as exc:  # the test fails on it, not hangs
            self.failure = exc
            raise

    def _client(self, number: int):
        w = self.world
        turn = number
        while not self.stopping:
            turn += 1
            kind = self.kinds[turn % len(self.kinds)]
            if kind == "member":
                serial = self.next_serial()
                reply = self.write(w["office"], "/members", {
                    "name": f"党员{serial}", "id_number": id_number(serial % 1000,
                                                                    birth=f"19{70 + serial // 1000}0101"),
                    "phone": "13800001234", "home_org_id": w["township"],
                    "host_org_id": w["branch"]}, (201,))
                self.acknowledged["member"].append(reply["id"])
            elif kind == "gift":
                amount = Decimal(f"{turn % 997 + 1}.{turn % 100:02d}")
                reply = self.write(w["office"], f"/campaigns/{w['campaign']}/donations",
                                   {"amount": str(amount), "donor_name": "老乡"}, (200, 201))
                self.acknowledged["gift"].append((reply["id"], amount))
            else:
                reply = self.write(w["desk"], "/requests", {
                    "requester_name": "西木拉", "category": "social_insurance",
                    "description": f"社保缴费 {turn}"}, (201,))
                self.acknowledged["request"].append(reply["id"])

    def longest_gap(self, since: float) -> float:
        """The longest time without an acknowledged write after `since` (service lost)."""
        times = [since] + sorted(t for t in self.acknowledged_at if t > since)
        return round(max(b - a for a, b in zip(times, times[1:], strict=False)) if len(times) > 1 else 0.0, 1)

    def seconds_to_recover(self, since: float, timeout: float = 90) -> float:
        def recovered():
            if self.failure is not None:
                raise self.failure
            return self.last_success > since
        wait_for(recovered, timeout=timeout, interval=0.1,
                 message="a write to be acknowledged after the fault")
        return round(self.last_success - since, 1)


def build_world(stack: Stack) -> dict:
    admin = session(stack.key("admin"))

    def org(kind, name, parent=None):
        response = admin.post(f"{stack.base}/org-units", json={"kind": kind, "name": name,
                                                              "parent_id": parent})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    county = org("county", "淮阳区")
    township = org("township", "城关镇", county)
    centre = org("service_centre", "驻京服务中心")
    branch = org("branch", "驻京流动党支部", centre)
    office = session(stack.key("office", county))
    campaign = office.post(f"{stack.base}/campaigns", json={
        "title": "抗击疫情 爱心捐款", "purpose": "pandemic_relief", "goal": "500000.00",
        "opens_on": "2020-01-28", "closes_on": "2099-12-31", "public": True,
        "beneficiaries": [{"kind": "village", "name": "王营村", "county": "淮阳区"}]})
    assert campaign.status_code == 201, campaign.text
    wait_for(lambda: stack.scalar("services_desk", "SELECT count(*) FROM org_units_projection") == 4,
             message="the desk to learn the org units")
    return {"office": office, "desk": session(stack.key("desk_staff", centre)),
            "township": township, "branch": branch, "campaign": campaign.json()["id"]}


# -- the checks -----------------------------------------------------------------------------------
def event_deliveries(stack: Stack, processes=None) -> int:
    """Event handler runs counted by the service processes (all, or those named), from their
    /metrics: more than the events applied means redeliveries."""
    total = 0
    for name in processes or stack.probes:
        port = stack.probes[name]
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in metrics.splitlines():
            match = re.match(r'liudong_entrypoint_calls_total\{(.*)\} ([0-9.e+]+)$', line)
            if match and 'kind="event"' in match.group(1):
                total += int(float(match.group(2)))
    return total


def events_applied(stack: Stack) -> int:
    return sum(stack.scalar(s, "SELECT count(*) FROM processed_events") for s in SERVICE_CLASSES)


def assert_nothing_lost(stack: Stack, load: Load, world: dict) -> None:
    """Every acknowledged write exists exactly once and nothing else was written; every event
    reached every consumer exactly once; the outboxes drained, nothing parked; totals exact."""
    members, gifts, requests_ = (load.acknowledged[k] for k in ("member", "gift", "request"))
    assert len(set(members)) == len(members) and len(set(requests_)) == len(requests_)
    assert len({g for g, _ in gifts}) == len(gifts)
    assert stack.scalar("members", "SELECT count(*) FROM members") == len(members)
    assert stack.scalar("services_desk", "SELECT count(*) FROM requests") == len(requests_)
    assert stack.scalar("donations", "SELECT count(*) FROM donations") == len(gifts)

    def projections_complete():
        return all(stack.scalar(s, "SELECT count(*) FROM members_projection") == len(members)
                   for s in ("services_desk", "donations"))
    wait_for(projections_complete, timeout=60, interval=0.5,
             message="every projection to have every member")
    for service in ("services_desk", "donations"):  # webhooks keeps no members projection
        applied = stack.scalar(service, "SELECT count(*) FROM processed_events "
                                        "WHERE consumer LIKE '%on_member_registered'")
        assert applied == len(members), (service, applied, len(members))
    wait_for(lambda: stack.scalar("members", "SELECT count(*) FROM processed_events WHERE "
                                             "consumer LIKE '%on_donation_received'") == len(gifts),
             timeout=60, interval=0.5, message="every gift to reach the giving totals")

    for service in SERVICE_CLASSES:
        wait_for(lambda s=service: stack.scalar(
            s, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
            timeout=30, message=f"{service}'s outbox to drain")
    assert stack.parked() == {}

    campaign = world["office"].get(f"{stack.base}/campaigns/{world['campaign']}").json()
    assert Decimal(campaign["cash_total"]) == sum((a for _, a in gifts), Decimal("0"))
