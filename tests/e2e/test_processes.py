"""End to end with real processes: the four services and the gateway started as the platform
runs them (`python -m services.plumbing.runner …`, `python -m gateway.server`), on PostgreSQL
and RabbitMQ, driven over real HTTP."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from services import SERVICE_CLASSES
from tests.fixtures import Databases, free_port, purge_event_queues, wait_for
from tests.integration.helpers import id_number

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]



class Processes:
    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str):
        cmd = ([sys.executable, "-m", "gateway.server"] if name == "gateway"
               else [sys.executable, "-m", "services.plumbing.runner", name])
        self.procs[name] = subprocess.Popen(cmd, cwd=REPO, env=self.env,
                                            stdout=open(self.log_dir / f"{name}.log", "a"),
                                            stderr=subprocess.STDOUT)

    def stop(self, name: str):
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return None

    def log_lines(self, name: str) -> list[dict]:
        lines = []
        for line in (self.log_dir / f"{name}.log").read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return lines


@pytest.fixture(scope="module")
def stack(amqp_uri, pg_admin_engine, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    purge_event_queues(amqp_uri)
    dbs = Databases("postgresql", tmp, pg_admin_engine)
    gateway_port = free_port()
    env = dict(os.environ, AMQP_URI=amqp_uri, GATEWAY_PORT=str(gateway_port),
               GATEWAY_RPC_TIMEOUT_SECONDS="3", LIUDONG_OUTBOX_POLL_SECONDS="0.2",
               LIUDONG_VAR_DIR=str(tmp), PYTHONWARNINGS="ignore")
    metrics = {}
    for name in list(SERVICE_CLASSES) + ["gateway"]:
        env[f"{name.upper()}_DATABASE_URL"] = dbs.url(name)
        metrics[name] = free_port()
        env[f"{name.upper()}_METRICS_PORT"] = str(metrics[name])
    processes = Processes(env, tmp)
    for name in list(SERVICE_CLASSES) + ["gateway"]:
        processes.start(name)
    base = f"http://127.0.0.1:{gateway_port}/api/v1"

    def healthy():
        try:
            return requests.get(f"{base}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_for(healthy, timeout=60, interval=0.5, message="the platform to report healthy")
    yield {"base": base, "env": env, "processes": processes, "metrics": metrics}
    for name in list(processes.procs):
        processes.stop(name)
    dbs.drop_all()


def make_key(stack, role, org=None, name="e2e") -> str:
    cmd = [sys.executable, "-m", "gateway.keys", "create", "--role", role, "--name", name, "--json"]
    if org:
        cmd += ["--org", org]
    out = subprocess.run(cmd, cwd=REPO, env=stack["env"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)["key"]


def client(key):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


@pytest.fixture(scope="module")
def orgs(stack):
    admin = client(make_key(stack, "admin", name="e2e admin"))
    base = stack["base"]

    def org(kind, name, parent=None):
        response = admin.post(f"{base}/org-units", json={"kind": kind, "name": name,
                                                        "parent_id": parent})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    county = org("county", "黑水县")
    centre = org("service_centre", "黑水县驻成都党群服务中心")
    branch = org("branch", "黑水县驻成都流动党支部", centre)
    return {"admin": admin, "county": county, "branch": branch, "centre": centre,
            "office": client(make_key(stack, "office", county)),
            "desk": client(make_key(stack, "desk_staff", centre)),
            "branch_office": client(make_key(stack, "office", branch))}


def test_the_walking_skeleton_over_real_http(stack, orgs):
    base = stack["base"]
    response = orgs["office"].post(f"{base}/members", json={
        "name": "泽仁卓玛", "id_number": id_number(1, "513228"), "phone": "13900000001",
        "home_org_id": orgs["county"], "host_org_id": orgs["branch"]},
        headers={"X-Request-Id": "e2e-trace-0001"})
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-Id"] == "e2e-trace-0001"
    member = response.json()

    def submit():
        r = orgs["desk"].post(f"{base}/requests", json={
            "requester_member_id": member["id"], "category": "medical_insurance",
            "description": "异地就医备案"})
        return r if r.status_code == 201 else None

    request = wait_for(submit, timeout=20, interval=0.2, message="the desk to learn the member").json()
    assert orgs["desk"].post(f"{base}/requests/{request['id']}/claim").status_code == 200
    done = orgs["desk"].post(f"{base}/requests/{request['id']}/complete",
                             json={"outcome": "已备案"})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    campaign = orgs["branch_office"].post(f"{base}/campaigns", json={
        "title": "助学捐赠", "purpose": "school_supplies", "opens_on": "2026-01-01",
        "closes_on": "2026-12-31"}).json()

    def give():
        r = orgs["branch_office"].post(f"{base}/campaigns/{campaign['id']}/donations",
                                       json={"amount": "3000.00", "member_id": member["id"]},
                                       headers={"Idempotency-Key": "e2e-gift-1"})
        return r if r.status_code in (200, 201) else None

    wait_for(give, timeout=20, interval=0.2, message="donations to learn the member")
    assert give().status_code == 200  # the retry returns the original
    wait_for(lambda: orgs["office"].get(f"{base}/members/{member['id']}").json()["giving_total"]
             == "3000.00", timeout=20, message="members to credit the gift")
    total = orgs["branch_office"].get(f"{base}/campaigns/{campaign['id']}").json()
    assert total["cash_total"] == "3000.00" and total["donation_count"] == 1


def test_request_id_is_carried_from_gateway_through_rpc_and_events(stack, orgs):
    base = stack["base"]
    response = orgs["office"].post(f"{base}/members", json={
        "name": "西木拉", "id_number": id_number(2, "513228"), "phone": "13900000002",
        "home_org_id": orgs["county"]}, headers={"X-Request-Id": "e2e-trace-0002"})
    assert response.status_code == 201, response.text
    processes = stack["processes"]

    def traced(name):
        return [line for line in processes.log_lines(name)
                if line.get("request_id") == "e2e-trace-0002"]

    # A service logs its entrypoint's outcome after the reply has left: wait for the lines.
    wait_for(lambda: any(line.get("route") == "/api/v1/members" for line in traced("gateway")),
             timeout=10, message="the gateway's log line")
    wait_for(lambda: any(line.get("entrypoint") == "register_member"
                         for line in traced("members")),
             timeout=10, message="the members service's log line")
    # The desk handles member_registered under the same request id, with the event id.
    desk_lines = wait_for(lambda: [line for line in traced("services_desk")
                                   if line.get("entrypoint") == "on_member_registered"],
                          timeout=20, message="the desk's log line for the event")
    assert desk_lines[0]["event_id"]


def test_every_process_serves_prometheus_metrics(stack, orgs):
    expected = {
        "gateway": ["liudong_http_requests_total", "liudong_http_request_duration_seconds_bucket",
                    "liudong_rpc_calls_total"],
        "members": ["liudong_entrypoint_calls_total", "liudong_entrypoint_duration_seconds_bucket",
                    "liudong_workers_in_use", "liudong_workers_max",
                    "liudong_outbox_backlog_events", "liudong_outbox_oldest_age_seconds",
                    "liudong_events_parked_messages"],
        "services_desk": ["liudong_outbox_backlog_events", "liudong_events_parked_messages"],
        "donations": ["liudong_outbox_backlog_events", "liudong_workers_max"],
    }
    for name, metric_names in expected.items():
        text = requests.get(f"http://127.0.0.1:{stack['metrics'][name]}/metrics", timeout=5).text
        for metric in metric_names:
            assert f"\n{metric}" in text, f"{name} lacks {metric}"
    members = requests.get(f"http://127.0.0.1:{stack['metrics']['members']}/metrics").text
    assert 'liudong_entrypoint_calls_total{entrypoint="register_member",kind="rpc",' \
           'outcome="success",service="members"}' in members


def test_key_revoked_elsewhere_is_refused_within_the_cache_bound(stack, orgs):
    """Revoked by another process (the CLI, as by another gateway replica): the gateway reads
    keys again after GATEWAY_KEY_CACHE_SECONDS (2 s) at most."""
    key = make_key(stack, "office", orgs["county"], "to revoke")
    assert client(key).get(f"{stack['base']}/members").status_code == 200
    key_id = key.split("_")[1]
    subprocess.run([sys.executable, "-m", "gateway.keys", "revoke", key_id], cwd=REPO,
                   env=stack["env"], check=True, capture_output=True)
    listed = subprocess.run([sys.executable, "-m", "gateway.keys", "list"], cwd=REPO,
                            env=stack["env"], check=True, capture_output=True, text=True).stdout
    assert key.split("_")[2] not in listed  # secrets are never listed
    wait_for(lambda: client(key).get(f"{stack['base']}/members").status_code == 401,
             timeout=2.5, message="the revoked key refused")


def test_metrics_pages_parse_as_prometheus_text(stack, orgs):
    """A metric family written twice (e.g. once per subscriber) would make Prometheus reject
    the whole scrape; the services desk has a dozen subscribers."""
    from prometheus_client.parser import text_string_to_metric_families
    for name, port in stack["metrics"].items():
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        families = [family.name for family in text_string_to_metric_families(text)]
        assert len(families) == len(set(families)), f"{name} repeats a metric family"
    desk = requests.get(f"http://127.0.0.1:{stack['metrics']['services_desk']}/metrics").text
    assert desk.count("# TYPE liudong_events_parked_messages gauge") == 1
    assert 'consumer="services_desk.on_member_moved"' in desk



def _import_workers_of(pid: int) -> list[int]:
    """The import worker processes a process started (its children running import_worker)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z" and b"services.members.import_worker" in cmdline:
            workers.append(int(entry.name))
    return workers


def test_an_upload_is_checked_by_the_members_import_worker_which_ends_with_its_service(stack, orgs):
    """A CSV ledger uploaded as a browser form sends it, imported by the members process with
    its import worker; kill -9 of members ends the worker too, and a new members process has
    one of its own."""
    base, processes = stack["base"], stack["processes"]
    members = processes.procs["members"]
    workers = wait_for(lambda: _import_workers_of(members.pid), timeout=20,
                       message="members to start its import worker")
    rows = [["name", "id_number", "phone", "home_org_id", "host_org_id"]] + [
        [f"党员{i}", id_number(100 + i, "513228"), "13900000001", orgs["county"], orgs["branch"]]
        for i in range(300)]
    rows[10][1] = rows[10][1][:-1] + ("0" if rows[10][1][-1] != "0" else "1")  # a wrong check digit
    content = "\n".join(",".join(row) for row in rows).encode()
    response = orgs["office"].post(f"{base}/member-imports",
                                   files={"file": ("黑水县台账.csv", content, "text/csv")})
    assert response.status_code == 202, response.text

    def finished():
        batch = orgs["office"].get(f"{base}/member-imports/{response.json()['id']}").json()
        return batch if batch["status"] in ("done", "failed") else None

    batch = wait_for(finished, timeout=60, interval=0.3, message="the import to finish")
    assert (batch["status"], batch["imported"], batch["invalid"]) == ("done", 299, 1)
    assert [e["row"] for e in batch["errors"]] == [11]
    assert _import_workers_of(members.pid) == workers  # the same worker, kept for the next import

    members.kill()
    members.wait()
    wait_for(lambda: all(not Path(f"/proc/{pid}").exists()
                         or (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
                         for pid in workers), timeout=15, message="the worker to leave with its service")
    processes.start("members")
    wait_for(lambda: _import_workers_of(processes.procs["members"].pid), timeout=30,
             message="the new members process to start its import worker")
    wait_for(lambda: requests.get(f"{base}/health", timeout=5).status_code == 200, timeout=60,
             interval=0.5, message="the platform to be healthy again")


def test_a_stopped_service_is_503_and_health_says_so(stack, orgs):
    """Last in this module: it stops donations."""
    processes = stack["processes"]
    assert processes.stop("donations") == 0  # SIGTERM: a clean stop
    started = time.monotonic()
    response = orgs["branch_office"].post(f"{stack['base']}/campaigns", json={
        "title": "x", "purpose": "other", "opens_on": "2026-01-01", "closes_on": "2026-02-01"})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "service_unavailable"
    assert time.monotonic() - started < 10
    health = requests.get(f"{stack['base']}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["services"]["donations"] == "unavailable"
    assert health.json()["services"]["members"] == "ok"

