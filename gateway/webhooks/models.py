"""The webhooks database: endpoints, deliveries (one per event and endpoint), every attempt,
the projection of org units (where endpoints and events belong) and the plumbing tables."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import BigIntId, plumbing_tables
from services.plumbing.tenancy import Tenancy, tenancy_tables


class Base(DeclarativeBase):
    metadata = MetaData()


PLUMBING = plumbing_tables(Base.metadata)
TENANCY = Tenancy(tenancy_tables(Base.metadata, with_members=False))


class Endpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(36), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    # Kept in the clear because every delivery is signed with it; this database is the
    # webhooks service's alone.
    secret: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_per_event"),
                      Index("ix_deliveries_due", "status", "next_attempt_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(36), index=True)
    org_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)              # the exact JSON bytes signed and sent
    status: Mapped[str] = mapped_column(String(20))      # pending, delivered or failed
    # Every attempt ever made (never reset: a replay starts a new round of retries, counted
    # from attempts_at_replay); the log has one Attempt row per attempt.
    attempts: Mapped[int] = mapped_column(Integer)
    replays: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    attempts_at_replay: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))   # our short reason
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The first time a receiver answered 2xx; a replay delivered again does not move it.
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(36), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))   # our short reason
    duration_ms: Mapped[int] = mapped_column(Integer)
    replay: Mapped[int] = mapped_column(Integer, server_default="0", default=0)  # 0: first round
