"""`make cluster`: a three-node RabbitMQ cluster on this machine, and the platform on it with two
replicas of every service.

    python deploy/local/cluster.py            # until Ctrl-C; state under var/cluster/

Three RabbitMQ nodes (`liudong-cluster-1..3`), each with its own name, AMQP and distribution
ports (5681..5683, 25681..25683) and data directory, are joined into one cluster; every durable
queue is a quorum queue replicated on all three, so one node may stop without losing a queue or
a message. Services and the gateway get the list of the three addresses (AMQP_URI with `;`
between them: kombu connects to the first that answers and fails over to the next). Databases
are PostgreSQL (replicas share the outbox and the webhooks' deliveries with SKIP LOCKED): a
cluster of this command's own on :55434 (data under the system's temporary directory), one
database per process, unless `<SERVICE>_DATABASE_URL` is set.
The test under load is tests/cluster/test_node_failure_under_load.py; it uses LocalCluster too.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from rabbit_nodes import RabbitNode  # noqa: E402

CLUSTER_SIZE = 3
FIRST_AMQP_PORT = 5681
FIRST_DIST_PORT = 25681
REPLICAS = 2
POSTGRES_PORT = 55434


class LocalCluster:
    """RabbitMQ nodes on this machine joined into one cluster."""

    def __init__(self, base_dir: Path, ports: list[tuple[int, int]], prefix: str = "liudong-cluster"):
        self.base_dir = Path(base_dir)
        self.nodes = [RabbitNode(f"{prefix}-{n + 1}", self.base_dir / f"node{n + 1}", amqp, dist)
                      for n, (amqp, dist) in enumerate(ports)]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        seed = self.nodes[0]
        for node in self.nodes[1:]:
            if seed.node not in node.running_nodes():
                node.join_cluster(seed)
        running = seed.running_nodes()
        if len(running) != len(self.nodes):
            raise RuntimeError(f"cluster formed with {running} only")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def uri(self, vhost: str = "") -> str:
        """Every node's address, for kombu's failover (first reachable wins)."""
        return ";".join(node.uri(vhost) for node in self.nodes)

    def add_vhost(self, vhost: str) -> None:
        self.nodes[0].add_vhost(vhost)  # vhosts, permissions and policies are cluster-wide

    def node_named(self, erlang_node: str) -> RabbitNode:
        return next(node for node in self.nodes if node.node == erlang_node)

    def leader_of(self, vhost: str, queue: str) -> RabbitNode:
        for node in self.nodes:  # ask a node that is up
            try:
                return self.node_named(node.queue_leaders(vhost)[queue])
            except subprocess.CalledProcessError:
                continue
        raise RuntimeError(f"no node could tell the leader of {queue}")


def postgres_database(name: str) -> str:
    """The URL of database `name` on the local cluster, created when missing."""
    from sqlalchemy import create_engine, text
    server = f"postgresql+psycopg2://postgres@127.0.0.1:{POSTGRES_PORT}"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                {"name": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return f"{server}/{name}"


def main() -> None:
    import infra
    from supervisor import Supervisor

    sys.path.insert(0, str(REPO))
    from services import SERVICE_CLASSES
    from services.plumbing import config

    base = config.VAR_DIR / "cluster"
    # The nodes run as the `rabbitmq` user, who may not enter the repository: their data
    # directories are under the system's temporary directory.
    nodes_dir = Path(tempfile.gettempdir()) / "liudong-cluster"
    cluster = LocalCluster(nodes_dir, [(FIRST_AMQP_PORT + n, FIRST_DIST_PORT + n)
                                       for n in range(CLUSTER_SIZE)])
    print("[cluster] starting three RabbitMQ nodes and joining them", flush=True)
    if not shutil.which("rabbitmq-server"):
        infra.ensure_rabbitmq()  # installs the package (the shared broker is not needed)
    cluster.start()
    vhost = "liudong"
    cluster.add_vhost(vhost)
    env = dict(os.environ, AMQP_URI=cluster.uri(vhost), GATEWAY_PORT=os.environ.get(
        "GATEWAY_PORT", "8090"), LIUDONG_VAR_DIR=str(base))
    env.setdefault("LIUDONG_LOCAL_RUN", "1")  # a throw-away local platform, like `make run`
    pg_dir = Path(tempfile.gettempdir()) / "liudong-cluster-pg"
    pg_dir.mkdir(exist_ok=True)
    pg_dir.chmod(0o755)
    infra.postgres_up(str(pg_dir / "data"), POSTGRES_PORT)
    for process in list(SERVICE_CLASSES) + ["gateway"]:
        env.setdefault(f"{process.upper()}_DATABASE_URL", postgres_database(process))
    subprocess.run([sys.executable, "-m", "services.plumbing.topology"], check=True, cwd=REPO,
                   env=env, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "services.plumbing.migrate"], check=True, cwd=REPO,
                   env=env)
    supervisor = Supervisor(base / "log", say=lambda m: print(f"[cluster] {m}", flush=True))
    for service in SERVICE_CLASSES:
        for replica in range(REPLICAS):
            supervisor.add(f"{service}-{replica}", [sys.executable, "-m",
                                                    "services.plumbing.runner", service],
                           cwd=REPO, env=env | {f"{service.upper()}_METRICS_PORT": "0"})
    supervisor.add("gateway", [sys.executable, "-m", "gateway.server"], cwd=REPO,
                   env=env | {"GATEWAY_METRICS_PORT": "0"})
    stopping = False

    def on_signal(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    supervisor.start_all()
    print(f"\n  RabbitMQ cluster: {', '.join(n.node for n in cluster.nodes)} "
          f"(AMQP {', '.join(str(n.amqp_port) for n in cluster.nodes)})\n"
          f"  Gateway: http://127.0.0.1:{env['GATEWAY_PORT']}/api/v1  "
          f"({REPLICAS} replicas of every service)\n"
          f"  Stop a node:  rabbitmqctl -n {cluster.nodes[0].node} stop_app   (start_app to bring it back)\n"
          f"  Ctrl-C stops everything.\n", flush=True)
    try:
        while not stopping:
            supervisor.poll()
            time.sleep(0.5)
    finally:
        supervisor.stop_all()
        cluster.stop()
        infra.postgres_down(str(pg_dir / "data"))
        print("[cluster] stopped", flush=True)


if __name__ == "__main__":
    main()
