"""Capacity of the platform on a three-node RabbitMQ cluster on this machine (issue 16):

1. events/s through a quorum queue: envelopes published with confirms to `members.events`
   (each lands in every consumer's quorum queue, replicated on three nodes), then drained from
   one consumer queue with acks; the same through a classic queue on the same cluster, as the
   baseline of the ratio;
2. registrations/s through the gateway (201 acknowledged, PostgreSQL, every event applied by
   every consumer) with 1 and with 2 replicas of every service.

    PYTHONWARNINGS=ignore .venv/bin/python bench/cluster_capacity.py [--events 3000] \
        [--seconds 20] [--clients 8]

Starts its own cluster and PostgreSQL (nothing shared is touched); prints one table.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import eventlet

eventlet.monkey_patch()

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "deploy" / "local"))

from cluster import LocalCluster  # noqa: E402
from kombu import Connection, Queue  # noqa: E402

from services import SERVICE_CLASSES  # noqa: E402
from services.plumbing import topology  # noqa: E402
from services.plumbing.outbox import EventPublisher  # noqa: E402
from tests.fixtures import free_port, wait_for  # noqa: E402
from tests.loadkit import Load, Stack, build_world, own_postgres  # noqa: E402

CLASSES = [topology.load_service_class(p) for p in SERVICE_CLASSES.values()]
os.environ.setdefault("LIUDONG_LOCAL_RUN", "1")  # throw-away data: built-in ID keys allowed


def envelope(n: int) -> dict:
    return {"event_id": str(uuid.uuid4()), "event_type": "member_registered", "version": 1,
            "occurred_at": "2026-11-30T00:00:00+00:00", "producer": "members",
            "data": {"member_id": f"m{n}"}}


def drain(uri: str, queue: str, expected: int) -> float:
    """Seconds to consume and ack `expected` messages from `queue` (prefetch 100)."""
    seen = 0
    with Connection(uri) as conn:
        channel = conn.channel()
        channel.basic_qos(0, 100, False)

        def on_message(_body, message):
            nonlocal seen
            seen += 1
            message.ack()

        consumer = conn.Consumer(Queue(queue, no_declare=True), callbacks=[on_message],
                                 channel=channel)
        start = time.monotonic()
        with consumer:
            while seen < expected:
                conn.drain_events(timeout=30)
        return time.monotonic() - start


def events_per_second(cluster: LocalCluster, count: int) -> dict:
    vhost = f"bench-{uuid.uuid4().hex[:6]}"
    cluster.add_vhost(vhost)
    uri = cluster.uri(vhost)
    with Connection(uri) as conn:
        topology.declare(conn, CLASSES)
        # the baseline: a classic queue with the same binding
        Queue("bench.classic", exchange=topology.events_exchange("members"),
              routing_key="member_registered", durable=True)(conn.channel()).declare()
    publisher = EventPublisher(uri)
    start = time.monotonic()
    for n in range(count):
        publisher.publish(envelope(n))
    published = time.monotonic() - start
    publisher.close()
    quorum = drain(uri, "services_desk.on_member_registered", count)
    classic = drain(uri, "bench.classic", count)
    return {"published (confirmed, to 4 quorum queues + 1 classic)/s": round(count / published),
            "consumed from a quorum queue/s": round(count / quorum),
            "consumed from a classic queue/s": round(count / classic),
            "quorum / classic": round(classic / quorum, 2)}


def registrations_per_second(cluster, postgres, replicas: int, seconds: float,
                             clients: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="liudong-bench-"))
    stack = Stack(cluster, postgres, tmp, replicas, prefix="bench")
    try:
        wait_for(stack.healthy, timeout=300, interval=0.5,
                 message="the platform to be healthy (a busy 2-core machine starts 11 processes)")
        world = build_world(stack)
        load = Load(stack, world, kinds=("member",))
        threads = [eventlet.spawn(load.client, n) for n in range(clients)]
        eventlet.sleep(3)  # warm: pools, first connections
        start, before = time.monotonic(), len(load.acknowledged["member"])
        eventlet.sleep(seconds)
        done = len(load.acknowledged["member"]) - before
        elapsed = time.monotonic() - start
        load.stopping = True
        for thread in threads:
            thread.wait()
        members = len(load.acknowledged["member"])
        wait_for(lambda: stack.scalar("webhooks", "SELECT count(*) FROM processed_events WHERE "
                                                  "consumer LIKE '%on_member_registered'")
                 == members, timeout=120, interval=0.5)
        return {"replicas": replicas, "registrations/s": round(done / elapsed, 1),
                "non-2xx answers": sum(n for s, n in load.statuses.items() if s != 201)}
    finally:
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-events", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="liudong-bench-cluster-"))
    base.chmod(0o755)
    cluster = LocalCluster(base, [(free_port(), free_port()) for _ in range(3)],
                           prefix=f"liudong-bench-{uuid.uuid4().hex[:4]}")
    try:
        cluster.start()
        if not args.skip_events:
            print("events:", events_per_second(cluster, args.events), flush=True)
        with own_postgres() as postgres:
            for replicas in args.replicas:
                print("gateway:", registrations_per_second(cluster, postgres, replicas,
                                                           args.seconds, args.clients), flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
