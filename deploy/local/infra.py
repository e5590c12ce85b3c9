"""Real infrastructure on this machine, for `make run` and `make test`: RabbitMQ, PostgreSQL and
Prometheus.

    python deploy/local/infra.py rabbitmq            # install (Debian, as root) and start if needed
    python deploy/local/infra.py test-tools          # install what the tests need (promtool,
                                                     # prometheus, chromium, CJK/Tibetan fonts)
    python deploy/local/infra.py postgres-up DIR PORT    # initdb if needed, start on 127.0.0.1:PORT
    python deploy/local/infra.py postgres-down DIR
    python deploy/local/infra.py vhost-add NAME | vhost-delete NAME
    python deploy/local/infra.py prometheus [VAR_DIR]   # Prometheus on :9090 until Ctrl-C

`make run` calls start_prometheus() (Prometheus scraping every process and RabbitMQ).

Nothing here is mocked: the test suite runs against these.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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
    """What `make test` needs besides RabbitMQ and PostgreSQL: promtool checks the alert rules,
    and a real Prometheus scrapes the platform in tests/ops (Debian ships both in `prometheus`)."""
    if not shutil.which("promtool") or not shutil.which("prometheus"):
        apt_install("prometheus", "promtool and prometheus (the tests check the rules and run "
                                  "Prometheus against the platform)")
    ensure_browser()


# The console's browser tests drive Debian's Chromium (never a downloaded browser) and need
# the fonts a clerk's machine needs: Chinese and Tibetan (deploy/README.md).
CONSOLE_FONTS = (("fonts-noto-cjk", "zh-cn"), ("fonts-wqy-microhei", "zh-cn"),
                 ("fonts-tibetan-machine", "bo"))


def _has_font_for(language: str, package: str) -> bool:
    if shutil.which("dpkg-query"):
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], text=True,
                                capture_output=True).stdout
        return status.endswith("installed") and "not-installed" not in status
    return bool(shutil.which("fc-list")) and bool(subprocess.run(
        ["fc-list", f":lang={language}", "family"], text=True, capture_output=True).stdout)


def ensure_browser() -> None:
    if not shutil.which("chromium"):
        apt_install("chromium", "Chromium (the console's browser tests)")
    for package, language in CONSOLE_FONTS:
        if not _has_font_for(language, package):
            apt_install(package, f"a {language} font (the console's browser tests)")


def raise_open_files_limit() -> None:
    """Lets a broker started from here inherit as many open files as allowed: RabbitMQ sizes its
    file handle budget from this limit, and with the usual soft limit of 1024 a few test vhosts
    of quorum queues exhaust it — then every new connection waits for a handle, for ever."""
    import resource
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def broker_start_command() -> list[str]:
    """Debian's `rabbitmq-server` wrapper, run as root, starts the broker through `su`, which
    puts the open-files soft limit back to 1024 whatever this process raised it to: do what
    the wrapper does, raising the limit inside the `su` (up to the hard limit, which a user
    may)."""
    server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    if os.geteuid() != 0 or not os.path.exists(server) or not shutil.which("su"):
        return ["rabbitmq-server", "-detached"]
    return ["su", "rabbitmq", "-s", "/bin/sh", "-c",
            f"cd /var/lib/rabbitmq && ulimit -n $(ulimit -Hn) && exec {server} -detached"]


def ensure_rabbitmq() -> None:
    if port_open(5672):
        say("RabbitMQ is running on :5672")
        # broker metrics on :15692 for Prometheus; the CLI is slow, so only when not serving yet
        if shutil.which("rabbitmq-plugins") and not port_open(BROKER_METRICS_PORT):
            run("rabbitmq-plugins", "enable", "rabbitmq_prometheus", check=False, quiet=True)
        _after_start()
        return
    if not shutil.which("rabbitmq-server"):
        apt_install("rabbitmq-server", "RabbitMQ", ", or start the stack with: docker compose "
                                                   "-f deploy/docker-compose.yml up rabbitmq")
    # The broker's metrics for Prometheus (:15692); --offline works before the node is up.
    run("rabbitmq-plugins", "enable", "--offline", "rabbitmq_prometheus", check=False, quiet=True)
    say("starting rabbitmq-server -detached")
    raise_open_files_limit()
    run(*broker_start_command())
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


def postgres_up(data_dir: str, port: int, settings: str = "") -> None:
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
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off " + settings, "start",
        quiet=True, user=user)
    say(f"PostgreSQL up on 127.0.0.1:{port} (data in {data_dir})")


def postgres_down(data_dir: str) -> None:
    user = "postgres" if os.geteuid() == 0 else None
    if os.path.exists(os.path.join(data_dir, "postmaster.pid")):
        run(_pg_bin("pg_ctl"), "-D", data_dir, "-m", "fast", "-w", "stop", check=False,
            quiet=True, user=user)
        say("PostgreSQL stopped")


# -- Prometheus ----------------------------------------------------------------------------------
PROMETHEUS_RULES_DIR = Path(__file__).resolve().parents[1] / "prometheus"
PROMETHEUS_RULE_FILES = ("alerts.yml", "slo.yml")
BROKER_METRICS_PORT = 15692  # rabbitmq_prometheus
DEFAULT_PROMETHEUS_PORT = 9090


def ensure_prometheus() -> bool:
    """Debian's `prometheus` (without recommends: they would pull in node-exporter, which takes
    the gateway's :9100) when missing and root; otherwise one line, and the platform runs
    without it (False)."""
    if shutil.which("prometheus"):
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say("Prometheus is not installed, so it is not started: install Debian's `prometheus` "
            "package (apt-get install --no-install-recommends prometheus) as root")
        return False
    try:
        apt_install("prometheus", "Prometheus (it watches the platform)")
    except subprocess.CalledProcessError as exc:
        say(f"installing Debian's `prometheus` failed ({exc}); the platform runs without it")
        return False
    return shutil.which("prometheus") is not None


def local_scrape_targets(host: str = "127.0.0.1") -> dict[str, list[str]]:
    """job -> targets of a local run: each process on its metrics port (`<PROCESS>_METRICS_PORT`,
    else services/plumbing/config.py DEFAULT_METRICS_PORTS) and RabbitMQ's :15692."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from services.plumbing import config
    targets = {}
    for process in config.DEFAULT_METRICS_PORTS:
        port = config.metrics_port(process)
        if port:  # 0 (a random port) or "off" cannot be scraped from a fixed config
            targets[process] = [f"{host}:{port}"]
    targets["rabbitmq"] = [f"{host}:{BROKER_METRICS_PORT}"]
    return targets


def write_prometheus_config(path, targets: dict[str, list[str]], rule_files=None,
                            scrape_interval: str = "15s", evaluation_interval: str = "15s") -> Path:
    """A Prometheus config at `path` with one job per entry of `targets` and the repository's
    rule files (absolute paths; the tests pass modified copies instead)."""
    import yaml
    if rule_files is None:
        rule_files = [PROMETHEUS_RULES_DIR / name for name in PROMETHEUS_RULE_FILES]
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval,
                   "external_labels": {"platform": "liudong"}},
        "rule_files": [str(Path(f).resolve()) for f in rule_files],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(hosts)}]}
                           for job, hosts in targets.items()],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by deploy/local/infra.py at each start; edit "
                    "deploy/prometheus/ instead.\n" + yaml.safe_dump(config, sort_keys=False))
    return path


def prometheus_argv(var_dir, targets: dict[str, list[str]], port: int | None = None,
                    **config) -> list[str]:
    """Writes `<var_dir>/prometheus/prometheus.yml` and returns the command that runs Prometheus
    on 127.0.0.1:`port` with its data in `<var_dir>/prometheus/data` (for a supervisor).
    `config`: rule_files, scrape_interval, evaluation_interval (write_prometheus_config)."""
    home = Path(var_dir) / "prometheus"
    config_file = write_prometheus_config(home / "prometheus.yml", targets, **config)
    return [shutil.which("prometheus") or "prometheus",
            f"--config.file={config_file}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=15d",
            f"--web.listen-address=127.0.0.1:{prometheus_port(port)}",
            "--web.enable-lifecycle"]  # POST /-/reload after editing the rules


def prometheus_port(port: int | None = None) -> int:
    return port or int(os.environ.get("PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT))


def prometheus_url(port: int | None = None) -> str:
    return f"http://127.0.0.1:{prometheus_port(port)}"


def prometheus_command(var_dir, targets: dict[str, list[str]], port: int | None = None,
                       **config) -> list[str] | None:
    """prometheus_argv once Prometheus is installed (ensure_prometheus) and its port is free;
    otherwise None, with one line said. For a supervisor that starts and restarts it."""
    if not ensure_prometheus():
        return None
    port = prometheus_port(port)
    if port_open(port):
        say(f"something already listens on 127.0.0.1:{port} (Debian's own prometheus service? "
            f"`systemctl disable --now prometheus`), so Prometheus is not started; "
            f"set PROMETHEUS_PORT to use another port")
        return None
    return prometheus_argv(var_dir, targets, port, **config)


def start_prometheus(var_dir, targets: dict[str, list[str]], port: int | None = None,
                     log_file=None, ready_timeout: float = 60, **config):
    """Starts Prometheus (see prometheus_command) and waits until it is ready; returns the
    process (its address in `.url`), or None with one line said when it cannot run (not
    installed, port taken, exited at start). Its output goes to `log_file`
    (<var_dir>/log/prometheus.log). It stays in the caller's process group: Ctrl-C stops it
    with the rest."""
    argv = prometheus_command(var_dir, targets, port, **config)
    if argv is None:
        return None
    log_file = Path(log_file or Path(var_dir) / "log" / "prometheus.log")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    process.url = prometheus_url(port)
    deadline = time.monotonic() + ready_timeout
    while not _prometheus_ready(process.url):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
                process.wait(10)
            say(f"Prometheus did not start (exit {process.returncode}); see {log_file}")
            return None
        time.sleep(0.2)
    say(f"Prometheus on {process.url} scraping {', '.join(targets)} "
        f"(config {argv[1].split('=', 1)[1]}, log {log_file})")
    return process


def _prometheus_ready(url: str) -> bool:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run_prometheus(var_dir) -> None:
    """`infra.py prometheus [VAR_DIR]`: Prometheus for a platform started some other way, in the
    foreground until Ctrl-C."""
    process = start_prometheus(var_dir, local_scrape_targets())
    if process is None:
        sys.exit(1)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(30)


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
    elif command == "prometheus":
        run_prometheus(args[0] if args else REPO / "var")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
