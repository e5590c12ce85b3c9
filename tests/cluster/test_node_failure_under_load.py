"""A RabbitMQ node lost under load: the platform on a three-node cluster of its own
(deploy/local/cluster.py, every durable queue a quorum queue on all three nodes) with two
replicas of every service, while client threads keep registering members, giving and submitting
desk requests through the gateway. The node leading the busiest consumer queue stops for 20 s
and comes back. Nothing acknowledged may be lost or doubled, no event missed or applied twice,
nothing parked, and both replicas of every service must still be consuming.
"""
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import eventlet
import pytest

from services import SERVICE_CLASSES
from tests.fixtures import free_port, wait_for
from tests.loadkit import (  # noqa: F401
    CLIENTS,
    Load,
    Stack,
    assert_nothing_lost,
    build_world,
    event_deliveries,
    events_applied,
    postgres,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "local"))
from cluster import LocalCluster  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

NODE_DOWN_SECONDS = 20
REPLICAS = 2


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp folder: the nodes run as the `rabbitmq` user, who cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="liudong-cluster-"))
    base.chmod(0o755)
    nodes = LocalCluster(base, [(free_port(), free_port()) for _ in range(3)],
                         prefix=f"liudong-cl-{uuid.uuid4().hex[:4]}")
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()
        shutil.rmtree(base, ignore_errors=True)


def busiest_consumer(stack: Stack) -> str:
    """The consumer (= its queue) that has applied the most events so far."""
    counts = {}
    for service in SERVICE_CLASSES:
        counts.update(dict(stack.rows(service, "SELECT consumer, count(*) FROM processed_events "
                                               "GROUP BY consumer")))
    return max(sorted(counts), key=counts.get)


def replica_event_runs(stack: Stack) -> dict:
    return {name: event_deliveries(stack, [name]) for name in stack.probes}


def test_node_leading_the_busiest_queue_stops_for_20_s_under_load(cluster, postgres, tmp_path):
    stack = Stack(cluster, postgres, tmp_path, REPLICAS, prefix="cluster")
    try:
        wait_for(stack.healthy, timeout=120, interval=0.5, message="the platform to be healthy")
        world = build_world(stack)
        load = Load(stack, world)
        clients = [eventlet.spawn(load.client, n) for n in range(CLIENTS)]
        eventlet.sleep(6)

        busiest = busiest_consumer(stack)
        victim = cluster.leader_of(stack.vhost, busiest)
        victim.stop_app()
        stopped = time.monotonic()
        eventlet.sleep(NODE_DOWN_SECONDS)
        victim.start_app()
        back = time.monotonic()
        seconds_to_write = load.seconds_to_recover(back)
        wait_for(stack.healthy, timeout=60, interval=0.5, message="health after the node is back")
        runs_back = replica_event_runs(stack)
        eventlet.sleep(8)  # load on the whole cluster again
        load.stopping = True
        for client in clients:
            client.wait()
        wait_for(stack.healthy, timeout=60, interval=0.5, message="health at the end")

        assert_nothing_lost(stack, load, world)
        runs_end = replica_event_runs(stack)
        members, gifts, requests_ = (load.acknowledged[k] for k in ("member", "gift", "request"))
        figures = {
            "busiest queue": busiest, "stopped node": victim.node,
            "writes acknowledged": len(members) + len(gifts) + len(requests_),
            "writes/s": round((len(members) + len(gifts) + len(requests_))
                              / (time.monotonic() - stopped + 6), 1),
            "seconds without service": load.longest_gap(stopped - 0.001),
            "seconds from the node's return to a write": seconds_to_write,
            "messages redelivered": event_deliveries(stack) - events_applied(stack),
            "answers": dict(load.statuses)}
        print(f"\n[cluster, {REPLICAS} replicas per service, node down {NODE_DOWN_SECONDS} s] "
              f"{figures}")
        assert 500 not in load.statuses, load.statuses
        assert len(cluster.nodes[0].running_nodes()) == 3  # the node rejoined

        # both replicas of every service still running, connected and consuming
        for name in stack.supervisor.processes:
            assert stack.supervisor.running(name), name
        restarts = {name: item.restarts for name, item in stack.supervisor.processes.items()}
        assert set(restarts.values()) == {0}, restarts
        for name in stack.probes:
            wait_for(lambda n=name: stack.probe(n) == 200, timeout=15,
                     message=f"{name}'s liveness probe")
        # ...and handling events again since the node came back (webhooks takes no event this
        # load produces since it keeps no members projection: its probe above says it consumes)
        for service in ("services_desk", "donations", "members"):
            for replica in range(REPLICAS):
                name = f"{service}-{replica}"
                assert runs_end[name] > runs_back[name], (name, runs_back, runs_end)
    finally:
        stack.close()
