"""Fast checks of the gateway's own rules on a SQLite file: key expiry and rotation, staff
passwords and sessions, the audit query, the rate limiter, webhook signing and backoff."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from gateway import audit, keys
from gateway.errors import HttpError
from gateway.models import ApiKey, StaffSession
from gateway.ratelimit import RateLimits
from services.plumbing.envelope import utcnow
from services.plumbing.migrate import upgrade


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    return keys.session_factory(url)


def test_rotation_overlaps_then_only_the_new_key_works(sessions):
    with sessions() as session:
        old, plain_old = keys.create_key(session, "office", "county", "org-1",
                                         rate_limit="10/minute")
        session.commit()
        _old, new, plain_new = keys.rotate_key(session, old.id, timedelta(hours=1))
        session.commit()
        assert new.role == "office" and new.org_id == "org-1" and new.rate_limit == "10/minute"
        assert keys.authenticate(session, plain_old).key_id == old.id
        assert keys.resolve(session, plain_new) == (keys.authenticate(session, plain_new),
                                                    "10/minute")
        with pytest.raises(keys.InvalidKeyRequest):
            keys.rotate_key(session, old.id, timedelta(hours=1))
        session.execute(update(ApiKey).where(ApiKey.id == old.id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        keys.KEYS.forget(old.id)  # as when the cache's bound has passed (test_key_cache.py)
        assert keys.authenticate(session, plain_old) is None
        assert keys.authenticate(session, plain_new).key_id == new.id
        assert keys.authenticate(session, plain_new[:-1] + "x") is None
        assert keys.revoke_key(session, new.id)
        session.commit()
    with sessions() as session:       # each request has its own session
        assert keys.authenticate(session, plain_new) is None


def test_staff_password_is_argon2_and_sessions_expire(sessions):
    with sessions() as session:
        with pytest.raises(keys.InvalidKeyRequest):
            keys.create_staff_user(session, "li", "李", "centre", "short")
        user = keys.create_staff_user(session, "li.wei", "李伟", "centre", "long enough pw")
        session.commit()
        assert user.password_hash.startswith("$argon2id$")
        assert keys.sign_in(session, "li.wei", "wrong password") is None
        assert keys.sign_in(session, "nobody", "long enough pw") is None
        staff_session, token = keys.sign_in(session, "li.wei", "long enough pw")
        session.commit()
        caller = keys.authenticate(session, token)
        assert (caller.key_id, caller.role, caller.org_id) == (f"u_{user.id}", "desk_staff",
                                                               "centre")
        session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        assert keys.authenticate(session, token) is None


def test_audit_rows_filtered_paged_and_exported(sessions):
    for n, (org, status) in enumerate([("a", 201), ("b", 403), ("a", 429), ("a", 409)]):
        audit.record(sessions, request_id=f"r{n}", actor_kind="key", actor_id="k", role="office",
                     org_id=org, method="POST", route="/api/v1/x", object_id=None,
                     status=status, error_code=None)
    with sessions() as session:
        base = {"limit": 2, "cursor": None}
        first = audit.query(session, dict(base, org_id="a"))
        assert [r["outcome"] for r in first["items"]] == ["succeeded", "denied"]
        rest = audit.query(session, dict(base, org_id="a", cursor=first["next_cursor"]))
        assert [r["outcome"] for r in rest["items"]] == ["failed"] and rest["next_cursor"] is None
        later = audit.query(session, dict(base, since=utcnow() + timedelta(minutes=1)))
        assert later["items"] == []
        csv_text = audit.export_csv(session, {"outcome": "denied"})
    assert len(csv_text.splitlines()) == 3
    assert audit.should_record("GET", 200) is False and audit.should_record("GET", 403)


def test_rate_limit_per_identity_with_retry_after():
    limits = RateLimits(default="2/minute")
    limits.hit("k1")
    limits.hit("k1")
    with pytest.raises(HttpError) as exc:
        limits.hit("k1")
    assert exc.value.status == 429 and 1 <= int(exc.value.headers["Retry-After"]) <= 60
    limits.hit("k2")                      # another key has its own budget
    limits.hit("k3", "5/minute")          # and a key may carry its own limit
    for _ in range(4):
        limits.hit("k3", "5/minute")
    with pytest.raises(HttpError):
        limits.hit("k3", "5/minute")


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from gateway.models import Base
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
