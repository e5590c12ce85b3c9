"""The donations database: campaigns, gifts, idempotency keys, the tenancy projection and the
plumbing tables."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import plumbing_tables
from services.plumbing.tenancy import Tenancy, tenancy_tables

MONEY = Numeric(14, 2)
# Quantities of goods (boxes, tonnes, sets): exact decimals with two places, like money.
QUANTITY = Numeric(14, 2)


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
    # Shown on the public ledger (公示) without a key when true.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The cash the campaign holds: received - voided - paid out. Changed only under the campaign
    # row lock, in the same transaction as the ledger row that changes it; the reconciliation
    # command checks it against the ledger rows.
    cash_balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"),
                                                  server_default=text("0"))
    # Cash of approved disbursements not yet paid: promised, so no longer available.
    cash_reserved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"),
                                                   server_default=text("0"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "date" (the timer, after closes_on) or "hand" (a caller closed it early or on time).
    closed_how: Mapped[str | None] = mapped_column(String(10))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last receipt number issued. Incremented under a row lock in the gift's transaction,
    # so receipt numbers run 1..n per campaign without gaps or repeats.
    receipts_issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Keyset pagination of a scope: (org, created_at, id) walks one org's campaigns in order.
        Index("ix_campaigns_organiser_created", "organiser_org_id", "created_at", "id"),
        Index("ix_campaigns_created", "created_at", "id"),
        # The closing timer's query: open campaigns past their last day.
        Index("ix_campaigns_status_closes", "status", "closes_on"),
    )


class Beneficiary(Base):
    """A village, school or household (with its county) that a campaign gives to."""
    __tablename__ = "beneficiaries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    county: Mapped[str] = mapped_column(String(100))


class DonationBatch(Base):
    """Offline gifts entered together (a paper list from a meeting): accepted only whole, when
    the count and total declared on the paper match the gifts entered."""
    __tablename__ = "donation_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    declared_count: Mapped[int] = mapped_column(Integer)
    declared_total: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Donation(Base):
    """A gift to a campaign, from a member, a named non-member or nobody in particular: cash
    (`amount`), or goods (`kind` "in_kind", `amount` the sum of its items' valuations)."""
    __tablename__ = "donations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    receipt_no: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    kind: Mapped[str] = mapped_column(String(10), default="cash", server_default="cash")
    # Who valued goods in yuan (折合人民币); None for cash.
    valued_by: Mapped[str | None] = mapped_column(String(100))
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # The donor's name as it stood when the gift was made (a receipt does not change later).
    donor_name: Mapped[str | None] = mapped_column(String(100))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the public ledger shows a named donor: "name" in full or "masked" (张*).
    public_name: Mapped[str] = mapped_column(String(10), default="masked",
                                             server_default="masked")
    channel: Mapped[str] = mapped_column(String(20))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("donation_batches.id"))
    # A wrong entry is voided, never deleted: it stays in the ledger with the reason.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(500))

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
    # What the first request recorded: one gift, or a batch of them.
    donation_id: Mapped[str | None] = mapped_column(ForeignKey("donations.id"))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("donation_batches.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DonationItem(Base):
    """One line of goods in an in-kind gift: what, how many, in which unit, valued at how much.
    Goods are tracked per item (name and unit) so that no more is handed out than came in."""
    __tablename__ = "donation_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("donations.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    valuation: Mapped[Decimal] = mapped_column(MONEY)

    __table_args__ = (Index("ix_donation_items_campaign_item", "campaign_id", "name", "unit"),)


class Disbursement(Base):
    """Cash or goods handed to a beneficiary: requested, approved, then paid (with the
    recipient's acknowledgement reference); or rejected before payment."""
    __tablename__ = "disbursements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    beneficiary_id: Mapped[str] = mapped_column(ForeignKey("beneficiaries.id"))
    kind: Mapped[str] = mapped_column(String(10))
    # Cash handed over; for goods None (the lines say what).
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    purpose: Mapped[str] = mapped_column(String(500))
    # The day it was handed over, given when it is paid.
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    requested_by_key: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approver: Mapped[str | None] = mapped_column(String(100))
    approved_by_key: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledgement_ref: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_reason: Mapped[str | None] = mapped_column(String(500))


class DisbursementItem(Base):
    """Goods handed over in a disbursement: an item (name, unit) received in the campaign."""
    __tablename__ = "disbursement_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    disbursement_id: Mapped[str] = mapped_column(ForeignKey("disbursements.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)

    __table_args__ = (Index("ix_disbursement_items_campaign_item", "campaign_id", "name", "unit"),)
