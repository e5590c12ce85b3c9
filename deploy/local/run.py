"""`make run`: the whole platform on this machine, with demo data from the seed reports.

RabbitMQ (installed and started if missing), the topology, migrations, the services and the
gateway as separate supervised processes (one that exits is restarted with backoff; see
supervisor.py), then demo data through the HTTP API. Ctrl-C stops all.
A second run reuses the databases, keys and demo data under var/.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

import infra  # noqa: E402
import requests  # noqa: E402
from supervisor import Supervisor  # noqa: E402

from services import SERVICE_CLASSES  # noqa: E402
from services.plumbing import config  # noqa: E402

VAR = config.VAR_DIR
STATE_FILE = VAR / "demo-state.json"
LOG_DIR = VAR / "log"
PY = sys.executable
PORT = int(os.environ.get("GATEWAY_PORT", 8080))
# Webhook receivers of a local run live on this machine: let the webhooks service call loopback
# (anywhere else only public addresses are called; see gateway/webhooks/addresses.py).
os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
# A throw-away platform with demo data: members may use the built-in ID-number keys (anywhere
# else it refuses to start without real ones; services/plumbing/config.py).
os.environ.setdefault("LIUDONG_LOCAL_RUN", "1")
BASE = f"http://127.0.0.1:{PORT}/api/v1"


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def load_state() -> dict:
    return json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}


def save_state(state: dict) -> None:
    STATE_FILE.write_text(json.dumps(state, ensure_ascii=False, indent=2))


def bootstrap_admin_key(state: dict) -> str:
    if "admin_key" not in state:
        out = subprocess.run([PY, "-m", "gateway.keys", "create", "--role", "admin", "--name",
                              "demo platform admin", "--json"], check=True, cwd=REPO,
                             capture_output=True, text=True).stdout
        state["admin_key"] = json.loads(out)["key"]
        save_state(state)
    return state["admin_key"]


def platform_processes() -> Supervisor:
    """Every service and the gateway, each its own process, restarted when it exits."""
    supervisor = Supervisor(LOG_DIR, say=say)
    for service in SERVICE_CLASSES:
        supervisor.add(service, [PY, "-m", "services.plumbing.runner", service], cwd=REPO)
    supervisor.add("gateway", [PY, "-m", "gateway.server"], cwd=REPO)
    # Prometheus with the repository's rules, scraping every process and the broker (skipped,
    # with one line said, when it cannot be installed or its port is taken).
    prometheus = infra.prometheus_command(VAR, infra.local_scrape_targets())
    if prometheus:
        supervisor.add("prometheus", prometheus, cwd=REPO)
    return supervisor


def wait_healthy(supervisor: Supervisor, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        supervisor.poll()
        for name, item in supervisor.processes.items():
            if item.gave_up:
                sys.exit(f"{name} {item.gave_up}")
        try:
            last = requests.get(f"{BASE}/health", timeout=5)
            if last.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit(f"platform not healthy after {timeout}s: {last.text if last is not None else 'no answer'}")


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    infra.ensure_rabbitmq()
    subprocess.run([PY, "-m", "services.plumbing.topology"], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    say("topology declared")
    subprocess.run([PY, "-m", "services.plumbing.migrate"], check=True, cwd=REPO)
    state = load_state()
    admin_key = bootstrap_admin_key(state)
    supervisor = platform_processes()
    supervisor.start_all()
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wait_healthy(supervisor)
        if not state.get("demo_loaded"):
            import demo_data
            say("loading demo data from the seed reports through the API")
            state["keys"] = demo_data.load(BASE, admin_key, lambda role, org, name: create_key(
                role, org, name))
            state["demo_loaded"] = True
            save_state(state)
        print_banner(state, "prometheus" in supervisor.processes)
        while not stopping:
            supervisor.poll()  # restarts a process that exits (and says so)
            time.sleep(0.5)
    finally:
        say("stopping")
        supervisor.stop_all()
        say("stopped")


def create_key(role: str, org_id: str | None, name: str) -> str:
    cmd = [PY, "-m", "gateway.keys", "create", "--role", role, "--name", name, "--json"]
    if org_id:
        cmd += ["--org", org_id]
    out = subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True).stdout
    return json.loads(out)["key"]


# demo_data labels the console logins it creates "console login <username> (<who>)".
LOGIN_LABEL = "console login "


def print_banner(state: dict, with_prometheus: bool) -> None:
    keys = state.get("keys", {})
    lines = [
        "",
        f"  Gateway:  {BASE}    (OpenAPI: {BASE}/openapi.json)",
        "  Metrics:  gateway :9100, members :9101, services_desk :9102, donations :9103, "
        "webhooks :9104 (/metrics); RabbitMQ :15692",
        f"  Console:  http://127.0.0.1:{PORT}/console    Docs: {BASE}/docs",
        f"  Logs:     {LOG_DIR}/*.log (JSON lines)",
        "  Demo keys (Authorization: Bearer <key>):",
        f"    admin (platform)                    {state['admin_key']}",
    ]
    logins = {label: key for label, key in keys.items() if label.startswith(LOGIN_LABEL)}
    if with_prometheus:
        lines.insert(3, f"  Prometheus: {infra.prometheus_url()}  (alerts: "
                        f"{infra.prometheus_url()}/alerts)")
    for label, key in keys.items():
        if label not in logins:
            lines.append(f"    {label:<36}{key}")
    if logins:
        lines.append("  Console logins (username / password):")
        for label, password in logins.items():
            username, _, who = label[len(LOGIN_LABEL):].partition(" ")
            who = "" if who.startswith("/") else who  # a state file of an older run
            lines.append(f"    {username + ' / ' + password:<36}{who}")
    office = keys.get("office 淮阳区委组织部")
    if office:
        lines += ["", "  Try:", f"    curl -s -H 'Authorization: Bearer {office}' {BASE}/members"]
    lines.append("\n  Ctrl-C stops everything.\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
