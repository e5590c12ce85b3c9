"""Extra RabbitMQ nodes on this machine, each with its own name, ports and data directory, for
tests that stop and start a broker without touching the one `make run` and the other tests use.

    node = RabbitNode("liudong-chaos", base_dir, amqp_port, dist_port)
    node.start(); node.stop_app(); node.start_app(); node.stop()

Nodes started here share the machine's Erlang cookie (they all run as the `rabbitmq` user), so
they can be joined into one cluster: `second.join_cluster(first)` (see cluster.py).

Debian's rabbitmq-server drops to the `rabbitmq` user, which must own the data directory.
"""
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from infra import RPC_TTL_POLICY, raise_open_files_limit


class RabbitNode:
    def __init__(self, name: str, base_dir: Path, amqp_port: int, dist_port: int,
                 plugins: tuple = ()):
        self.name = name
        self.base_dir = Path(base_dir)
        self.amqp_port = amqp_port
        self.dist_port = dist_port
        self.plugins = plugins

    @property
    def node(self) -> str:
        return f"{self.name}@{socket.gethostname().split('.')[0]}"

    def uri(self, vhost: str = "") -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.amqp_port}/{vhost}"

    def env(self) -> dict:
        return dict(os.environ,
                    RABBITMQ_NODENAME=self.node,
                    RABBITMQ_NODE_PORT=str(self.amqp_port),
                    RABBITMQ_DIST_PORT=str(self.dist_port),
                    RABBITMQ_MNESIA_BASE=str(self.base_dir / "mnesia"),
                    RABBITMQ_LOG_BASE=str(self.base_dir / "log"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base_dir / "enabled_plugins"),
                    RABBITMQ_PID_FILE=str(self.base_dir / "pid"),
                    # no config file of the machine's: its listeners would clash with ours
                    RABBITMQ_CONFIG_FILE=str(self.base_dir / "rabbitmq"))

    def ctl(self, *args, check: bool = True, timeout: float = 60):
        return subprocess.run(["rabbitmqctl", "-n", self.node, *args], env=self.env(),
                              check=check, capture_output=True, text=True, timeout=timeout)

    def start(self, timeout: float = 90) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        plugins = ",".join(self.plugins)
        (self.base_dir / "enabled_plugins").write_text(f"[{plugins}].\n")
        (self.base_dir / "rabbitmq.conf").write_text("loopback_users = none\n")
        if os.geteuid() == 0 and shutil.which("runuser"):
            shutil.chown(self.base_dir, "rabbitmq", "rabbitmq")
            for path in self.base_dir.rglob("*"):
                shutil.chown(path, "rabbitmq", "rabbitmq")
        raise_open_files_limit()  # quorum queues: see infra.raise_open_files_limit
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env(), check=True,
                       capture_output=True)
        self.await_port(timeout)

    def await_port(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", self.amqp_port)) == 0:
                    self.ctl("await_startup", check=False)
                    return
            time.sleep(0.3)
        raise RuntimeError(f"RabbitMQ node {self.node} did not open :{self.amqp_port} "
                           f"within {timeout}s (logs in {self.base_dir / 'log'})")

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", check=False)

    def add_vhost(self, vhost: str) -> None:
        self.ctl("add_vhost", vhost, check=False)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        # the platform's policy: RPC requests nobody took within 30 s expire (see infra.py)
        self.ctl("set_policy", "-p", vhost, "--apply-to", "queues", "rpc-requests-expire",
                 "^rpc-", RPC_TTL_POLICY)

    def stop(self) -> None:
        try:
            self.ctl("stop", check=False)
        except subprocess.TimeoutExpired:
            # seen with the last node of a cluster whose others are gone: end it outright
            pid = (self.base_dir / "pid").read_text().strip() if (self.base_dir / "pid").exists() else ""
            if pid.isdigit():
                os.kill(int(pid), 9)

    # -- clustering ------------------------------------------------------------------------------
    def join_cluster(self, seed: "RabbitNode") -> None:
        """Makes this (freshly started, empty) node a member of `seed`'s cluster."""
        self.ctl("stop_app")
        self.ctl("reset")
        self.ctl("join_cluster", seed.node)
        self.start_app()

    def running_nodes(self) -> list[str]:
        status = json.loads(self.ctl("cluster_status", "--formatter", "json").stdout)
        return sorted(status.get("running_nodes", []))

    def queue_leaders(self, vhost: str) -> dict:
        """{quorum queue name: the node leading it}, as this node sees the cluster."""
        out = self.ctl("list_queues", "-q", "-p", vhost, "name", "type", "leader",
                       "--formatter", "json").stdout
        return {row["name"]: row["leader"] for row in json.loads(out or "[]")
                if row.get("type") == "quorum"}
