"""The gateway's RPC edge: a service that does not answer in time is a 504 (and the gateway
recovers), a service with no running consumer is a 503, a broker it cannot reach is a 503."""
import time
from contextlib import contextmanager

import eventlet
import pytest
from nameko.extensions import DependencyProvider
from nameko.runners import ServiceRunner

from gateway.server import build_gateway
from services.plumbing.rpc import rpc
from tests.fixtures import container_config

from .helpers import Http

pytestmark = pytest.mark.integration


@contextmanager
def running(service_class, amqp_uri, database_url="sqlite://"):
    """`service_class` standing in for members, consuming until the block ends."""
    runner = ServiceRunner(container_config("members", database_url, amqp_uri))
    runner.add_service(service_class)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


class SlowMembers:
    """Stands in for members: answers list_members only after a pause."""
    name = "members"
    pause = 3.0

    @rpc
    def list_members(self, caller, params):
        eventlet.sleep(SlowMembers.pause)
        return {"items": [], "next_cursor": None}


@pytest.fixture
def gateway_db(databases):
    return databases.url("gateway")


def office_key(gateway_db):
    from gateway import keys
    with keys.session_factory(gateway_db)() as session:
        _key, plain = keys.create_key(session, "office", "k", "00000000-0000-0000-0000-000000000001")
        session.commit()
    return plain


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_slow_service_is_504_and_the_next_call_still_works(amqp_uri, gateway_db):
    try:
        with running(SlowMembers, amqp_uri):
            gateway = build_gateway(amqp_uri, gateway_db)
            gateway.client.timeout = 1.0
            from werkzeug.test import Client
            http = Http(Client(gateway), office_key(gateway_db))
            started = time.monotonic()
            status, body = http.get("/api/v1/members")
            assert status == 504 and body["error"]["code"] == "service_timeout"
            assert time.monotonic() - started < 3
            SlowMembers.pause = 0
            status, body = http.get("/api/v1/members")
            assert status == 200 and body == {"items": [], "next_cursor": None}
    finally:
        SlowMembers.pause = 3.0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_unreachable_broker_is_503(gateway_db):
    gateway = build_gateway("pyamqp://guest:guest@127.0.0.1:1//", gateway_db)
    from werkzeug.test import Client
    http = Http(Client(gateway), office_key(gateway_db))
    status, body = http.get("/api/v1/members")
    assert status == 503 and body["error"]["code"] == "service_unavailable"
    status, health = http.get("/api/v1/health")
    assert status == 503 and health["broker"] == "unavailable"


def test_a_service_whose_database_is_away_answers_503_with_retry_after(amqp_uri, gateway_db):
    """Connection-level database errors are the service's `Unavailable`, never a 500: the
    transaction rolled back, the client may retry (with its Idempotency-Key)."""
    from werkzeug.test import Client

    from services.members.service import MembersService
    with running(MembersService, amqp_uri,
                 "postgresql+psycopg2://postgres@127.0.0.1:1/nobody_listens"):
        gateway = build_gateway(amqp_uri, gateway_db)
        client = Client(gateway)
        headers = {"Authorization": f"Bearer {office_key(gateway_db)}"}
        response = client.get("/api/v1/members", headers=headers)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["error"]["code"] == "service_unavailable"
        assert response.headers["Retry-After"] == "5"
        response = client.post("/api/v1/members", headers=headers | {"Idempotency-Key": "k1"},
                               json={"name": "张三"})
        assert response.status_code in (400, 503)  # never a 500
        assert "Traceback" not in response.get_data(as_text=True)


def test_an_unreachable_broker_tells_the_client_when_to_retry(amqp_uri, gateway_db):
    from werkzeug.test import Client
    gateway = build_gateway("pyamqp://guest:guest@127.0.0.1:1//", gateway_db)
    response = Client(gateway).get("/api/v1/members", headers={
        "Authorization": f"Bearer {office_key(gateway_db)}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"


class EchoMembers:
    name = "members"

    @rpc
    def list_members(self, caller, params):
        return {"items": [params], "next_cursor": None}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_replies_go_without_publisher_confirms_and_arrive(amqp_uri, gateway_db, monkeypatch):
    """Issue 13: a confirm per reply was a broker round trip per call and promised little (the
    reply queue is the caller's, non-durable). Replies go on one channel per process, never in
    confirm mode; every reply still reaches its caller, also after that channel's connection
    broke (it is replaced and the reply sent again)."""
    import nameko.amqp.publish

    from services.plumbing.rpc import reply_channel
    producers = []
    real_get_producer = nameko.amqp.publish.get_producer

    def recording_get_producer(amqp_uri, confirms=True, *args, **kwargs):
        producers.append(confirms)
        return real_get_producer(amqp_uri, confirms, *args, **kwargs)

    monkeypatch.setattr(nameko.amqp.publish, "get_producer", recording_get_producer)
    with running(EchoMembers, amqp_uri):
        gateway = build_gateway(amqp_uri, gateway_db)
        answers = [gateway.client.call("members", "list_members", {}, {"n": n}) for n in range(5)]
        assert [a["items"][0]["n"] for a in answers] == list(range(5))
        assert producers == []  # the gateway's requests go on its own channels: none confirmed
        assert not any(caller.channel._confirm_selected for caller in gateway.client._pool._idle)
        replies = reply_channel(amqp_uri)
        assert replies._channel is not None and not replies._channel._confirm_selected
        replies._connection.connection.transport.sock.close()  # as if the broker dropped it
        assert gateway.client.call("members", "list_members", {}, {"n": 5})["items"] == [{"n": 5}]


class ContextValue(DependencyProvider):
    def __init__(self, key):
        self.key = key

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get(self.key)


class ContextMembers:
    """Answers with what reached its worker's context from the call's headers."""
    name = "members"
    trace_id = ContextValue("request_id")
    idempotency_key = ContextValue("idempotency_key")

    @rpc
    def list_members(self, caller, params):
        return {"items": [{"trace": self.trace_id, "key": self.idempotency_key}],
                "next_cursor": None}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_trace_id_and_idempotency_key_reach_the_service(amqp_uri, gateway_db):
    with running(ContextMembers, amqp_uri):
        gateway = build_gateway(amqp_uri, gateway_db)
        answer = gateway.client.call("members", "list_members", {}, {}, trace_id="t-1",
                                     idempotency_key="k-1")
        assert answer["items"] == [{"trace": "t-1", "key": "k-1"}]
        # the pooled caller carries nothing over to the next call
        answer = gateway.client.call("members", "list_members", {}, {})
        assert answer["items"] == [{"trace": None, "key": None}]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_request_no_queue_takes_is_503_at_once(amqp_uri, gateway_db):
    """Issue 13: requests go `mandatory`, so one for a service whose queue does not exist comes
    back from the broker at once: a 503 without waiting for the timeout."""
    gateway = build_gateway(amqp_uri, gateway_db)
    gateway.client.timeout = 5.0
    from gateway.rpc import ServiceUnavailable
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="nobody_runs_this is not running"):
        gateway.client.call("nobody_runs_this", "anything", {})
    assert time.monotonic() - started < 2
    assert len(gateway.client._pool._idle) == 1   # the caller is fine and kept


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_stray_reply_is_not_taken_for_the_answer(amqp_uri, gateway_db):
    """A reply to an earlier call (a redelivered request answered twice) waits in the reply
    queue of a pooled caller: the next call on that caller still gets its own answer."""
    from services.plumbing.rpc import reply_channel
    with running(EchoMembers, amqp_uri):
        gateway = build_gateway(amqp_uri, gateway_db)
        assert gateway.client.call("members", "list_members", {}, {"n": 1})["items"] == [{"n": 1}]
        caller = gateway.client._pool._idle[0]
        reply_channel(amqp_uri).publish(
            b'{"result": {"items": [{"n": "stale"}]}, "error": null}', "application/json",
            "utf-8", "nameko-rpc", caller.reply_to, "an-earlier-call")
        assert gateway.client.call("members", "list_members", {}, {"n": 2})["items"] == [{"n": 2}]
