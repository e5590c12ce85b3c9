"""The donations database: campaigns, gifts, idempotency keys, the tenancy projection and the
plumbing tables."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric,
                        String, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import plumbing_tables
from services.plumbing.tenancy import Tenancy, tenancy_tables

MONEY = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData()


PLUMBING = plumbing_tables(Base.metadata)
# Org units and members as the members service announces them: who may see what.
TENANCY = Tenancy(tenancy_tables(Base.metadata))


class Campaign(Base):
    """A fundraising campaign called by an org unit (a branch or committee)."""
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organiser_org_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(40))
    goal: Mapped[Decimal | None] = mapped_column(MONEY)
    # Calendar days in China time; a gift after `closes_on` is still taken, and marked late.
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    # The last receipt number issued. Incremented under a row lock in the gift's transaction,
    # so receipt numbers run 1..n per campaign without gaps or repeats.
    receipts_issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Keyset pagination of a scope: (org, created_at, id) walks one org's campaigns in order.
        Index("ix_campaigns_organiser_created", "organiser_org_id", "created_at", "id"),
        Index("ix_campaigns_created", "created_at", "id"),
    )


class Donation(Base):
    """A cash gift to a campaign, from a member, a named non-member or nobody in particular."""
    __tablename__ = "donations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    receipt_no: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # The donor's name as it stood when the gift was made (a receipt does not change later).
    donor_name: Mapped[str | None] = mapped_column(String(100))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Also the index of a campaign's totals.
        UniqueConstraint("campaign_id", "receipt_no", name="uq_donations_campaign_receipt"),
    )


class DonationRequestKey(Base):
    """An `Idempotency-Key` a client sent with a gift: a retried request returns the gift it
    made the first time instead of recording it twice. Keys are per org unit of the caller."""
    __tablename__ = "donation_request_keys"

    scope: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # SHA-256 of the canonical request, to tell a retry from a different request.
    request_hash: Mapped[str] = mapped_column(String(64))
    donation_id: Mapped[str] = mapped_column(ForeignKey("donations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
