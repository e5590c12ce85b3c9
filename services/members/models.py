"""The members database: org units, members, and the plumbing tables."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, MetaData, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import plumbing_tables

MONEY = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData()


PLUMBING = plumbing_tables(Base.metadata)


class OrgUnit(Base):
    """A node of a home-side tree (county → township → village branch) or a host-side tree
    (committees, branches, service centres). `path` is the materialised path "/root/…/self/",
    so a subtree is a prefix match."""
    __tablename__ = "org_units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(1000), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Member(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The resident-ID number is stored protected: a keyed hash for duplicate detection across the
    # platform, the encrypted number for the roles allowed to see it, and the masked form.
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))
    home_org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    host_org_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(String(30))
    giving_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Keyset pagination of a scope: (org, created_at, id) walks one org's members in order.
        Index("ix_members_home_created", "home_org_id", "created_at", "id"),
        Index("ix_members_host_created", "host_org_id", "created_at", "id"),
        Index("ix_members_created", "created_at", "id"),
    )
