"""The deployment and monitoring files under deploy/ agree with the code and with each other.

    (a) every YAML file parses; docker-compose.yml and k8s/ run exactly the platform's process
        commands with the environment each process reads; the set-up step (compose `setup`,
        k8s Job) sets the RPC TTL policy, declares the topology and migrates, in that order;
    (b) promtool accepts the Prometheus configs (the one `make run` writes too) and rules, and
        the alert and SLO unit tests pass (promtool is required: Debian's `prometheus` package;
        a missing promtool FAILS); the Prometheus Operator manifests (k8s/monitoring) scrape
        every process and carry the same rules;
    (c) the Grafana dashboard only queries metrics the processes export (or rabbitmq_*), and
        its queries are valid PromQL;
    (d) the alerts only use those metrics, `up`, rabbitmq_* or the SLO recording rules, and
        each has a runbook section in deploy/README.md and firing / non-firing unit test cases;
        each SLO has its recording rules and multi-window, multi-burn-rate alerts.

Nothing here needs RabbitMQ, PostgreSQL, Docker or Kubernetes.
"""
import base64
import http.server
import importlib.util
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
PROM = DEPLOY / "prometheus"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DASHBOARD = DEPLOY / "grafana" / "liudong-dashboard.json"
POLICY_SCRIPT = DEPLOY / "rabbitmq" / "rpc_ttl_policy.py"

# -- what the platform is (see services/plumbing/config.py, runner.py, gateway/server.py) --------
SERVICES = ("members", "services_desk", "donations", "webhooks")
PROCESSES = SERVICES + ("gateway",)
PROCESS_COMMANDS = {
    **{s: ["python", "-m", "services.plumbing.runner", s] for s in SERVICES},
    "gateway": ["python", "-m", "gateway.server"],
}
POLICY_CMD = "python deploy/rabbitmq/rpc_ttl_policy.py"
TOPOLOGY_CMD = "python -m services.plumbing.topology"
MIGRATE_CMD = "python -m services.plumbing.migrate"
METRICS_PORTS = {"gateway": 9100, "members": 9101, "services_desk": 9102, "donations": 9103,
                 "webhooks": 9104}
GATEWAY_PORT = 8080
DB_URL = {p: f"{p.upper()}_DATABASE_URL" for p in PROCESSES}
ID_KEYS = {"LIUDONG_ID_HASH_KEY", "LIUDONG_ID_ENCRYPTION_KEY"}
# The processes given the ID keys; every other process must not get them (webhooks never reads
# them: see test_id_keys_go_only_where_they_may_be_read).
ID_KEY_PROCESSES = {"members", "services_desk", "donations"}
# Every environment variable a platform container may be given (all are read by the code).
APP_ENV = ({"AMQP_URI", "GATEWAY_RPC_TIMEOUT_SECONDS", "LIUDONG_MAX_WORKERS",
            "LIUDONG_EVENT_MAX_RETRIES", "GATEWAY_HOST", "GATEWAY_PORT", "LIUDONG_VAR_DIR",
            "RABBITMQ_MANAGEMENT_URL", "LIUDONG_LOCAL_RUN", "MEMBER_IMPORT_WORKERS"}
           | ID_KEYS | set(DB_URL.values()) | {f"{p.upper()}_METRICS_PORT" for p in PROCESSES})

# Metric name as scraped -> its labels (besides job and instance).
METRICS = {
    "liudong_entrypoint_calls_total": {"service", "entrypoint", "kind", "outcome"},
    "liudong_entrypoint_duration_seconds_bucket": {"service", "entrypoint", "kind", "le"},
    "liudong_workers_in_use": {"service"},
    "liudong_workers_max": {"service"},
    "liudong_outbox_backlog_events": {"service"},
    "liudong_outbox_oldest_age_seconds": {"service"},
    "liudong_events_retried_total": {"service", "consumer"},
    "liudong_events_parked_total": {"service", "consumer"},
    "liudong_events_parked_messages": {"service", "consumer"},
    "liudong_http_requests_total": {"route", "method", "status"},
    "liudong_http_request_duration_seconds_bucket": {"route", "method", "le"},
    "liudong_http_requests_in_flight": set(),
    "liudong_rpc_calls_total": {"service", "method", "outcome"},
    "liudong_rpc_call_duration_seconds_bucket": {"service", "method", "le"},
    "liudong_desk_open_requests": {"service", "category"},
    "liudong_desk_overdue_requests": {"service", "category"},
    "liudong_desk_requests_by_time_to_deadline": {"service", "category", "window"},
    "liudong_desk_days_to_nearest_deadline": {"service", "category"},
}
OUTCOMES = {
    "liudong_entrypoint_calls_total": {"success", "rejected", "error"},
    "liudong_rpc_calls_total": {"success", "rejected", "timeout", "unavailable", "error"},
}
TARGET_LABELS = {"job", "instance"}

EXPECTED_ALERTS = {
    "LiudongOutboxStuck", "LiudongEventsParked", "LiudongEventsParkingFast",
    "LiudongEventRetriesHigh", "LiudongEntrypointErrors", "LiudongWorkersSaturated",
    "LiudongProcessDown", "LiudongGatewayErrors", "LiudongGatewaySlow", "LiudongRpcFailures",
    "LiudongBrokerQueueGrowing",
}
# The SLOs of slo.yml: each has a fast-burn (page) and a slow-burn (ticket) alert.
SLO_ALERTS = {
    f"Liudong{slo}{speed}Burn" for slo in ("WriteAvailability", "Latency", "EventDelivery",
                                           "DeskOnTime") for speed in ("Fast", "Slow")}
RULE_FILES = ["alerts.yml", "slo.yml"]
RULE_TESTS = {"alerts_test.yml": "alerts.yml", "slo_test.yml": "slo.yml"}
MONITORING = K8S / "monitoring"


def load_yaml(path: Path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def source_files():
    for folder in ("services", "gateway"):
        for path in (REPO / folder).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                yield path


# -- PromQL helpers ------------------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_MODIFIER = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
             "unless", "offset", "inf", "nan"}
_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, label names,
    durations and numbers left out)."""
    text = re.sub(r"\{[^}]*\}", " ", _STRING.sub('""', expr))
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _MODIFIER.sub(" ", text)
    return {m for m in _IDENT.findall(text) if m.lower() not in _KEYWORDS}


def label_problems(expr: str) -> list[str]:
    """Label matchers on our metrics that name a label or an outcome the metric does not have."""
    problems = []
    for metric, body in _SELECTOR.findall(expr):
        if metric not in METRICS:
            continue
        for label, op, value in _MATCHER.findall(body):
            if label not in METRICS[metric] | TARGET_LABELS:
                problems.append(f"{metric} has no label {label!r}")
            if label == "outcome" and op in ("=", "=~"):
                unknown = set(value.split("|")) - OUTCOMES[metric]
                if unknown:
                    problems.append(f"{metric}: no outcome {sorted(unknown)}")
    return problems


def recorded_series() -> set[str]:
    """The names slo.yml records (liudong:...)."""
    return {rule["record"] for group in load_yaml(PROM / "slo.yml")[0]["groups"]
            for rule in group["rules"] if "record" in rule}


def allowed_metric(name: str, extra=()) -> bool:
    return (name in METRICS or name.startswith("rabbitmq_") or name in extra
            or name in recorded_series())


def test_metric_helpers_see_through_promql():
    expr = ('histogram_quantile(0.95, sum by (route, le) (rate('
            'liudong_http_request_duration_seconds_bucket{route!="/api/v1/health", '
            'instance=~"$x"}[$__rate_interval]))) / on (service) group_left '
            'sum by (service) (up) > 1e3 and max(rabbitmq_queue_messages_ready offset 5m)')
    assert metric_names(expr) == {"liudong_http_request_duration_seconds_bucket", "up",
                                  "rabbitmq_queue_messages_ready"}
    assert set(label_problems('liudong_rpc_calls_total{outcome=~"timeout|gone", queue="x"}')) == {
        "liudong_rpc_calls_total has no label 'queue'",
        "liudong_rpc_calls_total: no outcome ['gone']"}


# == (a) YAML, compose, Kubernetes ===============================================================
def test_every_yaml_file_under_deploy_parses():
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))
    assert len(files) >= 15, files
    for path in files:
        docs = load_yaml(path)
        assert docs, f"{path} is empty"
        assert all(isinstance(doc, dict) for doc in docs), path


def test_the_list_matches_the_code():
    from services import SERVICE_CLASSES
    from services.plumbing import config
    assert set(SERVICE_CLASSES) == set(SERVICES), "deploy/ runs exactly SERVICE_CLASSES"
    assert config.DEFAULT_METRICS_PORTS == METRICS_PORTS
    code = "\n".join(p.read_text(encoding="utf-8") for p in source_files())
    for metric in METRICS:
        base = re.sub(r"_(total|bucket)$", "", metric)
        assert f'"{base}"' in code, f"no metric {base} in services/ or gateway/"
    for outcomes in OUTCOMES.values():
        for outcome in outcomes:
            assert f'"{outcome}"' in code
    for name in APP_ENV - set(DB_URL.values()) - {f"{p.upper()}_METRICS_PORT" for p in PROCESSES} \
            - {"RABBITMQ_MANAGEMENT_URL"}:
        assert f'"{name}"' in code, f"nothing reads {name}"
    assert "_DATABASE_URL" in code and "_METRICS_PORT" in code
    assert "RABBITMQ_MANAGEMENT_URL" in POLICY_SCRIPT.read_text()



def test_id_keys_go_only_where_they_may_be_read():
    """A service left without the ID keys must not read them: nothing in its package (for
    webhooks, gateway/webhooks/) names them. The container config carries them for every service
    (services/plumbing/config.py), with local-only defaults, so a missing key would not fail."""
    from services import SERVICE_CLASSES
    assert ID_KEY_PROCESSES < set(PROCESSES) and "members" in ID_KEY_PROCESSES
    for process in set(SERVICES) - ID_KEY_PROCESSES:
        package = REPO.joinpath(*SERVICE_CLASSES[process].split(":")[0].split(".")[:-1])
        for path in package.rglob("*.py"):
            if "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for name in ("ID_HASH_KEY", "ID_ENCRYPTION_KEY", "IdProtector", "id_numbers"):
                assert name not in text, \
                    f"{path.relative_to(REPO)} uses {name}: give {process} the ID keys"


# -- docker compose ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose():
    return load_yaml(COMPOSE_FILE)[0]["services"]


def _db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def test_compose_has_infrastructure_setup_processes_and_prometheus(compose):
    assert set(compose) == {"rabbitmq", "postgres", "setup", "prometheus", *PROCESSES}
    rabbit = compose["rabbitmq"]
    assert rabbit["image"].startswith("rabbitmq:3") and "management" in rabbit["image"]
    assert any(p.endswith(":15692") for p in rabbit["ports"]), "rabbitmq_prometheus port"
    mounts = {m.split(":")[1]: DEPLOY / m.split(":")[0]
              for m in rabbit["volumes"] if m.startswith("./")}
    assert "rabbitmq_prometheus" in mounts["/etc/rabbitmq/enabled_plugins"].read_text()
    assert any(target.startswith("/etc/rabbitmq/conf.d/") for target in mounts)
    assert "healthcheck" in rabbit and "healthcheck" in compose["postgres"]
    prometheus = compose["prometheus"]
    assert "./prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prometheus["command"]
    for name in PROCESSES + ("setup",):
        build = compose[name]["build"]
        assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).resolve() \
            == DEPLOY / "Dockerfile"


def test_compose_processes_run_their_commands_after_setup(compose):
    for process, command in PROCESS_COMMANDS.items():
        service = compose[process]
        assert service["command"] == command
        assert service["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}
        assert "setup" not in str(service["command"])
    setup = compose["setup"]
    assert setup["restart"] == "no"
    assert setup["depends_on"] == {"rabbitmq": {"condition": "service_healthy"},
                                   "postgres": {"condition": "service_healthy"}}
    assert setup["command"][:2] == ["sh", "-ec"]
    steps = [step.strip() for step in setup["command"][2].split("&&")]
    assert steps == [POLICY_CMD, TOPOLOGY_CMD, MIGRATE_CMD]


def test_compose_environment(compose):
    amqp = compose["setup"]["environment"]["AMQP_URI"]
    assert amqp.startswith("pyamqp://") and "@rabbitmq:5672/" in amqp
    setup_env = compose["setup"]["environment"]
    assert set(DB_URL.values()) <= set(setup_env)
    assert urlsplit(setup_env["RABBITMQ_MANAGEMENT_URL"]).hostname == "rabbitmq"
    for process in PROCESSES:
        env = compose[process]["environment"]
        assert set(env) <= APP_ENV, f"{process}: unknown {set(env) - APP_ENV}"
        assert env["AMQP_URI"] == amqp
        assert env[DB_URL[process]] == setup_env[DB_URL[process]]
        assert not (set(DB_URL.values()) - {DB_URL[process]}) & set(env), \
            f"{process} gets another process's database"
        port = METRICS_PORTS[process]
        assert env[f"{process.upper()}_METRICS_PORT"] == str(port)
        assert f"127.0.0.1:{port}:{port}" in compose[process]["ports"]
    for process in PROCESSES:
        env = set(compose[process]["environment"])
        if process in ID_KEY_PROCESSES:
            assert ID_KEYS <= env, process
        else:
            assert not ID_KEYS & env, f"{process} must not get the ID keys"
    gateway = compose["gateway"]["environment"]
    assert gateway["GATEWAY_HOST"] == "0.0.0.0"
    assert gateway["GATEWAY_PORT"] == str(GATEWAY_PORT)
    assert "GATEWAY_RPC_TIMEOUT_SECONDS" in gateway
    assert not ID_KEYS & set(gateway)
    assert set(setup_env) <= APP_ENV


def test_compose_databases_exist_in_the_postgres_init_script(compose):
    init_mount = next(m for m in compose["postgres"]["volumes"]
                      if "docker-entrypoint-initdb.d" in m)
    sql = (DEPLOY / init_mount.split(":")[0]).read_text()
    databases = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+);", sql))
    roles = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)';", sql))
    assert set(databases) == set(PROCESSES)
    for process in PROCESSES:
        url = urlsplit(compose["setup"]["environment"][DB_URL[process]])
        assert url.scheme == "postgresql+psycopg2" and url.hostname == "postgres"
        assert _db_name(url.geturl()) == process
        assert url.username == databases[process] and url.password == roles[url.username]


def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"pip install[^\n]* \.(\s|$)", text)
    assert "COPY deploy/rabbitmq/rpc_ttl_policy.py ./deploy/rabbitmq/rpc_ttl_policy.py" in text
    for port in [GATEWAY_PORT, *METRICS_PORTS.values()]:
        assert str(port) in re.search(r"^EXPOSE (.*)$", text, re.M).group(1)
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignore and "var" in ignore and ".git" in ignore


# -- Kubernetes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def k8s():
    kustomization = load_yaml(K8S / "kustomization.yaml")[0]
    objects = []
    for resource in kustomization["resources"]:
        objects += load_yaml(K8S / resource)
    return kustomization, objects


def _of_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _k8s_name(process):
    return process.replace("_", "-")


def _container_env(container, objects):
    """name -> ('value'|'secret'|'config', detail) of a container's environment."""
    env = {}
    configmaps = _of_kind(objects, "ConfigMap")
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        env.update({k: ("config", ref) for k in configmaps[ref]["data"]})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = ("value", item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = ("secret", (ref["name"], ref["key"]))
    return env


def test_kustomization_lists_every_manifest(k8s):
    kustomization, objects = k8s
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "liudong"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "liudong", obj["metadata"]["name"]
        # the README applies config -> setup -> service,gateway by this label
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] in {
            "config", "setup", "service", "gateway"}, obj["metadata"]["name"]
    kinds = sorted(o["kind"] for o in objects)
    assert kinds.count("Deployment") == len(PROCESSES)
    assert kinds.count("PodDisruptionBudget") == len(PROCESSES)
    assert {"Namespace", "ConfigMap", "Secret", "Job", "Service"} <= set(kinds)


def test_k8s_deployments_run_the_processes(k8s):
    _, objects = k8s
    deployments = _of_kind(objects, "Deployment")
    assert set(deployments) == {_k8s_name(p) for p in PROCESSES}
    configmap = _of_kind(objects, "ConfigMap")["liudong-config"]["data"]
    for process in PROCESSES:
        deployment = deployments[_k8s_name(process)]
        spec = deployment["spec"]
        assert spec["replicas"] == 2
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        template = spec["template"]
        assert spec["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["command"] == PROCESS_COMMANDS[process]
        assert container["image"].split(":")[0] == "liudong"
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][part]), process
        metrics_port = METRICS_PORTS[process]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(metrics_port)
        assert annotations["prometheus.io/path"] == "/metrics"
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == metrics_port
        assert configmap[f"{process.upper()}_METRICS_PORT"] == str(metrics_port)
        env = _container_env(container, objects)
        assert set(env) <= APP_ENV, f"{process}: unknown {set(env) - APP_ENV}"
        assert env["AMQP_URI"] == ("secret", ("liudong-secrets", "AMQP_URI"))
        assert env[DB_URL[process]] == ("secret", ("liudong-secrets", DB_URL[process]))
        assert not (set(DB_URL.values()) - {DB_URL[process]}) & set(env), \
            f"{process} gets another process's database"
        for setting in ("LIUDONG_MAX_WORKERS", "LIUDONG_EVENT_MAX_RETRIES"):
            assert setting in env
        # members' import worker processes: its setting, and room for a second core
        assert ("MEMBER_IMPORT_WORKERS" in env) == (process == "members")
        if process == "members":
            assert str(container["resources"]["limits"]["cpu"]) == "2"
        if process in ID_KEY_PROCESSES:
            assert ID_KEYS <= set(env), process
        else:
            assert not ID_KEYS & set(env), f"{process} must not get the ID keys"
        if process == "gateway":
            assert ports["http"] == GATEWAY_PORT
            assert configmap["GATEWAY_HOST"] == "0.0.0.0"
            assert configmap["GATEWAY_PORT"] == str(GATEWAY_PORT)
            assert "GATEWAY_RPC_TIMEOUT_SECONDS" in env
            assert not ID_KEYS & set(env)
            assert container["readinessProbe"]["httpGet"] == {"path": "/api/v1/openapi.json",
                                                              "port": "http"}
            assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
            assert "httpGet" not in container["livenessProbe"]
        else:
            # a process whose consumer is gone fails its probe (plumbing/probes.py)
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}


def test_k8s_setup_job_runs_policy_topology_migrate_in_order(k8s):
    _, objects = k8s
    (job,) = _of_kind(objects, "Job").values()
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    steps = pod.get("initContainers", []) + pod["containers"]
    assert [" ".join(c["command"]) for c in steps] == [POLICY_CMD, TOPOLOGY_CMD, MIGRATE_CMD]
    policy, topology, migrate = (_container_env(c, objects) for c in steps)
    assert {"AMQP_URI", "RABBITMQ_MANAGEMENT_URL"} <= set(policy)
    assert "AMQP_URI" in topology
    for process in PROCESSES:
        assert migrate[DB_URL[process]] == ("secret", ("liudong-secrets", DB_URL[process]))
    for env in (policy, topology, migrate):
        assert set(env) <= APP_ENV
    for container in steps:
        assert container["image"].split(":")[0] == "liudong"
        assert {"requests", "limits"} <= set(container["resources"])
    # the replicas never migrate: no Deployment runs topology or migrate
    for deployment in _of_kind(objects, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert not {"services.plumbing.migrate", "services.plumbing.topology"} \
                & set(container["command"])


def test_k8s_secret_and_config_references_resolve(k8s):
    _, objects = k8s
    (secret,) = _of_kind(objects, "Secret").values()
    values = secret["stringData"]
    assert {"AMQP_URI", "RABBITMQ_MANAGEMENT_URL", *DB_URL.values(), *ID_KEYS} <= set(values)
    for key, value in values.items():
        assert "CHANGE-ME" in value, f"{key} must be a clearly marked placeholder"
    for key in DB_URL.values():
        assert values[key].startswith("postgresql+psycopg2://")
    assert values["AMQP_URI"].startswith("pyamqp://")
    pods = [o["spec"]["template"]["spec"] for o in objects if o["kind"] in ("Deployment", "Job")]
    for pod in pods:
        for container in pod.get("initContainers", []) + pod["containers"]:
            for kind, detail in _container_env(container, objects).values():
                if kind == "secret":
                    assert detail[0] == secret["metadata"]["name"] and detail[1] in values


def test_k8s_gateway_service_and_disruption_budgets(k8s):
    _, objects = k8s
    deployments = _of_kind(objects, "Deployment")
    (service,) = _of_kind(objects, "Service").values()
    gateway_pod = deployments["gateway"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= gateway_pod["metadata"]["labels"].items()
    port_names = {p["name"] for p in gateway_pod["spec"]["containers"][0]["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    budgets = list(_of_kind(objects, "PodDisruptionBudget").values())
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets
                    if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, name
        assert 0 < matching[0]["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_compose_and_k8s_run_the_same_commands(compose, k8s):
    _, objects = k8s
    k8s_commands = sorted(c["command"] for d in _of_kind(objects, "Deployment").values()
                          for c in d["spec"]["template"]["spec"]["containers"])
    compose_commands = sorted(compose[p]["command"] for p in PROCESSES)
    assert k8s_commands == compose_commands == sorted(PROCESS_COMMANDS.values())


# -- Kubernetes monitoring (Prometheus Operator) -------------------------------------------------
@pytest.fixture(scope="module")
def monitoring():
    kustomization = load_yaml(MONITORING / "kustomization.yaml")[0]
    objects = []
    for resource in kustomization["resources"]:
        objects += load_yaml(MONITORING / resource)
    return kustomization, objects


def test_k8s_monitoring_is_its_own_kustomization(monitoring, k8s):
    """Applied apart: a cluster without the operator's CRDs must still take `kubectl apply -k
    deploy/k8s`."""
    kustomization, objects = monitoring
    files = {p.name for p in MONITORING.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "liudong"
    assert sorted(o["kind"] for o in objects) == ["PrometheusRule", "Service", "ServiceMonitor"]
    for obj in objects:
        assert obj["metadata"]["namespace"] == "liudong"
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "monitoring"
        if obj["kind"] != "Service":
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    platform_kinds = {o["kind"] for o in k8s[1]}
    assert not platform_kinds & {"ServiceMonitor", "PrometheusRule", "PodMonitor"}


def test_k8s_service_monitor_scrapes_every_process_pod(monitoring, k8s):
    _, objects = monitoring
    (service,) = _of_kind(objects, "Service").values()
    (monitor,) = _of_kind(objects, "ServiceMonitor").values()
    assert service["spec"]["clusterIP"] == "None"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == ["liudong"]
    (endpoint,) = monitor["spec"]["endpoints"]
    (port,) = service["spec"]["ports"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"
    # job = the process (LiudongProcessDown names it), from the pod's name label
    assert {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
            "targetLabel": "job"} in endpoint["relabelings"]
    selector = service["spec"]["selector"].items()
    for process in PROCESSES:
        pod = _of_kind(k8s[1], "Deployment")[_k8s_name(process)]["spec"]["template"]
        assert selector <= pod["metadata"]["labels"].items(), process
        assert "app.kubernetes.io/name" in pod["metadata"]["labels"]
        ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
        assert ports[port["targetPort"]] == METRICS_PORTS[process], process


def test_k8s_prometheus_rule_carries_the_repository_rules(monitoring, tmp_path):
    """Generated by deploy/prometheus/prometheusrule.py; promtool accepts its groups."""
    _, objects = monitoring
    (rule,) = _of_kind(objects, "PrometheusRule").values()
    assert rule["spec"]["groups"] == rule_groups(), \
        "run: python deploy/prometheus/prometheusrule.py"
    generator = _load(PROM / "prometheusrule.py", "prometheusrule")
    assert generator.build() == rule
    extracted = tmp_path / "rules.yml"
    extracted.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    out = run_promtool("check", "rules", str(extracted), cwd=tmp_path)
    assert f"{len(EXPECTED_ALERTS) + len(SLO_ALERTS) + len(recorded_series())} rules found" in out


# -- the RPC TTL policy script -------------------------------------------------------------------
def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_policy_script_sets_the_same_policy_as_the_local_run():
    policy = _load(POLICY_SCRIPT, "rpc_ttl_policy")
    infra = _load(DEPLOY / "local" / "infra.py", "local_infra")
    assert policy.POLICY["definition"] == json.loads(infra.RPC_TTL_POLICY)
    assert policy.POLICY["pattern"] == "^rpc-" and policy.POLICY["apply-to"] == "queues"
    assert f'"{policy.POLICY_NAME}"' in (DEPLOY / "local" / "infra.py").read_text()
    assert policy.vhost_of("pyamqp://guest:guest@rabbitmq:5672//") == "/"
    assert policy.vhost_of("pyamqp://u:p@rabbitmq:5672/liudong") == "liudong"
    assert policy.vhost_of("pyamqp://u:p@rabbitmq:5672") == "/"
    assert policy.vhost_of("pyamqp://u:p@rabbitmq:5672/%2Fprod") == "/prod"


def test_policy_script_puts_the_policy_through_the_management_api():
    policy = _load(POLICY_SCRIPT, "rpc_ttl_policy")
    seen = []
    status = {"code": 201}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers["Authorization"], json.loads(body)))
            self.send_response(status["code"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://ops:s%40cret@127.0.0.1:{server.server_port}/"
        policy.set_policy(url, "/", wait_seconds=5)
        path, auth, body = seen[0]
        assert path == "/api/policies/%2F/rpc-requests-expire"
        assert auth == "Basic " + base64.b64encode(b"ops:s@cret").decode()
        assert body == policy.POLICY
        status["code"] = 401
        with pytest.raises(SystemExit):
            policy.set_policy(url, "/", wait_seconds=5)
    finally:
        server.shutdown()
        server.server_close()


# == (b) promtool ================================================================================
def promtool_path() -> str:
    """A missing promtool fails the test (it is not skipped): CI installs it."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package "
                    "(apt-get install --no-install-recommends prometheus); CI must have it")
    return path


def run_promtool(*args, cwd=PROM):
    result = subprocess.run([promtool_path(), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.compose.yml"])
def test_promtool_check_config(config):
    out = run_promtool("check", "config", config)
    assert "alerts.yml" in out and "slo.yml" in out


def test_promtool_check_rules():
    out = run_promtool("check", "rules", "alerts.yml")
    assert f"{len(EXPECTED_ALERTS)} rules found" in out
    out = run_promtool("check", "rules", "slo.yml")
    assert f"{len(SLO_ALERTS) + len(recorded_series())} rules found" in out


@pytest.mark.parametrize("tests", sorted(RULE_TESTS))
def test_promtool_test_rules(tests):
    run_promtool("test", "rules", tests)


def _local_infra():
    return _load(DEPLOY / "local" / "infra.py", "local_infra")


def test_make_run_prometheus_config_is_the_documented_one(tmp_path, monkeypatch):
    """`make run` writes its config from deploy/local/infra.py: the same jobs, targets and rules
    as prometheus.yml, with the rule files by absolute path, and promtool accepts it."""
    for process in PROCESSES:
        monkeypatch.delenv(f"{process.upper()}_METRICS_PORT", raising=False)
    infra = _local_infra()
    argv = infra.prometheus_argv(tmp_path, infra.local_scrape_targets(), port=19090)
    flags = dict(arg.lstrip("-").split("=", 1) for arg in argv[1:] if "=" in arg)
    assert flags["storage.tsdb.path"] == str(tmp_path / "prometheus" / "data")
    assert flags["web.listen-address"] == "127.0.0.1:19090"
    written = load_yaml(Path(flags["config.file"]))[0]
    documented = load_yaml(PROM / "prometheus.yml")[0]
    assert written["scrape_configs"] == documented["scrape_configs"]
    assert written["global"] == documented["global"]
    assert written["rule_files"] == [str(PROM / name) for name in documented["rule_files"]]
    assert "slo.yml" in run_promtool("check", "config", flags["config.file"])


@pytest.mark.parametrize("config, hosts", [
    ("prometheus.yml", {p: "127.0.0.1" for p in (*PROCESSES, "rabbitmq")}),
    ("prometheus.compose.yml", {p: p for p in (*PROCESSES, "rabbitmq")}),
])
def test_prometheus_scrapes_every_process_and_the_broker(config, hosts):
    cfg = load_yaml(PROM / config)[0]
    assert cfg["rule_files"] == RULE_FILES
    jobs = {j["job_name"]: [t for s in j["static_configs"] for t in s["targets"]]
            for j in cfg["scrape_configs"]}
    expected = {p: [f"{hosts[p]}:{port}"] for p, port in METRICS_PORTS.items()}
    expected["rabbitmq"] = [f"{hosts['rabbitmq']}:15692"]
    assert jobs == expected


# == (c) Grafana =================================================================================
def _panels(panels):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


@pytest.fixture(scope="module")
def dashboard():
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _dashboard_queries(dashboard):
    """(where, PromQL) of every panel target and every query variable."""
    queries = []
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            where = f"panel {panel['id']} {panel['title']!r} {target['refId']}"
            queries.append((where, target["expr"]))
    return queries


def test_dashboard_panels_query_only_known_metrics(dashboard):
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert len(panels) >= 10
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    used = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    for where, expr in _dashboard_queries(dashboard):
        names = metric_names(expr)
        assert names, where
        unknown = {n for n in names if not allowed_metric(n)}
        assert not unknown, f"{where}: unknown metrics {unknown}"
        assert not label_problems(expr), f"{where}: {label_problems(expr)}"
        used |= names
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)", query)
            assert match, query
            assert allowed_metric(match.group(1))
            assert match.group(2) in METRICS[match.group(1)] | TARGET_LABELS
            used.add(match.group(1))
    # what the dashboard is for: requests, latency, RPC and entrypoint outcomes, outbox, parked
    # events, workers, broker queue depth
    assert {"liudong_http_requests_total", "liudong_http_request_duration_seconds_bucket",
            "liudong_rpc_calls_total", "liudong_entrypoint_calls_total",
            "liudong_outbox_backlog_events", "liudong_outbox_oldest_age_seconds",
            "liudong_events_parked_messages", "liudong_workers_in_use", "liudong_workers_max",
            "rabbitmq_queue_messages_ready"} <= used


def test_dashboard_shows_every_slo_and_the_desk_deadlines(dashboard):
    used = set()
    for _where, expr in _dashboard_queries(dashboard):
        used |= metric_names(expr)
    slis = {"liudong:gateway_write_errors", "liudong:gateway_slow_requests",
            "liudong:outbox_delayed", "liudong:desk_overdue_requests"}
    for sli in slis:
        assert any(name.startswith(sli + ":ratio") for name in used), f"no panel for {sli}"
    assert {"liudong_desk_open_requests", "liudong_desk_overdue_requests",
            "liudong_desk_requests_by_time_to_deadline"} <= used


def test_dashboard_queries_are_valid_promql(dashboard, tmp_path):
    rules = []
    for i, (_where, expr) in enumerate(_dashboard_queries(dashboard)):
        expr = re.sub(r"\$__\w+", "5m", expr)
        expr = re.sub(r"\$\{?\w+\}?", ".*", expr)
        rules.append({"record": f"dashboard:query_{i}", "expr": expr})
    rule_file = tmp_path / "dashboard_rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run_promtool("check", "rules", str(rule_file), cwd=tmp_path)


# == (d) alerts ==================================================================================
def rule_groups(*files):
    return [group for name in (files or RULE_FILES) for group in load_yaml(PROM / name)[0]["groups"]]


@pytest.fixture(scope="module")
def alert_rules():
    return {rule["alert"]: rule for group in rule_groups() for rule in group["rules"]
            if "alert" in rule}


def test_alerts_use_only_known_metrics(alert_rules):
    assert set(alert_rules) == EXPECTED_ALERTS | SLO_ALERTS
    for name, rule in alert_rules.items():
        names = metric_names(rule["expr"])
        assert names, name
        unknown = {n for n in names if not allowed_metric(n, extra={"up"})}
        assert not unknown, f"{name}: unknown metrics {unknown}"
        assert not label_problems(rule["expr"]), f"{name}: {label_problems(rule['expr'])}"
    assert metric_names(alert_rules["LiudongProcessDown"]["expr"]) == {"up"}
    assert metric_names(alert_rules["LiudongBrokerQueueGrowing"]["expr"]) == {
        "rabbitmq_queue_messages_ready"}


def test_alerts_have_severity_and_a_runbook_in_the_readme(alert_rules):
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    anchors = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", readme, re.M)}
    for name, rule in alert_rules.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        path, anchor = annotations["runbook_url"].split("#")
        assert path == "deploy/README.md" and anchor == name.lower(), name
        assert anchor in anchors, f"no runbook section for {name} in deploy/README.md"
    assert "python -m services.plumbing.deadletters replay --consumer" in readme
    assert "python -m services.plumbing.deadletters list" in readme


def test_every_alert_has_firing_and_quiet_unit_tests(alert_rules):
    fired, quiet = set(), set()
    for test_file, rule_file in RULE_TESTS.items():
        tests = load_yaml(PROM / test_file)[0]
        assert tests["rule_files"] == [rule_file]
        for case in tests["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
            for series in case["input_series"]:
                metric = re.match(r"[\w:]+", series["series"]).group(0)
                assert metric in METRICS or metric.startswith("rabbitmq_") or metric == "up", \
                    metric
                assert not label_problems(series["series"]), series["series"]
    assert fired == set(alert_rules), f"never fired: {set(alert_rules) - fired}"
    assert quiet == set(alert_rules), f"never checked quiet: {set(alert_rules) - quiet}"


# Multi-window, multi-burn-rate (the SRE workbook): (long window, short window, burn rate).
FAST_BURN = [("1h", "5m", 14.4), ("6h", "30m", 6.0)]
SLOW_BURN = [("1d", "2h", 3.0), ("3d", "6h", 1.0)]
_BURN_TERM = re.compile(r"(liudong:\w+:ratio_(?:rate|avg))(\w+) > \(([\d.]+) \* ([\d.]+)\)")


def test_each_slo_records_every_window_and_alerts_on_two_burn_rates(alert_rules):
    """Each burn-rate alert pairs the workbook's windows with their burn rates, on one SLI and
    one error budget; the SLI is recorded over every window the alerts read."""
    recorded = recorded_series()
    budgets = {}
    for name in SLO_ALERTS:
        rule = alert_rules[name]
        terms = _BURN_TERM.findall(rule["expr"])
        assert len(terms) == 4, f"{name}: {rule['expr']}"
        series = {sli for sli, _window, _rate, _budget in terms}
        assert len(series) == 1, f"{name} mixes SLIs {series}"
        budget = {float(b) for *_rest, b in terms}
        assert len(budget) == 1 and 0 < budget.pop() < 0.1, name
        budgets.setdefault(rule["labels"]["slo"], set()).add(float(terms[0][3]))
        pairs = [(terms[i][1], terms[i + 1][1], float(terms[i][2])) for i in (0, 2)]
        assert all(terms[i][2] == terms[i + 1][2] for i in (0, 2)), name
        fast = name.endswith("FastBurn")
        assert pairs == (FAST_BURN if fast else SLOW_BURN), f"{name}: {pairs}"
        assert rule["labels"]["severity"] == ("critical" if fast else "warning"), name
        (sli,) = series
        for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
            assert f"{sli}{window}" in recorded, f"{sli}{window} is not recorded"
    assert len(budgets) == 4 and all(len(b) == 1 for b in budgets.values()), budgets
