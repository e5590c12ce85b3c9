"""Fixtures over real infrastructure: a RabbitMQ vhost per test session and real databases
(PostgreSQL, and SQLite files) per test, migrated with the services' own Alembic migrations.

`make test` starts RabbitMQ and a throw-away PostgreSQL cluster and exports LIUDONG_TEST_PG_URL;
nothing here is a mock.
"""
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import create_engine, text

from services import SERVICE_CLASSES
from services.plumbing import topology
from services.plumbing.config import CONTAINER_CLS
from services.plumbing.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("LIUDONG_TEST_PG_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:55432/postgres")
INFRA = [sys.executable, str(REPO / "deploy" / "local" / "infra.py")]


def free_port() -> int:
    """A loopback port nobody listens on now (for processes and receivers a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = ""):
    """Poll until `predicate()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def amqp_uri():
    """A fresh vhost with the whole topology declared, deleted at the end of the session."""
    vhost = f"liudong-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(INFRA + ["vhost-add", vhost], check=True)
    uri = f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
    classes = [topology.load_service_class(p) for p in SERVICE_CLASSES.values()]
    with Connection(uri) as conn:
        topology.declare(conn, classes)
    yield uri
    subprocess.run(INFRA + ["vhost-delete", vhost], check=False)


@pytest.fixture(scope="session")
def pg_admin_engine():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (run the tests with "
                    f"`make test`, which starts it): {exc}")
    yield engine
    engine.dispose()


class Databases:
    """Creates one migrated database per service (and the gateway) on a backend."""

    def __init__(self, backend: str, tmp_path: Path, pg_admin_engine=None):
        self.backend = backend
        # databases are created next to the admin connection's (a test may bring its own cluster)
        self.server_url = (pg_admin_engine.url.render_as_string(hide_password=False).rsplit("/", 1)[0]
                           if pg_admin_engine is not None else None)
        self.tmp_path = tmp_path
        self.pg_admin_engine = pg_admin_engine
        self.created: list[str] = []
        self.urls: dict[str, str] = {}

    def url(self, name: str) -> str:
        if name not in self.urls:
            if self.backend == "postgresql":
                db_name = f"t_{uuid.uuid4().hex[:10]}_{name}"
                with self.pg_admin_engine.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{db_name}"'))
                self.created.append(db_name)
                self.urls[name] = self.server_url + "/" + db_name
            else:
                self.urls[name] = f"sqlite:///{self.tmp_path / (name + '.db')}"
            upgrade(name, self.urls[name])
        return self.urls[name]

    def drop_all(self):
        if self.backend != "postgresql":
            return
        with self.pg_admin_engine.connect() as conn:
            for db_name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request):
    return request.param


@pytest.fixture
def databases(backend, tmp_path, request):
    admin = request.getfixturevalue("pg_admin_engine") if backend == "postgresql" else None
    dbs = Databases(backend, tmp_path, admin)
    yield dbs
    dbs.drop_all()


def container_config(service: str, database_url: str, amqp_uri: str, **overrides) -> dict:
    config = {
        "AMQP_URI": amqp_uri, "DATABASE_URL": database_url, "METRICS_PORT": None,
        "max_workers": 10, "PARENT_CALLS_TRACKED": 10,
        "SERVICE_CONTAINER_CLS": CONTAINER_CLS,
        "EVENT_MAX_RETRIES": 2, "EVENT_RETRY_BASE_SECONDS": 0.1, "OUTBOX_POLL_SECONDS": 0.1,
        # Imports check their rows in the service (tests that import big files start a worker).
        "MEMBER_IMPORT_WORKERS": 0,
        "ID_HASH_KEY": "test-hash-key",
        "ID_ENCRYPTION_KEY": "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA=",
    }
    config.update(overrides)
    return config


class Platform:
    """The four services running in-process (one nameko runner each, like separate processes)
    on real databases and a real broker, plus the gateway app driven through werkzeug's client."""

    def __init__(self, databases: Databases, amqp_uri: str):
        self.databases = databases
        self.amqp_uri = amqp_uri
        self.runners = {}
        self._gateway = None

    def start(self, *services, **config_overrides):
        from nameko.runners import ServiceRunner
        for service in services or SERVICE_CLASSES:
            cls = topology.load_service_class(SERVICE_CLASSES[service])
            runner = ServiceRunner(container_config(
                service, self.databases.url(service), self.amqp_uri,
                **config_overrides.get(service, {})))
            runner.add_service(cls)
            runner.start()
            self.runners[service] = runner
        return self

    def stop(self, *services):
        """Stops in parallel: each nameko consumer takes about a second to let go of its queue."""
        import eventlet
        runners = [self.runners.pop(s) for s in (services or list(self.runners)) if s in self.runners]
        for thread in [eventlet.spawn(runner.stop) for runner in runners]:
            thread.wait()

    def container(self, service: str):
        return next(iter(self.runners[service].containers))

    def engine(self, service: str):
        return create_engine(self.databases.url(service))

    def scalar(self, service: str, sql: str, **params):
        engine = self.engine(service)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    # -- the gateway, in-process ----------------------------------------------------------------
    @property
    def gateway(self):
        if self._gateway is None:
            from gateway.server import build_gateway
            self._gateway = build_gateway(self.amqp_uri, self.databases.url("gateway"))
            self._gateway.client.timeout = 10.0
        return self._gateway

    def http(self):
        from werkzeug.test import Client
        return Client(self.gateway)

    def key(self, role: str, org_id: str | None, name: str = "test key") -> str:
        from gateway import keys
        sessions = keys.session_factory(self.databases.url("gateway"))
        with sessions() as session:
            _key, plain = keys.create_key(session, role, name, org_id)
            session.commit()
        return plain


def purge_event_queues(amqp_uri: str) -> None:
    """Tests share one vhost: events an earlier test left unconsumed must not leak into the next."""
    classes = [topology.load_service_class(p) for p in SERVICE_CLASSES.values()]
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for sub in topology.all_subscriptions(classes):
            for name in (sub.queue_name, sub.parked_queue_name):
                channel.queue_purge(name)
        # the retry delays of the test containers (container_config), declared if not yet used
        settings = container_config("any", "", amqp_uri)
        for delay_ms in topology.retry_delays_ms(settings["EVENT_MAX_RETRIES"],
                                                 settings["EVENT_RETRY_BASE_SECONDS"]):
            topology.retry_queue(delay_ms)(channel).declare()
            channel.queue_purge(topology.retry_queue(delay_ms).name)
        channel.close()


@pytest.fixture
def platform(databases, amqp_uri):
    purge_event_queues(amqp_uri)
    running = Platform(databases, amqp_uri)
    yield running
    running.stop()


@contextmanager
def broker_stopped():
    """Stops the RabbitMQ application (the node stays up to be started again)."""
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "await_startup"], check=False, capture_output=True)
