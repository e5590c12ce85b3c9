"""The services desk database: proxy requests, their step ledger, the tenancy projection and the
plumbing tables."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import BigIntId, plumbing_tables
from services.plumbing.tenancy import Tenancy, tenancy_tables

# API key ids (the gateway's `api_keys.id`): who submitted, claimed, completed.
KEY_ID = String(32)


class Base(DeclarativeBase):
    metadata = MetaData()


PLUMBING = plumbing_tables(Base.metadata)
# Org units and members as the members service announced them: the desk's only source of tenancy.
TENANCY = Tenancy(tenancy_tables(Base.metadata))


class Request(Base):
    """One piece of hometown business a centre handles for a migrant (全程代办), member or not."""
    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_org_id: Mapped[str] = mapped_column(String(36))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    # A registered member is named by id; anyone else by name (and phone). For a member the name
    # is copied from the projection at submission, so the ledger reads the same for everyone.
    requester_member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(KEY_ID)
    # 首问责任制: the first key to claim the request owns it for good; `assignee` is who works
    # on it now (the same key until later steps hand it on).
    first_owner: Mapped[str | None] = mapped_column(KEY_ID)
    assignee: Mapped[str | None] = mapped_column(KEY_ID)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Keyset pagination of a scope: (centre, created_at, id) walks one centre's requests in
        # order; the status variant serves a desk's "what is waiting" list.
        Index("ix_requests_centre_created", "centre_org_id", "created_at", "id"),
        Index("ix_requests_centre_status_created", "centre_org_id", "status", "created_at", "id"),
        Index("ix_requests_created", "created_at", "id"),
    )


class RequestStep(Base):
    """The tracking ledger (跟踪服务台账): one row per step of a request. Append-only: rows are
    never updated or deleted, so the ledger shows everything that happened and who did it."""
    __tablename__ = "request_steps"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    step: Mapped[str] = mapped_column(String(30))
    actor_key_id: Mapped[str] = mapped_column(KEY_ID)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_request_steps_request", "request_id", "id"),)
