"""Pooled PostgreSQL connections without a ping per checkout (issue 13): a connection the server
closed while it sat in the pool is discarded at checkout, so the next unit of work runs on a
fresh one instead of failing."""
import time

from sqlalchemy import text

from services.plumbing.db import make_engine


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_the_server_closed_in_the_pool_is_replaced_at_checkout(pg_admin_engine):
    url = pg_admin_engine.url.render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        pooled = backend_pid(engine)
        assert backend_pid(engine) == pooled  # the pool hands the same connection out again
        with pg_admin_engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled}).scalar()
        time.sleep(0.5)  # the server's "terminating connection" reaches the idle socket

        with engine.connect() as conn:  # no OperationalError: a fresh connection
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pooled
    finally:
        engine.dispose()

