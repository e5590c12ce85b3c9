"""The members database: org units, members, their flow history, branch life, care, notices,
imports, and the plumbing tables."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.plumbing.tables import BigIntId, plumbing_tables

MONEY = Numeric(14, 2)
HOURS = Numeric(8, 2)


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
    contact: Mapped[str | None] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A subtree is `path LIKE '/root/…/%'`; PostgreSQL only uses a btree for LIKE with the
        # pattern operator class (or the C collation). (On SQLite it is a plain second index.)
        Index("ix_org_units_path_pattern", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )


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
    # Derived from the ID number (GB 11643: digits 7-14 are the birth date, digit 17 odd = male).
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    joined_party_on: Mapped[date | None] = mapped_column(Date)
    category: Mapped[str | None] = mapped_column(String(30))
    occupation: Mapped[str | None] = mapped_column(String(30))
    languages: Mapped[list | None] = mapped_column(JSON)
    skills: Mapped[list | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    home_org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    host_org_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(String(30))
    # The status a lost member had, restored when found.
    status_before_lost: Mapped[str | None] = mapped_column(String(30))
    lost_contact_on: Mapped[date | None] = mapped_column(Date)
    giving_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    import_batch_id: Mapped[str | None] = mapped_column(String(36))
    # The row of the import file it came from: a later row with the same ID number is reported
    # as a duplicate of this row.
    import_row: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Keyset pagination of a scope: (org, created_at, id) walks one org's members in order.
        Index("ix_members_home_created", "home_org_id", "created_at", "id"),
        Index("ix_members_host_created", "host_org_id", "created_at", "id"),
        Index("ix_members_created", "created_at", "id"),
        # A status filter (lost contact, 待报到) walks only that status in keyset order.
        Index("ix_members_status_created", "status", "created_at", "id"),
        # Filtered lists (status, category, age) inside a scope keep the keyset order.
        Index("ix_members_home_status_created", "home_org_id", "status", "created_at", "id"),
        Index("ix_members_host_status_created", "host_org_id", "status", "created_at", "id"),
        Index("ix_members_category", "category"),
        Index("ix_members_birth_date", "birth_date"),
    )


class FlowRecord(Base):
    """One step of a member's flow lifecycle. Append-only: rows are inserted, never changed."""
    __tablename__ = "flow_records"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    from_host_org_id: Mapped[str | None] = mapped_column(String(36))
    to_host_org_id: Mapped[str | None] = mapped_column(String(36))
    actor_key_id: Mapped[str] = mapped_column(String(64))
    actor_org_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    # The day it happened (lost contact on, found on); `month` ("2026-11") makes the per-month
    # reports a GROUP BY on both databases.
    occurred_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_flow_records_action_month", "action", "month"),)


class SelfReport(Base):
    """主动报到: a member reports in at a host branch; the branch verifies and accepts or refuses."""
    __tablename__ = "self_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host_org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    home_org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    name: Mapped[str] = mapped_column(String(100))
    id_number_hash: Mapped[str] = mapped_column(String(64))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[str | None] = mapped_column(String(36))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_self_reports_host_status", "host_org_id", "status", "created_at", "id"),)


class ContactAttempt(Base):
    """组织找人: one try to reach a lost-contact member."""
    __tablename__ = "contact_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[str | None] = mapped_column(String(36))
    actor_key_id: Mapped[str] = mapped_column(String(64))
    attempted_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_activities_org_year_kind", "org_id", "year", "kind"),)


class Participation(Base):
    """A member's sign-up, sign-in (attended) or leave request for an activity."""
    __tablename__ = "participations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    volunteer_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("activity_id", "member_id", name="uq_participation"),)


class PointRule(Base):
    """学习积分 rule of a county: points for attending an activity of a kind."""
    __tablename__ = "point_rules"

    county_org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    activity_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)


class PointEntry(Base):
    """The points ledger: one row per award, with the org where it was earned."""
    __tablename__ = "point_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    earned_at_org_id: Mapped[str] = mapped_column(String(36))
    activity_id: Mapped[str | None] = mapped_column(String(36))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    earned_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_point_entries_member_month", "member_id", "month"),
        UniqueConstraint("member_id", "activity_id", name="uq_points_per_activity"),
    )


class CareVisit(Base):
    __tablename__ = "care_visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[str | None] = mapped_column(String(36))
    visited_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HardshipHelp(Base):
    __tablename__ = "hardship_help"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    granted_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Honour(Base):
    """An honour of a member (优秀共产党员) or of an org unit (先进集体)."""
    __tablename__ = "honours"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    awarded_on: Mapped[date] = mapped_column(Date)
    awarded_by_org_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TalentReturn(Base):
    """人才回引: a member who returned home to start a business or serve as a cadre."""
    __tablename__ = "talent_returns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    returned_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notice(Base):
    """家乡来信 and other notices from an org unit to its mobile members."""
    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    delivered_count: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoticeDelivery(Base):
    __tablename__ = "notice_deliveries"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notice_deliveries_unread", "notice_id", "read_at", "member_id"),)


class ImportBatch(Base):
    """One bulk import: the uploaded file (staged in chunks), progress and counts. Rows are
    checked against the importing caller's tenant like a single registration."""
    __tablename__ = "import_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(String(36))
    actor_key_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    # uploading -> queued -> running -> done, or failed (a file-level problem found late)
    status: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # The file's header row, so that the error file has the same columns.
    columns: Mapped[list | None] = mapped_column(JSON)
    # The client's Idempotency-Key: the same upload sent again gets the first import.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("actor_key_id", "idempotency_key",
                                       name="uq_import_batches_idempotency"),)


class ImportFileChunk(Base):
    """A piece of an uploaded file, encrypted (it holds full ID numbers), kept until the import
    is done. Uploads arrive in pieces so that no RPC message carries a whole 32 MiB file."""
    __tablename__ = "import_file_chunks"

    batch_id: Mapped[str] = mapped_column(ForeignKey("import_batches.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ImportRowProblem(Base):
    """A row that was not imported: invalid (field messages), a duplicate of an earlier row of
    the same file, or of a registered member. Its values are kept encrypted for the error file."""
    __tablename__ = "import_row_problems"

    batch_id: Mapped[str] = mapped_column(ForeignKey("import_batches.id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    fields: Mapped[dict | None] = mapped_column(JSON)
    duplicate_of_row: Mapped[int | None] = mapped_column(Integer)
    # Only when the importing caller may see that member; another county's stays unnamed.
    member_id: Mapped[str | None] = mapped_column(String(36))
    values_encrypted: Mapped[str | None] = mapped_column(Text)  # None: from before 0004
