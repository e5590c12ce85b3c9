"""Signatures a receiver can check, the retry schedule, and migrations that build exactly the
schema the models describe (the delivery-history migration rebuilds old rows' history)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from gateway.client import verify_signature
from gateway.webhooks.deliveries import RetryPolicy, sign
from gateway.webhooks.models import Base
from services.plumbing.migrate import migration_config, upgrade


def test_webhook_signature_and_backoff():
    body = b'{"event_type": "campaign_closed"}'
    header = sign("whsec_x", 1_700_000_000, body)
    assert verify_signature("whsec_x", header, body, now=1_700_000_010)
    assert not verify_signature("whsec_y", header, body, now=1_700_000_010)
    assert not verify_signature("whsec_x", header, body + b" ", now=1_700_000_010)
    assert not verify_signature("whsec_x", header, body, now=1_700_001_000)   # too old
    assert not verify_signature("whsec_x", "garbage", body)
    retry = RetryPolicy(max_attempts=12, base_seconds=5, max_seconds=3600)
    assert [retry.backoff(n).total_seconds() for n in (1, 2, 3, 12)] == [5, 10, 20, 3600]


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    upgrade("webhooks", url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_the_history_migration_rebuilds_counts_and_forgets_receivers_answers(tmp_path):
    """Rows written before it: a replay had reset `attempts` and overwritten `delivered_at`,
    and the log kept the start of the receiver's answer body."""
    from alembic import command
    url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    command.upgrade(migration_config("webhooks", url), "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO webhook_deliveries (id, endpoint_id, org_id, event_id, event_type, body,"
            " status, attempts, next_attempt_at, last_status_code, last_error, created_at,"
            " delivered_at) VALUES ('d1', 'e1', 'o1', 'ev1', 'member_moved', '{}', 'delivered',"
            " 1, '2026-01-01 00:00:00', 200, NULL, '2026-01-01 00:00:00',"
            " '2026-01-03 00:00:00')"))
        for at, code, error in (("2026-01-01 00:00:00", 500, "stack trace: db password"),
                                ("2026-01-02 00:00:00", 200, None),
                                ("2026-01-03 00:00:00", 200, None)):
            conn.execute(text("INSERT INTO webhook_attempts (delivery_id, attempted_at,"
                              " status_code, error, duration_ms) VALUES ('d1', :at, :code,"
                              " :error, 5)"), {"at": at, "code": code, "error": error})
    command.upgrade(migration_config("webhooks", url), "head")
    with engine.connect() as conn:
        attempts, delivered_at = conn.execute(text(
            "SELECT attempts, delivered_at FROM webhook_deliveries")).one()
        errors = list(conn.scalars(text("SELECT error FROM webhook_attempts ORDER BY id")))
    engine.dispose()
    assert attempts == 3 and str(delivered_at).startswith("2026-01-02")
    assert errors == ["the receiver answered 500", None, None]
