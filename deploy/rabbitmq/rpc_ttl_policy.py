"""Set the RPC request TTL policy through the RabbitMQ management HTTP API (set-up step).

    python deploy/rabbitmq/rpc_ttl_policy.py

The same policy that `deploy/local/infra.py` sets with rabbitmqctl on a local broker: queues
matching `^rpc-` get message-ttl 30000, so an RPC request nobody consumed within 30 s (its caller
already answered HTTP 504) is dropped instead of being executed minutes later.

Containers have no rabbitmqctl (nor the broker's Erlang cookie), hence the HTTP API:
RABBITMQ_MANAGEMENT_URL (default http://guest:guest@localhost:15672) with the credentials of a
user tagged `policymaker` or `administrator`; the vhost is RABBITMQ_VHOST, else the one of
AMQP_URI. Standard library only. Idempotent: a PUT replaces the policy.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

POLICY_NAME = "rpc-requests-expire"
POLICY = {"pattern": "^rpc-", "definition": {"message-ttl": 30000}, "apply-to": "queues",
          "priority": 0}
DEFAULT_MANAGEMENT_URL = "http://guest:guest@localhost:15672"
DEFAULT_AMQP_URI = "pyamqp://guest:guest@localhost:5672//"


def vhost_of(amqp_uri: str) -> str:
    """kombu's convention: `...:5672//` is vhost "/", `...:5672/liudong` is "liudong"; of a
    failover list (`uri;uri;...`, one per cluster node, same vhost) the first."""
    path = urllib.parse.urlsplit(amqp_uri.split(";")[0]).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def policy_request(management_url: str, vhost: str) -> urllib.request.Request:
    parts = urllib.parse.urlsplit(management_url)
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    url = f"{base}/api/policies/{urllib.parse.quote(vhost, safe='')}/{POLICY_NAME}"
    request = urllib.request.Request(url, data=json.dumps(POLICY).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
    if parts.username:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return request


def set_policy(management_url: str, vhost: str, wait_seconds: float = 120) -> None:
    request = policy_request(management_url, vhost)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status in (200, 201, 204):
                    print(f"policy {POLICY_NAME} set on vhost {vhost!r}: {json.dumps(POLICY)}",
                          flush=True)
                    return
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403, 404):  # wrong credentials or vhost: waiting will not help
                sys.exit(f"cannot set policy {POLICY_NAME}: HTTP {exc.code} {exc.reason}")
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = str(exc)
        if time.monotonic() >= deadline:
            sys.exit(f"RabbitMQ management API not reachable within {wait_seconds}s: {error}")
        print(f"waiting for the RabbitMQ management API ({error})", flush=True)
        time.sleep(2)


def main() -> None:
    management_url = os.environ.get("RABBITMQ_MANAGEMENT_URL", DEFAULT_MANAGEMENT_URL)
    vhost = os.environ.get("RABBITMQ_VHOST") or vhost_of(os.environ.get("AMQP_URI",
                                                                         DEFAULT_AMQP_URI))
    set_policy(management_url, vhost, float(os.environ.get("RABBITMQ_WAIT_SECONDS", 120)))


if __name__ == "__main__":
    main()
