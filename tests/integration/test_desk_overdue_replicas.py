"""`request_overdue` leaves exactly once per request although two replicas of the desk run the
sweep timer against the same database, again and again (a conditional UPDATE decides)."""
import pytest
from nameko.runners import ServiceRunner
from sqlalchemy import text

from services import SERVICE_CLASSES
from services.plumbing import topology
from services.plumbing.metrics import metrics_of
from tests.fixtures import container_config, wait_for

from .helpers import build_world

pytestmark = pytest.mark.integration

REQUESTS = 12
FAST_SWEEP = {"DESK_SWEEP_SECONDS": 0.05}


def sweeps_run(container) -> float:
    calls = metrics_of(container).calls
    return calls.labels("services_desk", "sweep_deadlines", "timer", "success")._value.get()


# Replicas share a PostgreSQL database in production. Two containers in one test process on one
# SQLite file would block each other inside SQLite's C-level lock wait (the plumbing's green lock
# is per engine), which no deployment does: SQLite is the single-process embedded default.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_overdue_is_emitted_once_per_request_across_two_replicas(platform):
    platform.start("members", "services_desk", services_desk=FAST_SWEEP)
    world = build_world(platform)
    desk = world["a"]["desk"]
    ids = []
    for n in range(REQUESTS):
        status, request = desk.post("/api/v1/requests", {
            "requester_name": f"老乡{n}", "category": "other", "description": "x"})
        assert status == 201, request
        ids.append(request["id"])
    done = ids.pop()
    assert desk.post(f"/api/v1/requests/{done}/claim")[0] == 200
    assert desk.post(f"/api/v1/requests/{done}/complete", {"outcome": "ok"})[0] == 200

    # A second replica of the desk on the same database.
    cls = topology.load_service_class(SERVICE_CLASSES["services_desk"])
    second = ServiceRunner(container_config("services_desk", platform.databases.url("services_desk"),
                                            platform.amqp_uri, **FAST_SWEEP))
    second.add_service(cls)
    second.start()
    try:
        replicas = [platform.container("services_desk"), next(iter(second.containers))]
        # The deadlines pass (what weeks of waiting would do): every clock ran out yesterday.
        engine = platform.engine("services_desk")
        with engine.begin() as conn:
            conn.execute(text("UPDATE requests SET deadline = :d, warn_on = :d"),
                         {"d": "2026-01-05"})
        engine.dispose()
        wait_for(lambda: platform.scalar(
            "services_desk", "SELECT count(*) FROM requests WHERE overdue_notified_at IS NOT NULL")
            == len(ids), message="every open request to be flagged overdue")
        # Let both replicas sweep several more times after that.
        after = [sweeps_run(c) for c in replicas]
        wait_for(lambda: all(sweeps_run(c) >= n + 5 for c, n in zip(replicas, after, strict=False)),
                 message="both replicas to sweep again")
    finally:
        second.stop()

    overdue = platform.scalar("services_desk", "SELECT count(*) FROM outbox "
                                               "WHERE event_type = 'request_overdue'")
    distinct = platform.scalar("services_desk", "SELECT count(DISTINCT envelope->'data'->>'request_id')"
                                                " FROM outbox WHERE event_type = 'request_overdue'")
    assert overdue == distinct == len(ids)
    warnings = platform.scalar("services_desk", "SELECT count(*) FROM outbox "
                                                "WHERE event_type = 'request_deadline_approaching'")
    assert warnings == len(ids)
    assert platform.scalar("services_desk", "SELECT overdue_notified_at FROM requests "
                                            "WHERE id = :i", i=done) is None
    # and both replicas did take part in the work (not one idle while the other did it all)
    assert all(sweeps_run(c) > 0 for c in replicas)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_interleaved_sweeps_flag_a_request_once(databases, pg_admin_engine):
    """The race itself, made deterministic: sweep B reads the request as not yet flagged while
    sweep A has flagged it but not committed; B's UPDATE waits for A's row lock, then matches
    nothing, so B emits nothing."""
    from datetime import date

    import eventlet
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from services.plumbing.db import UnitOfWork
    from services.services_desk import deadlines
    from services.services_desk.models import PLUMBING

    url = databases.url("services_desk")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO requests (id, centre_org_id, category, description, requester_name, "
            "status, submitted_by, created_at, deadline) VALUES ('r1', 'c', 'other', 'd', 'n', "
            "'in_progress', 'k', now(), '2026-01-05')"))
    sessions = sessionmaker(engine, expire_on_commit=False)
    today = date(2026, 3, 1)
    results = {}

    def sweep_b():
        with UnitOfWork(sessions, PLUMBING, None).transaction() as tx:
            results["b"] = deadlines.sweep(tx, today)

    database = url.rsplit("/", 1)[1]

    def b_waits_for_a_lock():
        with pg_admin_engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND wait_event_type = 'Lock'"), {"db": database}).scalar()

    with UnitOfWork(sessions, PLUMBING, None).transaction() as tx_a:
        results["a"] = deadlines.sweep(tx_a, today)
        b = eventlet.spawn(sweep_b)
        wait_for(b_waits_for_a_lock, message="sweep B to wait for sweep A's row lock")
    b.wait()
    try:
        assert results == {"a": {"warned": 0, "overdue": 1}, "b": {"warned": 0, "overdue": 0}}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox WHERE event_type = "
                                     "'request_overdue'")).scalar() == 1
    finally:
        engine.dispose()
