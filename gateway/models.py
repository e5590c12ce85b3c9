"""The gateway's own database: API keys and staff logins (hashed at rest), console sessions and
the audit trail."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # None only for platform-wide admin and ops keys.
    org_id: Mapped[str | None] = mapped_column(String(36), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # After this moment the key no longer authenticates (set at creation, or by a rotation's
    # overlap window).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key that replaced this one in a rotation.
    replaced_by: Mapped[str | None] = mapped_column(String(32))
    # Requests per window for this key, in `limits` notation ("120/minute"); None: the default.
    rate_limit: Mapped[str | None] = mapped_column(String(40))


class StaffUser(Base):
    """A person (desk staff) who signs in to the console; one login per person, never shared."""
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))     # argon2id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A short-lived console session: `ls_<id>_<secret>`, only a SHA-256 of the secret stored."""
    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRecord(Base):
    """One write or one denied request. Append-only: no route updates or deletes these rows."""
    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_org_time", "org_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    request_id: Mapped[str] = mapped_column(String(64))  # the trace id (X-Request-Id)
    actor_kind: Mapped[str] = mapped_column(String(10))    # key, user or anonymous
    actor_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(20))
    org_id: Mapped[str | None] = mapped_column(String(36))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    object_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))       # succeeded, failed or denied
    error_code: Mapped[str | None] = mapped_column(String(40))
