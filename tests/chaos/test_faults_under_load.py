"""Chaos under load: the platform as `make run` runs it (supervised processes) on PostgreSQL and
RabbitMQ, while client threads keep registering members, giving and submitting desk requests
through the gateway — each write with an Idempotency-Key, retried on 503/504/no answer as a
careful integrator would. During the load: (1) RabbitMQ stops for 10 s, (2) a service is killed
with SIGKILL and the supervisor brings it back, (3) PostgreSQL restarts.

The broker and the database are this test's own (a RabbitMQ node and a PostgreSQL cluster of its
own), so stopping them disturbs nothing else. Run once with one process per service and once
with two (competing consumers).
"""
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import eventlet
import pytest
import requests
from kombu import Connection

from services import SERVICE_CLASSES
from services.plumbing import topology
from tests.fixtures import Databases, free_port, wait_for
from tests.loadkit import CLIENTS, Load, Stack, assert_nothing_lost, build_world, postgres, restart_postgres  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "local"))
from rabbit_nodes import RabbitNode  # noqa: E402

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]

OUTAGE_SECONDS = 10


# -- infrastructure of our own ------------------------------------------------------------------
@pytest.fixture(scope="module")
def broker():
    # Not under pytest's tmp folder: the broker runs as the `rabbitmq` user, who cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="liudong-chaos-rabbit-"))
    node = RabbitNode(f"liudong-chaos-{uuid.uuid4().hex[:6]}", base, free_port(), free_port())
    node.start()
    yield node
    node.stop()
    shutil.rmtree(base, ignore_errors=True)


# -- the test -------------------------------------------------------------------------------------
@pytest.mark.parametrize("replicas", [1, 2])
def test_broker_outage_kill_and_database_restart_under_load(broker, postgres, tmp_path, replicas):
    stack = Stack(broker, postgres, tmp_path, replicas)
    try:
        wait_for(stack.healthy, timeout=90, interval=0.5, message="the platform to be healthy")
        world = build_world(stack)
        load = Load(stack, world)
        clients = [eventlet.spawn(load.client, n) for n in range(CLIENTS)]
        figures = {}
        eventlet.sleep(4)

        # (1) the broker away for 10 s
        broker.stop_app()
        eventlet.sleep(OUTAGE_SECONDS)
        broker.start_app()
        back = time.monotonic()
        figures["broker outage: seconds to first acknowledged write"] = load.seconds_to_recover(back)
        wait_for(stack.healthy, timeout=60, interval=0.5, message="health after the outage")
        figures["broker outage: seconds to healthy"] = round(time.monotonic() - back, 1)

        # (2) a service killed outright; the supervisor starts it again
        victim = "services_desk-0"
        killed_pid = stack.supervisor.pid(victim)
        os.kill(killed_pid, 9)
        killed = time.monotonic()
        wait_for(lambda: stack.supervisor.running(victim)
                 and stack.supervisor.pid(victim) != killed_pid, timeout=30,
                 message="the supervisor to restart the killed service")
        wait_for(stack.healthy, timeout=60, interval=0.5, message="health after the kill")
        figures["kill -9: seconds to healthy"] = round(time.monotonic() - killed, 1)
        figures["kill -9: seconds to first acknowledged write"] = load.seconds_to_recover(killed)

        # (3) PostgreSQL restarted (fast shutdown: connections cut)
        restart_postgres(postgres)
        restarted = time.monotonic()
        figures["database restart: seconds to first acknowledged write"] = \
            load.seconds_to_recover(restarted)
        eventlet.sleep(3)

        load.stopping = True
        for client in clients:
            client.wait()
        wait_for(stack.healthy, timeout=60, interval=0.5, message="health at the end")

        # -- judged from the databases, the broker and the public API ------------------------------
        members, gifts, requests_ = (load.acknowledged[k] for k in ("member", "gift", "request"))
        figures |= {"writes acknowledged": len(members) + len(gifts) + len(requests_),
                    "answers": dict(load.statuses)}
        print(f"\n[chaos, {replicas} replica(s) per service] {figures}")
        assert 500 not in load.statuses, load.statuses
        assert load.statuses[503] + load.statuses[504] + load.statuses["no answer"] > 0, \
            "the faults were not felt: the test proves nothing"

        assert_nothing_lost(stack, load, world)

        # every process running, consuming and healthy
        for name in stack.supervisor.processes:
            assert stack.supervisor.running(name), name
        for name in stack.probes:
            wait_for(lambda n=name: stack.probe(n) == 200, timeout=15,
                     message=f"{name}'s liveness probe")
        # the killed one was restarted once; no other process ever exited
        restarts = {name: item.restarts for name, item in stack.supervisor.processes.items()}
        assert restarts == {name: int(name == victim) for name in restarts}, restarts
    finally:
        stack.close()


def test_health_and_probes_tell_the_truth_within_five_seconds(broker, tmp_path):
    """A service that lost its consumer is down — on its own probe and in the gateway's health —
    within 5 s, and ok again once the broker is back; the process never stops."""
    from nameko.runners import ServiceRunner

    from gateway.server import build_gateway
    from tests.fixtures import container_config

    vhost = f"probes-{uuid.uuid4().hex[:6]}"
    broker.add_vhost(vhost)
    uri = broker.uri(vhost)
    with Connection(uri) as conn:
        topology.declare(conn, [topology.load_service_class(p) for p in SERVICE_CLASSES.values()])
    databases = Databases("sqlite", tmp_path)
    port = free_port()
    runner = ServiceRunner(container_config("members", databases.url("members"), uri,
                                            METRICS_PORT=port))
    runner.add_service(topology.load_service_class(SERVICE_CLASSES["members"]))
    runner.start()
    gateway = build_gateway(uri, databases.url("gateway"))

    def probe(path):
        try:
            return requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
        except requests.RequestException:
            return None

    def members_state():
        return gateway.health().body["services"]["members"]

    try:
        wait_for(lambda: probe("/healthz") == 200 and probe("/readyz") == 200, timeout=15)
        assert members_state() == "ok"
        broker.stop_app()
        try:
            stopped = time.monotonic()
            seen_down = {}
            checks = {"probe": lambda: probe("/healthz") == 503,
                      "gateway": lambda: members_state() == "unavailable"}

            def both_down():
                for name, down in checks.items():
                    if name not in seen_down and down():
                        seen_down[name] = round(time.monotonic() - stopped, 1)
                return len(seen_down) == len(checks)

            wait_for(both_down, timeout=10, interval=0.1, message="health to say down")
            print(f"\n[probes] seconds to say down: {seen_down}")
            assert max(seen_down.values()) <= 5, seen_down
        finally:
            broker.start_app()
        restarted = time.monotonic()
        wait_for(lambda: probe("/healthz") == 200, timeout=30, interval=0.1,
                 message="the consumer to reconnect")
        wait_for(lambda: members_state() == "ok", timeout=30, interval=0.2)
        print(f"\n[probes] ok again {time.monotonic() - restarted:.1f} s after the broker")
        container = next(iter(runner.containers))
        assert not container._died.ready(), "the container must still be running"
    finally:
        runner.stop()
