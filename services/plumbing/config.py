"""Configuration from the environment, one place for every process.

Every setting has a default that works for `make run` on one machine; production and the test
suite override them with environment variables.
"""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("LIUDONG_VAR_DIR", REPO_ROOT / "var"))

DEFAULT_AMQP_URI = "pyamqp://guest:guest@localhost:5672//"
CONTAINER_CLS = "services.plumbing.container.ResilientServiceContainer"

# Ports of the Prometheus endpoints in a local run; each process has its own.
DEFAULT_METRICS_PORTS = {"gateway": 9100, "members": 9101, "services_desk": 9102, "donations": 9103,
                         "webhooks": 9104}


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else a SQLite file per service under var/."""
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / (service + '.db')}"


def metrics_port(process: str):
    """`<PROCESS>_METRICS_PORT`; 0 picks a free port, "off" serves none (in-process tests)."""
    raw = os.environ.get(f"{process.upper()}_METRICS_PORT")
    if raw is None:
        return DEFAULT_METRICS_PORTS.get(process, 0)
    if raw.lower() == "off":
        return None
    return int(raw)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def event_retry_settings() -> tuple[int, float]:
    """(retries before parking, base delay in seconds); the topology step declares a retry queue
    for each of the delays these give."""
    return (env_int("LIUDONG_EVENT_MAX_RETRIES", 5),
            env_float("LIUDONG_EVENT_RETRY_BASE_SECONDS", 1.0))


# Service-specific settings a deployment may set in the environment; they reach the container
# config under the same name, and each service reads them with its own default.
SERVICE_SETTINGS = ("DESK_SWEEP_SECONDS", "DESK_WARNING_SHARE", "DONATION_MAX_AMOUNT",
                    "DONATION_CLOSING_SECONDS", "MEMBER_IMPORT_WORKERS",
                    "WEBHOOK_POLL_SECONDS", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_MAX_ATTEMPTS",
                    "WEBHOOK_RETRY_BASE_SECONDS", "WEBHOOK_RETRY_MAX_SECONDS",
                    "WEBHOOK_ALLOWED_NETWORKS")


def service_config(service: str) -> dict:
    """The nameko container config of one service process."""
    settings = {name: os.environ[name] for name in SERVICE_SETTINGS if name in os.environ}
    return settings | {
        "AMQP_URI": amqp_uri(),
        "DATABASE_URL": database_url(service),
        "METRICS_PORT": metrics_port(service),
        "max_workers": env_int("LIUDONG_MAX_WORKERS", 10),
        "PARENT_CALLS_TRACKED": 10,
        # Survives broker and database errors in message threads (see plumbing/container.py).
        "SERVICE_CONTAINER_CLS": CONTAINER_CLS,
        # A failing event handler is retried this many times, with delays of
        # EVENT_RETRY_BASE_SECONDS * 2**attempt, then parked in its dead-letter queue.
        "EVENT_MAX_RETRIES": event_retry_settings()[0],
        "EVENT_RETRY_BASE_SECONDS": event_retry_settings()[1],
        "OUTBOX_POLL_SECONDS": env_float("LIUDONG_OUTBOX_POLL_SECONDS", 0.5),
        # The relay starts at most one batch this often, to batch events (issue 13).
        "OUTBOX_LINGER_SECONDS": env_float("LIUDONG_OUTBOX_LINGER_SECONDS", 0.02),
    } | (id_keys() if service in ID_KEY_SERVICES else {})


# -- the ID-number keys ----------------------------------------------------------------------------
# Only members reads ID numbers; the others never get the keys.
ID_KEY_SERVICES = ("members",)
# Built-in keys for a throw-away platform on one machine (`make run`, docker compose, the
# tests): allowed only where LIUDONG_LOCAL_RUN=1, never anywhere real data lives.
LOCAL_ID_HASH_KEY = "local-only-id-hash-key"
LOCAL_ID_ENCRYPTION_KEY = "bG9jYWwtb25seS1pZC1lbmNyeXB0aW9uLWtleS0wMDA="
MIN_HASH_KEY_LENGTH = 32


class MissingIdKeys(SystemExit):
    """A process that would protect ID numbers with no key, a placeholder or a local-only key
    outside a local run stops at start-up with this one message."""


def local_run() -> bool:
    return os.environ.get("LIUDONG_LOCAL_RUN") == "1"


def id_keys(hash_env: str = "LIUDONG_ID_HASH_KEY",
            encryption_env: str = "LIUDONG_ID_ENCRYPTION_KEY") -> dict:
    """{"ID_HASH_KEY", "ID_ENCRYPTION_KEY"} from those environment variables, checked: a key must
    be set (outside a local run), not a placeholder (CHANGE-ME), not a local-only key outside a
    local run; the hash key at least 32 characters, the encryption key 32 url-safe base64-encoded
    bytes."""
    import base64
    import binascii
    hash_key = os.environ.get(hash_env)
    encryption_key = os.environ.get(encryption_env)
    if hash_key is None and encryption_key is None and local_run():
        return {"ID_HASH_KEY": LOCAL_ID_HASH_KEY, "ID_ENCRYPTION_KEY": LOCAL_ID_ENCRYPTION_KEY}
    problems = []
    for name, value, local in ((hash_env, hash_key, LOCAL_ID_HASH_KEY),
                               (encryption_env, encryption_key, LOCAL_ID_ENCRYPTION_KEY)):
        if not value:
            problems.append(f"{name} is not set")
        elif "CHANGE-ME" in value.upper():
            problems.append(f"{name} is still the placeholder from deploy/k8s/secret.yaml")
        elif value == local and not local_run():
            problems.append(f"{name} is the built-in local-only key")
    if hash_key and not problems and hash_key != LOCAL_ID_HASH_KEY \
            and len(hash_key) < MIN_HASH_KEY_LENGTH:
        problems.append(f"{hash_env} needs at least {MIN_HASH_KEY_LENGTH} characters")
    if encryption_key and not problems:
        try:
            valid = len(base64.urlsafe_b64decode(encryption_key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            problems.append(f"{encryption_env} must be 32 url-safe base64-encoded bytes")
    if problems:
        raise MissingIdKeys("refusing to start: " + "; ".join(problems) + " (see deploy/README.md, "
                            "'ID-number keys'; LIUDONG_LOCAL_RUN=1 allows built-in keys on a "
                            "throw-away local platform)")
    return {"ID_HASH_KEY": hash_key, "ID_ENCRYPTION_KEY": encryption_key}
