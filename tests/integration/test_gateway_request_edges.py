"""What the gateway refuses before a service sees it, each in the one JSON error format: bodies
nested too deep, objects with a key twice, bodies not sent as application/json (415), URLs over
8 KB (414, from the real HTTP server); JSON answers carry `X-Content-Type-Options: nosniff`, and
CORS follows the allow-list in configuration (preflight answered without a key); replies leave
without Nagle's delay."""
import json
import socket
from contextlib import contextmanager

import eventlet
import pytest

from gateway.cors import CorsPolicy
from gateway.server import GatewayProtocol, serve

from .helpers import build_world, id_number

pytestmark = pytest.mark.integration


@pytest.fixture
def world(platform):
    platform.start("members")
    return build_world(platform)


def member_body(side, serial):
    return {"name": f"党员{serial}", "id_number": id_number(serial), "phone": "13800001234",
            "home_org_id": side["township"], "host_org_id": side["branch"]}


def members_of(platform):
    return platform.scalar("members", "SELECT count(*) FROM members")


def error_of(response):
    assert response.mimetype == "application/json", response.headers
    return json.loads(response.get_data())["error"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_deeply_nested_json_is_400(platform, world):
    office = world["a"]["office"]
    for raw in ("[" * 100_000, '{"a":' * 50_000, '{"name": ' + "[" * 40 + "]" * 40 + "}"):
        status, body = office.post("/api/v1/members", raw=raw)
        assert status == 400, body
        assert body["error"]["code"] == "malformed_json"
    assert members_of(platform) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_duplicate_keys_are_400_not_last_value_wins(platform, world):
    a = world["a"]
    raw = json.dumps(member_body(a, 1))[:-1] + ', "name": "另一个名字"}'
    status, body = a["office"].post("/api/v1/members", raw=raw)
    assert status == 400 and body["error"]["fields"] == {"name": ["appears more than once"]}
    assert members_of(platform) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_body_not_sent_as_json_is_415(platform, world):
    a = world["a"]
    http = platform.http()
    auth = {"Authorization": f"Bearer {a['office'].key}"}
    raw = json.dumps(member_body(a, 2))
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", None,
                         "application/json; charset=latin-1"):
        headers = dict(auth, **({"Content-Type": content_type} if content_type else {}))
        response = http.post("/api/v1/members", data=raw, headers=headers)
        assert response.status_code == 415, (content_type, response.get_data())
        assert error_of(response)["code"] == "unsupported_media_type"
    assert members_of(platform) == 0
    for content_type in ("application/json", "application/json; charset=UTF-8"):
        response = http.post("/api/v1/members", data=json.dumps(member_body(a, 3 + len(content_type))),
                             headers=dict(auth, **{"Content-Type": content_type}))
        assert response.status_code == 201, response.get_data()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_json_answers_say_nosniff(platform, world):
    http = platform.http()
    office = {"Authorization": f"Bearer {world['a']['office'].key}"}
    for response in (http.get("/api/v1/org-units", headers=office),
                     http.get("/api/v1/members/nobody", headers=office),
                     http.get("/api/v1/org-units"), http.get("/api/v1/openapi.json"),
                     http.get("/api/v1/no-such-route")):
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_cors_follows_the_allow_list_and_answers_preflights(platform, world):
    platform.gateway.cors = CorsPolicy({"https://portal.example.cn"})
    http = platform.http()
    preflight = {"Origin": "https://portal.example.cn", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    response = http.options("/api/v1/members", headers=preflight)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://portal.example.cn"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= {
        h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    # another origin, a method the route does not take, a route that does not exist
    response = http.options("/api/v1/members", headers=dict(preflight, Origin="https://evil.example"))
    assert response.status_code == 403 and error_of(response)["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    response = http.options("/api/v1/members",
                            headers=dict(preflight, **{"Access-Control-Request-Method": "PUT"}))
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert http.options("/api/v1/nothing", headers=preflight).status_code == 404
    # the actual request: readable by the allowed origin only
    office = {"Authorization": f"Bearer {world['a']['office'].key}"}
    response = http.get("/api/v1/org-units", headers=dict(office, Origin="https://portal.example.cn"))
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://portal.example.cn"
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]
    response = http.get("/api/v1/org-units", headers=dict(office, Origin="https://evil.example"))
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_origin_is_allowed_unless_configured(monkeypatch):
    monkeypatch.delenv("GATEWAY_CORS_ORIGINS", raising=False)
    assert not CorsPolicy().allows("https://portal.example.cn")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example.cn, https://b.example.cn/")
    assert CorsPolicy().allows("https://b.example.cn")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "*")
    with pytest.raises(ValueError):
        CorsPolicy()


@contextmanager
def served(gateway):
    listener = eventlet.listen(("127.0.0.1", 0))
    server = eventlet.spawn(serve, listener, gateway, 10)
    try:
        yield listener.getsockname()[1]
    finally:
        server.kill()
        listener.close()


def raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_url_over_8_kb_is_414_in_the_json_error_format(platform):
    platform.start("members")
    with served(platform.gateway) as port:
        answer = eventlet.spawn(raw_http, port, b"GET /api/v1/org-units?name=" + b"x" * 9000
                                + b" HTTP/1.1\r\nHost: x\r\n\r\n").wait()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414"), head
        assert b"Content-Type: application/json" in head
        assert json.loads(body)["error"]["code"] == "uri_too_long"
        # a URL under the limit is served as usual
        answer = eventlet.spawn(raw_http, port, b"GET /api/v1/org-units?name=" + b"x" * 7000
                                + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").wait()
        assert answer.startswith(b"HTTP/1.1 401"), answer[:100]


def test_replies_leave_without_nagles_delay():
    """A reply over eventlet's 16 KiB write buffer leaves in two sends; with Nagle's algorithm
    the second waited up to 40 ms for the client's delayed ACK of the first (a list page of
    fifty members took 50 ms, bench/README.md). The gateway's connections send at once."""
    listener = eventlet.listen(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    connection, _address = listener.accept()
    try:
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        protocol = GatewayProtocol.__new__(GatewayProtocol)  # its setup() alone, on a real socket
        protocol.request = connection
        protocol.setup()
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for sock in (client, connection, listener):
            sock.close()
