"""The platform against the naive nameko chain (issue 13), side by side, from outside with `wrk`.

`make bench` runs this. It starts a throw-away PostgreSQL cluster of its own (under /tmp) and a
RabbitMQ vhost of its own on the shared broker, then
  (a) the platform as real processes, as `make run` runs them (the chaos test's `Stack`:
      supervised services and gateway, one process each), and
  (b) the naive baseline (bench/baselines/naive_chain.py: `@http` -> RPC -> one INSERT ->
      EventDispatcher -> event_handler INSERT), three processes,
and puts the same load on both: `wrk` with --connections for --seconds per scenario (after a
short warm-up). Printed per scenario: requests/s, p50, p99 and the ratio platform/baseline,
with the HTTP statuses counted (a fast stream of 4xx is not a result); then the event lag
(member registered in the members service -> handled by the desk's projection, p50/p99) and
how long the outboxes took to drain after each write load.

    PYTHONWARNINGS=ignore .venv/bin/python bench/chain.py [--seconds 10] [--connections 10]
        [--only register get ...] [--profile DIR]

--profile DIR: `py-spy record` on every platform process during each scenario's load, raw
samples (collapsed stacks) written to DIR as <process>-<scenario>.txt (--profile-svg: flame
graphs too; --profile-native: C frames too, e.g. libpq's send()).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "deploy" / "local"))

import infra  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from supervisor import Supervisor  # noqa: E402

from services import SERVICE_CLASSES  # noqa: E402
from tests.chaos.test_faults_under_load import Stack, build_world  # noqa: E402
from tests.fixtures import free_port  # noqa: E402

LUA = REPO / "bench" / "load.lua"
WARM_UP_SECONDS = 2
SCENARIOS = ("register", "get", "list", "submit", "gift")
WRITES = ("register", "submit", "gift")
BROKER_HOST = "127.0.0.1:5672"
SERIALS_PER_RUN = 200_000  # 200 birth days of 1,000 numbers: more than one run ever sends
runs_started = 0
PROFILE_SVG = False
PROFILE_NATIVE = False


class SharedBroker:
    """The shared RabbitMQ on :5672, seen the way the chaos test's Stack expects a broker."""

    def add_vhost(self, name: str) -> None:
        infra.vhost_add(name)

    def uri(self, vhost: str) -> str:
        return f"amqp://guest:guest@{BROKER_HOST}/{vhost}"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).status_code < 500
    except requests.RequestException:
        return False


# -- the naive baseline -----------------------------------------------------------------------
class Naive:
    def __init__(self, broker: SharedBroker, admin_engine, log_dir: Path):
        self.vhost = f"bench-naive-{uuid.uuid4().hex[:6]}"
        broker.add_vhost(self.vhost)
        self.db_name = f"bench_naive_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        self.db_url = admin_engine.url.set(database=self.db_name).render_as_string(
            hide_password=False)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, AMQP_URI=broker.uri(self.vhost), NAIVE_DATABASE_URL=self.db_url,
                   NAIVE_PORT=str(self.port), PYTHONWARNINGS="ignore")
        subprocess.run([sys.executable, "-c", "from bench.baselines.naive_chain import "
                        "create_schema; create_schema()"], cwd=REPO, env=env, check=True)
        self.supervisor = Supervisor(log_dir, say=lambda m: print(f"[naive] {m}"))
        # the consumers first: an event dispatched before its queue exists would be lost
        for part in ("projection", "store", "http"):
            self.supervisor.add(f"naive-{part}", [sys.executable, "-m",
                                                  "bench.baselines.naive_chain", part],
                                cwd=REPO, env=env)
        self.supervisor.start_all()
        self.engine = create_engine(self.db_url)
        wait_until(lambda: http_ok(f"{self.base}/members"), 60, "the naive chain to answer")
        # Events dispatched before the projection's queue exists are dropped (nameko's plain
        # events): probe until one arrives, and count the ones lost on the way.
        wait_until(self._probe_handled, 60, "the naive projection to consume", 0.5)
        self.lost = self.scalar("SELECT count(*) FROM records") - self.scalar(
            "SELECT count(*) FROM projection")

    def _probe_handled(self) -> bool:
        requests.post(f"{self.base}/probes", json={}, timeout=10)
        time.sleep(0.3)
        return self.scalar("SELECT count(*) FROM projection") > 0

    def caught_up(self) -> bool:
        return (self.scalar("SELECT count(*) FROM projection") + self.lost
                >= self.scalar("SELECT count(*) FROM records"))

    def scalar(self, sql: str):
        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def close(self, admin_engine) -> None:
        self.supervisor.stop_all()
        self.engine.dispose()
        infra.vhost_delete(self.vhost)
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))


# -- load -------------------------------------------------------------------------------------
def wrk(url: str, mode: str, seconds: float, connections: int, headers: dict,
        body: dict | None = None) -> dict:
    argv = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(LUA)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    global runs_started
    runs_started += 1
    argv += [url, "--", mode, uuid.uuid4().hex[:12], json.dumps(body, ensure_ascii=False),
             str(runs_started * SERIALS_PER_RUN)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def platform_targets(stack: Stack, world: dict) -> dict:
    office = world["office"].headers["Authorization"]
    desk = world["desk"].headers["Authorization"]
    json_type = {"Content-Type": "application/json"}
    return {
        "register": (f"{stack.base}/members", {"Authorization": office} | json_type, {
            "name": "党员", "id_number": "ID_NUMBER", "phone": "13800001234",
            "home_org_id": world["township"], "host_org_id": world["branch"]}),
        "get": (None, {"Authorization": office}, None),  # the URL once a member exists
        "list": (f"{stack.base}/members", {"Authorization": office}, None),
        "submit": (f"{stack.base}/requests", {"Authorization": desk} | json_type, {
            "requester_name": "西木拉", "category": "social_insurance",
            "description": "社保缴费"}),
        "gift": (f"{stack.base}/campaigns/{world['campaign']}/donations",
                 {"Authorization": office} | json_type,
                 {"amount": "12.34", "donor_name": "老乡"}),
    }


def naive_targets(naive: Naive) -> dict:
    json_type = {"Content-Type": "application/json"}
    return {
        "register": (f"{naive.base}/members", json_type, {"name": "党员", "id_number": "ID_NUMBER",
                                                         "phone": "13800001234"}),
        "get": (None, {}, None),
        "list": (f"{naive.base}/members", {}, None),
        "submit": (f"{naive.base}/requests", json_type, {"requester_name": "西木拉",
                                                          "description": "社保缴费"}),
        "gift": (f"{naive.base}/donations", json_type, {"amount": "12.34"}),
    }


def first_member_url(list_url: str, headers: dict) -> str:
    items = requests.get(list_url, headers=headers, timeout=10).json()["items"]
    return f"{list_url}/{items[0]['id']}"


def run_scenarios(name: str, targets: dict, only, seconds, connections, after_write,
                  meter: "CpuMeter", statements: "StatementCounter | None" = None,
                  database_urls: list[str] = ()) -> dict:
    results = {}
    for scenario in only:
        url, headers, body = targets[scenario]
        if scenario == "get":
            url = first_member_url(targets["list"][0], targets["list"][1])
        mode = {"get": "read", "list": "read"}.get(scenario, scenario)
        wrk(url, mode, WARM_UP_SECONDS, connections, headers, body)
        before = meter.snapshot()
        if statements is not None:
            statements.reset()
        result = wrk(url, mode, seconds, connections, headers, body)
        if scenario in WRITES:
            result.update(after_write())  # the consumers' work on the load's events counts too
        result["cpu_ms_per_request"] = CpuMeter.per_request_ms(before, meter.snapshot(),
                                                               result["requests"])
        results[scenario] = result
        print(f"[{name}] {scenario}: {result}", flush=True)
        if statements is not None:
            statements.print_per_request(f"{name} {scenario}", result["requests"])
        if scenario in WRITES:
            analyze(database_urls)
    return results


def analyze(database_urls) -> None:
    """Statistics as autovacuum has them a minute after a load: a write load grows a table from
    a few rows to thousands in seconds, faster than autovacuum's naptime (60 s), and a read
    planned on the few rows' statistics (a list page sorting every member in scope instead of
    walking the created-at index; 2.8 ms instead of 0.04) measures the bench, not the chain.
    Outside the measured window; both chains alike."""
    for url in database_urls:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()


# -- what the platform did after the load ------------------------------------------------------
def outbox_drain_seconds(stack: Stack) -> float:
    """From the end of the load until no service has an unpublished event."""
    started = time.monotonic()
    wait_until(lambda: all(stack.scalar(s, "SELECT count(*) FROM outbox "
                                           "WHERE published_at IS NULL") == 0
                           for s in SERVICE_CLASSES), 120, "the outboxes to drain", 0.05)
    return round(time.monotonic() - started, 2)


def desk_caught_up_seconds(stack: Stack) -> float:
    started = time.monotonic()
    total = stack.scalar("members", "SELECT count(*) FROM members")
    wait_until(lambda: stack.scalar("services_desk", "SELECT count(*) FROM members_projection")
               >= total, 120, "the desk projection to catch up", 0.05)
    return round(time.monotonic() - started, 2)


def platform_event_lag(stack: Stack) -> dict:
    """member.registered: written to the members outbox (in the registering transaction) ->
    recorded as handled by the desk's projection (processed_events, same transaction as the
    projection row). Both stamps come from this machine's clock."""
    members = create_engine(stack.dbs.url("members"))
    desk = create_engine(stack.dbs.url("services_desk"))
    try:
        with members.connect() as conn:
            written = dict(conn.execute(text(
                "SELECT event_id, occurred_at FROM outbox WHERE event_type = 'member_registered'")).all())
        with desk.connect() as conn:
            handled = dict(conn.execute(text(
                "SELECT event_id, processed_at FROM processed_events "
                "WHERE consumer LIKE '%on_member_registered'")).all())
    finally:
        members.dispose()
        desk.dispose()
    lags = [(handled[e] - written[e]).total_seconds() * 1000 for e in written if e in handled]
    return {"events": len(lags), "p50_ms": round(percentile(lags, 50), 1),
            "p99_ms": round(percentile(lags, 99), 1)}


def naive_event_lag(naive: Naive) -> dict:
    with naive.engine.connect() as conn:
        lags = [float(row[0]) * 1000 for row in conn.execute(text(
            "SELECT extract(epoch FROM p.handled_at - r.created_at) FROM records r "
            "JOIN projection p USING (id) WHERE r.kind = 'members'"))]
    return {"events": len(lags), "p50_ms": round(percentile(lags, 50), 1),
            "p99_ms": round(percentile(lags, 99), 1)}


# -- CPU per request, by process ------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu_seconds(pid: int | None, with_reaped_children: bool = False) -> float:
    """user + system CPU of one process (all its threads); with its exited children's too
    (PostgreSQL's backends come and go: their time is added to the postmaster's when reaped)."""
    fields = _stat(pid) if pid else None
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry))
    return found


class CpuMeter:
    """CPU seconds spent by each part of a chain over one load: its own processes (by name),
    the PostgreSQL cluster (postmaster, its live backends and the ones that exited) and the
    RabbitMQ broker. Divided by the requests served, it says where a request's CPU goes, which
    holds still on a busy machine better than requests/s does."""

    def __init__(self, pids, postmaster: int):
        self.pids = pids  # name -> pid, read at each snapshot (a restarted process has a new one)
        self.postmaster = postmaster

    def snapshot(self) -> dict:
        taken = {name: process_cpu_seconds(pid) for name, pid in self.pids().items()}
        taken["postgresql"] = process_cpu_seconds(self.postmaster, True) + sum(
            process_cpu_seconds(child) for child in children(self.postmaster))
        taken["rabbitmq"] = sum(process_cpu_seconds(int(pid)) for pid in subprocess.run(
            ["pgrep", "-f", "beam.smp"], capture_output=True, text=True).stdout.split())
        return taken

    @staticmethod
    def per_request_ms(before: dict, after: dict, requests_served: int) -> dict:
        return {name: round((after[name] - before.get(name, 0.0)) * 1000
                            / max(requests_served, 1), 2) for name in after}


# -- profiling -----------------------------------------------------------------------------------
class StatementCounter:
    """What PostgreSQL ran during a scenario, per request (pg_stat_statements, cluster-wide):
    the statements, round trips and server time each request costs, by database."""

    SETTINGS = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"

    def __init__(self, admin):
        self.admin = admin
        with admin.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))

    def reset(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_stat_statements_reset()"))

    def print_per_request(self, title: str, requests: int, shown: int = 30) -> None:
        with self.admin.connect() as conn:
            rows = conn.execute(text(
                "SELECT d.datname, s.calls, s.total_exec_time, s.query "
                "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname <> 'postgres' ORDER BY s.calls DESC")).all()
        requests = max(requests, 1)
        calls = sum(row.calls for row in rows)
        server_ms = sum(row.total_exec_time for row in rows)
        print(f"\n{title}: {calls / requests:.2f} statements and {server_ms / requests:.3f} ms "
              f"of execution per request", flush=True)
        for row in rows[:shown]:
            query = " ".join(row.query.split())[:110]
            print(f"  {row.calls / requests:6.2f}  {row.total_exec_time / row.calls * 1000:7.1f} µs"
                  f"  {row.datname:14} {query}", flush=True)


def start_profiles(stack: Stack, directory: Path, scenario: str, seconds: float) -> list:
    """py-spy on every platform process for one scenario: raw collapsed stacks (one line per
    stack with its sample count; `--profile-svg` adds flame graphs, at twice the sampling cost;
    `--profile-native` adds C frames — the driver, the kernel calls — pausing each process for
    every sample, so its CPU figures read higher)."""
    directory.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    formats = (("raw", "txt"), ("flamegraph", "svg")) if PROFILE_SVG else (("raw", "txt"),)
    profiles = []
    for name, pid in supervised_pids(stack.supervisor).items():
        for fmt, suffix in formats:
            profiles.append(subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                 "--rate", "100", "--format", fmt, "--output",
                 str(directory / f"{name}-{scenario}.{suffix}"),
                 "--native" if PROFILE_NATIVE else "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return profiles


# -- the report ----------------------------------------------------------------------------------
def print_table(platform: dict, naive: dict) -> None:
    print("\n| scenario | platform req/s | p50 ms | p99 ms | naive req/s | p50 ms | p99 ms "
          "| req/s ratio | p99 ratio | platform statuses |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scenario in platform:
        p, n = platform[scenario], naive.get(scenario)
        if n is None:
            continue
        print(f"| {scenario} | {p['rps']:.0f} | {p['p50_ms']:.0f} | {p['p99_ms']:.0f} | "
              f"{n['rps']:.0f} | {n['p50_ms']:.0f} | {n['p99_ms']:.0f} | "
              f"{p['rps'] / n['rps']:.2f} | {p['p99_ms'] / n['p99_ms']:.2f} | {p['statuses']} |")


def print_cpu_table(name: str, results: dict) -> None:
    parts = list(next(iter(results.values()))["cpu_ms_per_request"])
    print(f"\nCPU ms per request, {name} (writes include the consumers' work until caught up)")
    print("| scenario | " + " | ".join(parts) + " | total |")
    print("|---" * (len(parts) + 2) + "|")
    for scenario, result in results.items():
        cpu = result["cpu_ms_per_request"]
        print(f"| {scenario} | " + " | ".join(f"{cpu.get(part, 0):.2f}" for part in parts)
              + f" | {sum(cpu.values()):.2f} |")


def supervised_pids(supervisor) -> dict:
    return {name: supervisor.pid(name) for name in supervisor.processes}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements each request costs (pg_stat_statements)")
    parser.add_argument("--profile-svg", action="store_true",
                        help="with --profile: flame graphs (SVG) as well as raw samples")
    parser.add_argument("--profile-native", action="store_true",
                        help="with --profile: C frames too (libpq, send/recv); pauses each sample")
    parser.add_argument("--profile", type=Path, help="py-spy samples of every platform process "
                                                     "during each scenario's load go to this directory")
    args = parser.parse_args(argv)
    global PROFILE_SVG, PROFILE_NATIVE
    PROFILE_SVG, PROFILE_NATIVE = args.profile_svg, args.profile_native
    if "get" in args.only and "register" not in args.only:
        args.only.insert(0, "register")  # a member to read
    if not shutil.which("wrk"):
        raise SystemExit("needs Debian's `wrk` (make bench installs it as root)")

    os.environ.setdefault("LIUDONG_LOCAL_RUN", "1")  # built-in ID-number keys: a throw-away platform
    if not infra.port_open(5672):
        raise SystemExit("needs RabbitMQ on :5672 (make bench starts it)")
    base = Path(tempfile.mkdtemp(prefix="liudong-bench-"))
    base.chmod(0o755)  # the cluster runs as the `postgres` user, who must reach its data
    data_dir, port = str(base / "data"), free_port()
    infra.postgres_up(data_dir, port, StatementCounter.SETTINGS if args.statements else "")
    admin = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres",
                          isolation_level="AUTOCOMMIT")
    broker = SharedBroker()
    stack = naive = None
    started = time.monotonic()
    try:
        stack = Stack(broker, {"dir": data_dir, "port": port, "engine": admin}, base, replicas=1)
        wait_until(stack.healthy, 120, "the platform to be healthy", 0.5)
        world = build_world(stack)
        print(f"[bench] platform up in {time.monotonic() - started:.0f} s", flush=True)
        naive = None if args.skip_naive else Naive(broker, admin, base / "naive-log")

        def after_platform_write():
            return {"outbox_drain_s": outbox_drain_seconds(stack),
                    "desk_caught_up_s": desk_caught_up_seconds(stack)}

        def after_naive_write():
            begun = time.monotonic()
            wait_until(naive.caught_up, 120, "the naive projection to catch up", 0.05)
            return {"projection_caught_up_s": round(time.monotonic() - begun, 2)}

        databases = list(SERVICE_CLASSES) + ["gateway"]
        postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
        statements = StatementCounter(admin) if args.statements else None
        platform_meter = CpuMeter(lambda: supervised_pids(stack.supervisor), postmaster)
        naive_meter = naive and CpuMeter(lambda: supervised_pids(naive.supervisor), postmaster)

        # Scenario by scenario, the platform then the naive chain right after it: on a shared
        # machine the load of other work changes by the minute, and a ratio is only fair
        # between runs close in time.
        platform, naive_results = {}, {}
        for scenario in args.only:
            profiles = (start_profiles(stack, args.profile, scenario,
                                       WARM_UP_SECONDS + args.seconds) if args.profile else [])
            platform |= run_scenarios("platform", platform_targets(stack, world), [scenario],
                                      args.seconds, args.connections, after_platform_write,
                                      platform_meter, statements,
                                      [stack.dbs.url(name) for name in databases])
            for profile in profiles:
                profile.wait(60)
            if naive is not None:
                naive_results |= run_scenarios("naive", naive_targets(naive), [scenario],
                                               args.seconds, args.connections, after_naive_write,
                                               naive_meter, statements, [naive.db_url])
        lag = platform_event_lag(stack)
        print(f"[platform] event lag member.registered -> desk projection: {lag}", flush=True)
        naive_lag = naive_event_lag(naive) if naive is not None else None
        if naive_lag:
            print(f"[naive] event lag created -> projection: {naive_lag}", flush=True)
        print_table(platform, naive_results)
        print_cpu_table("platform", platform)
        if naive_results:
            print_cpu_table("naive chain", naive_results)
        print(f"\nevent lag, member registered -> desk projection: p50 {lag['p50_ms']} ms, "
              f"p99 {lag['p99_ms']} ms over {lag['events']} events"
              + (f" (naive chain: p50 {naive_lag['p50_ms']} ms, p99 {naive_lag['p99_ms']} ms)"
                 if naive_lag else ""))
        for scenario in WRITES:
            if scenario in platform:
                print(f"after the {scenario} load: outboxes drained in "
                      f"{platform[scenario]['outbox_drain_s']} s, desk projection caught up in "
                      f"{platform[scenario]['desk_caught_up_s']} s")
        print(f"whole run: {time.monotonic() - started:.0f} s; load average at the end "
              f"{os.getloadavg()[0]:.1f} (other work on this machine skews every figure)")
    except BaseException:
        kept = Path(tempfile.mkdtemp(prefix="liudong-bench-logs-"))
        for logs in (base / "log", base / "naive-log"):
            if logs.exists():
                shutil.copytree(logs, kept / logs.name)
        print(f"[bench] failed; the processes' logs are kept in {kept}", flush=True)
        raise
    finally:
        if naive is not None:
            naive.close(admin)
        if stack is not None:
            stack.close()
            infra.vhost_delete(stack.vhost)
        admin.dispose()
        infra.postgres_down(data_dir)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
