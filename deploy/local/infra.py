"""Real infrastructure on this machine, for `make run` and `make test`: RabbitMQ and PostgreSQL.

    python deploy/local/infra.py rabbitmq            # install (Debian, as root) and start if needed
    python deploy/local/infra.py test-tools          # install what the tests need (promtool)
    python deploy/local/infra.py postgres-up DIR PORT    # initdb if needed, start on 127.0.0.1:PORT
    python deploy/local/infra.py postgres-down DIR
    python deploy/local/infra.py vhost-add NAME | vhost-delete NAME

Nothing here is mocked: the test suite runs against these.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

RPC_TTL_POLICY = '{"message-ttl": 30000}'


def say(message: str) -> None:
    print(f"[infra] {message}", flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def run(*cmd, check=True, quiet=False, user=None):
    if user and os.geteuid() == 0:
        cmd = ("runuser", "-u", user, "--") + cmd
    return subprocess.run(cmd, check=check, text=True,
                          stdout=subprocess.DEVNULL if quiet else None,
                          stderr=subprocess.DEVNULL if quiet else None)


def apt_install(package: str, needed_for: str, alternative: str = "") -> None:
    """Install a Debian package without its recommends (prometheus would pull in
    node-exporter, which takes the gateway's :9100) when root; otherwise stop with one line
    saying what to install."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"{needed_for} is missing: install Debian's `{package}` package "
                 f"(apt-get install --no-install-recommends {package}) as root{alternative}")
    say(f"installing {package} (Debian) for {needed_for}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                   check=True, env=env)


def ensure_test_tools() -> None:
    """What `make test` needs besides RabbitMQ and PostgreSQL: promtool checks the alert rules
    (Debian ships it in `prometheus`)."""
    if not shutil.which("promtool"):
        apt_install("prometheus", "promtool (it checks the Prometheus rules in the tests)")


def ensure_rabbitmq() -> None:
    if port_open(5672):
        say("RabbitMQ is running on :5672")
        if shutil.which("rabbitmq-plugins"):  # broker metrics on :15692 for Prometheus
            run("rabbitmq-plugins", "enable", "rabbitmq_prometheus", check=False, quiet=True)
        _after_start()
        return
    if not shutil.which("rabbitmq-server"):
        apt_install("rabbitmq-server", "RabbitMQ", ", or start the stack with: docker compose "
                                                   "-f deploy/docker-compose.yml up rabbitmq")
    # The broker's metrics for Prometheus (:15692); --offline works before the node is up.
    run("rabbitmq-plugins", "enable", "--offline", "rabbitmq_prometheus", check=False, quiet=True)
    say("starting rabbitmq-server -detached")
    run("rabbitmq-server", "-detached")
    for _ in range(120):
        if port_open(5672):
            break
        time.sleep(1)
    else:
        sys.exit("RabbitMQ did not open :5672 within 120 s")
    run("rabbitmqctl", "await_startup", check=False, quiet=True)
    _after_start()
    say("RabbitMQ is up")


def _after_start(vhost: str = "/") -> None:
    set_rpc_ttl(vhost)


def set_rpc_ttl(vhost: str) -> None:
    """RPC requests that nobody consumed within 30 s expire: a caller that gave up (HTTP 504)
    must not have its request executed minutes later, when the service comes back."""
    if shutil.which("rabbitmqctl"):
        run("rabbitmqctl", "set_policy", "-p", vhost, "--apply-to", "queues", "rpc-requests-expire",
            "^rpc-", RPC_TTL_POLICY, check=False, quiet=True)


def vhost_add(name: str) -> None:
    run("rabbitmqctl", "add_vhost", name, quiet=True, check=False)
    run("rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*", quiet=True)
    set_rpc_ttl(name)


def vhost_delete(name: str) -> None:
    run("rabbitmqctl", "delete_vhost", name, quiet=True, check=False)


def _find_pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14", "13"):
        candidate = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(candidate):
            return candidate
    return None


def _pg_bin(name: str) -> str:
    found = _find_pg_bin(name)
    if found is None:
        apt_install("postgresql", f"PostgreSQL ({name})")
        found = _find_pg_bin(name)
    if found is None:
        sys.exit(f"{name} not found even after installing Debian's postgresql package")
    return found


def postgres_up(data_dir: str, port: int) -> None:
    """A throw-away cluster owned by the `postgres` user when run as root (initdb refuses root)."""
    user = "postgres" if os.geteuid() == 0 else None
    if port_open(port):
        say(f"PostgreSQL already listening on :{port}")
        return
    if not os.path.exists(os.path.join(data_dir, "PG_VERSION")):
        os.makedirs(data_dir, exist_ok=True)
        if user:
            shutil.chown(data_dir, user, user)
        os.chmod(data_dir, 0o700)
        run(_pg_bin("initdb"), "-D", data_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", quiet=True, user=user)
    log_file = os.path.join(data_dir, "server.log")
    run(_pg_bin("pg_ctl"), "-D", data_dir, "-l", log_file, "-w", "-t", "60", "-o",
        f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start",
        quiet=True, user=user)
    say(f"PostgreSQL up on 127.0.0.1:{port} (data in {data_dir})")


def postgres_down(data_dir: str) -> None:
    user = "postgres" if os.geteuid() == 0 else None
    if os.path.exists(os.path.join(data_dir, "postmaster.pid")):
        run(_pg_bin("pg_ctl"), "-D", data_dir, "-m", "fast", "-w", "stop", check=False,
            quiet=True, user=user)
        say("PostgreSQL stopped")


def main(argv):
    if not argv:
        sys.exit(__doc__)
    command, args = argv[0], argv[1:]
    if command == "rabbitmq":
        ensure_rabbitmq()
    elif command == "test-tools":
        ensure_test_tools()
    elif command == "postgres-up":
        postgres_up(args[0], int(args[1]))
    elif command == "postgres-down":
        postgres_down(args[0])
    elif command == "vhost-add":
        vhost_add(args[0])
    elif command == "vhost-delete":
        vhost_delete(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
