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
        # The ID-number protection keys; the defaults are for local runs only.
        "ID_HASH_KEY": os.environ.get("LIUDONG_ID_HASH_KEY", "local-only-id-hash-key"),
        "ID_ENCRYPTION_KEY": os.environ.get(
            "LIUDONG_ID_ENCRYPTION_KEY", "bG9jYWwtb25seS1pZC1lbmNyeXB0aW9uLWtleS0wMDA="),
    }
