"""The OpenAPI document covers every route, role, schema, error and auth requirement, the docs
page renders it without any external resource, and schemathesis (every check) finds nothing
against the running gateway."""
import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import eventlet
import pytest

from gateway.openapi import ERRORS, build_document
from gateway.routes import ROUTES

from .helpers import Http, build_world
from .test_gateway_request_edges import served as served_on_a_port

pytestmark = pytest.mark.integration
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def openapi_path(route) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", route.path)


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_document_covers_every_route_role_error_and_schema():
    document = build_document()
    schemas = document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for route in ROUTES:
        operation = document["paths"][openapi_path(route)][route.method.lower()]
        assert operation["operationId"] == route.name
        assert operation["x-roles"] == list(route.roles)
        if route.public:
            assert operation["security"] == []
        else:
            assert operation["security"] == [{"bearerAuth": []}]
            for role in route.roles:
                assert f"`{role}`" in operation["description"]
            assert {"401", "403"} <= set(operation["responses"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        assert {"400", "503", "504"} <= set(operation["responses"])
        assert str(route.status) in operation["responses"]
        if route.body:
            assert "413" in operation["responses"]
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            target = schemas[body["$ref"].rsplit("/", 1)[1]]
            assert target.get("additionalProperties") is False
        if route.response:
            assert operation["responses"][str(route.status)]["content"]
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert set(ERRORS) <= {code for p in document["paths"].values() for op in p.values()
                           for code in op["responses"]}
    # the fields a caller may never set are named
    create_member = document["paths"]["/api/v1/members"]["post"]
    assert "id" in create_member["x-server-controlled-fields"]
    assert "Server-controlled fields" in create_member["description"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_docs_page_renders_the_document_without_external_resources(platform):
    http = platform.http()
    response = http.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    # Swagger UI from the swagger-ui-bundle package, served by the gateway itself
    assert "/api/v1/docs/swagger-ui-bundle.js" in page and "/api/v1/docs/docs-init.js" in page
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs-init.js"):
        served = http.get(f"/api/v1/docs/{asset}")
        assert served.status_code == 200 and "max-age" in served.headers["Cache-Control"], asset
    assert "/api/v1/openapi.json" in http.get("/api/v1/docs/docs-init.js").get_data(as_text=True)
    assert http.get("/api/v1/docs/../../keys.py").status_code == 404
    served_document = json.loads(http.get("/api/v1/openapi.json").get_data())
    assert served_document["paths"].keys() == build_document()["paths"].keys()


# Every check runs. One is configured: `positive_data_acceptance` assumes that any input valid
# against the JSON Schema is accepted, but some rules cannot be said in JSON Schema (an ID
# number's check digit, a cursor must be one this API returned, closes_on after opens_on, an
# org id must name an existing unit); the API answers those with a 400 naming the field, which
# is what it should do, so 400 is among the expected answers of that one check.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
"""


@contextmanager
def served(gateway):
    """The gateway on its real HTTP server (gateway.server.serve, with its own 414)."""
    with served_on_a_port(gateway) as port:
        yield f"http://127.0.0.1:{port}"


def run_schemathesis(base_url: str, key: str, tmp_path, *extra) -> tuple[int, str]:
    """The schemathesis CLI, every check, against the served gateway. The gateway is served by
    green threads of this very process, so wait for the CLI without blocking the hub."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    log = tmp_path / f"schemathesis-{key[3:19]}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [SCHEMATHESIS, "--config-file", str(config), "run",
             f"{base_url}/api/v1/openapi.json", "--checks", "all",
             "-H", f"Authorization: Bearer {key}", "--workers", "1",
             "--suppress-health-check", "all", "--request-timeout", "20",
             "--exclude-path", "/api/v1/health", "--no-color", "--seed", "1", *extra],
            stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            eventlet.sleep(0.1)
    return proc.returncode, log.read_text()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_schemathesis_finds_nothing(platform, tmp_path):
    """An office key and a desk key over every operation (explicit examples and fuzzing); an
    admin key over the gateway's own operations and org units with the coverage phase too
    (boundary and invalid values of every parameter)."""
    platform.start()
    world = build_world(platform)
    from gateway.ratelimit import RateLimits
    platform.gateway.rate_limits = RateLimits(default="100000/minute")
    admin = world["admin"]
    quick = ("--phases", "examples,fuzzing", "--max-examples", "5")
    runs = {
        "office": (world["a"]["office"].key, quick),
        "desk_staff": (world["a"]["desk"].key, quick),
        "admin": (admin.key, ("--phases", "examples,coverage,fuzzing", "--max-examples", "5",
                              "--include-tag-regex", "^(keys|staff|audit|org units|webhooks)$")),
    }
    failed = {}
    with served(platform.gateway) as base_url:
        for role, (key, extra) in runs.items():
            code, output = run_schemathesis(base_url, key, tmp_path, *extra)
            if code != 0:
                failed[role] = output[-8000:]
    assert not failed, "\n\n".join(f"schemathesis as {r}:\n{o}" for r, o in failed.items())
    assert Http(admin.client, admin.key).get("/api/v1/org-units")[0] == 200
