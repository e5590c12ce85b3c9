"""The services desk database: proxy requests, their step ledger, the tenancy projection and the
plumbing tables."""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
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
    # Where the requester's membership (or hukou) lies: the home county that must act when the
    # category needs it (收受分离). From the member projection, or named at intake.
    requester_home_org_id: Mapped[str | None] = mapped_column(String(36))
    # The language the requester speaks (ISO 639-1/-2 code; zh by default): routes the request to
    # staff who speak it and is the language of every notice.
    language: Mapped[str] = mapped_column(String(8), server_default="zh")
    channel: Mapped[str] = mapped_column(String(20), server_default="walk_in")
    # The category's rule as it stood at intake, so later rule changes do not move deadlines.
    time_limit_days: Mapped[int] = mapped_column(Integer, server_default="10")
    home_must_act: Mapped[bool] = mapped_column(Boolean, server_default=false())
    materials_required: Mapped[list] = mapped_column(JSON, server_default=text("'[]'"))
    materials_missing: Mapped[list | None] = mapped_column(JSON)
    materials_notified: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # 限时办结: the clock runs from `clock_started_on` (the day of receipt or of the last
    # supplement) for `time_limit_days + extended_days` working days and ends on `deadline`;
    # while materials are missing the clock is stopped and `deadline` is NULL.
    clock_started_on: Mapped[date | None] = mapped_column(Date)
    extended_days: Mapped[int] = mapped_column(Integer, server_default="0")
    deadline: Mapped[date | None] = mapped_column(Date)
    # The first day on which the set share of the time is used up (early warning).
    warn_on: Mapped[date | None] = mapped_column(Date)
    # True when the deadline ran past the official calendar's known years (weekends only).
    calendar_estimated: Mapped[bool] = mapped_column(Boolean, server_default=false())
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once, by whoever wins the conditional UPDATE: the request is (or was) overdue.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_reason: Mapped[str | None] = mapped_column(String(40))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    service_day_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        # Keyset pagination of a scope: (centre, created_at, id) walks one centre's requests in
        # order; the status variant serves a desk's "what is waiting" list.
        Index("ix_requests_centre_created", "centre_org_id", "created_at", "id"),
        Index("ix_requests_centre_status_created", "centre_org_id", "status", "created_at", "id"),
        Index("ix_requests_created", "created_at", "id"),
        # The overdue sweep: open requests whose clock runs, by deadline.
        Index("ix_requests_deadline", "deadline"),
        Index("ix_requests_warn_on", "warn_on"),
        Index("ix_requests_service_day", "service_day_id"),
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


class CategoryRule(Base):
    """A category's rule (办理时限, 材料清单, 收受分离) as data: per home county, or the platform
    default (county_org_id = "*"); the code's built-in default applies when neither exists."""
    __tablename__ = "category_rules"

    county_org_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    time_limit_days: Mapped[int] = mapped_column(Integer)
    materials: Mapped[list] = mapped_column(JSON)
    home_must_act: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(KEY_ID)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Staff(Base):
    """A desk staff member, known by their API key id: the centre they work at, the languages
    they speak, and whether they lead the centre (approve extensions, manage staff)."""
    __tablename__ = "desk_staff"

    key_id: Mapped[str] = mapped_column(KEY_ID, primary_key=True)
    centre_org_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list] = mapped_column(JSON)
    is_lead: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(KEY_ID)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalendarDay(Base):
    """The official schedule for years chinese-calendar does not know yet: statutory holidays
    (working = False) and 调休 make-up working days (working = True). A year with any row here
    counts as known; weekends are working-free unless listed."""
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))


class CalendarYear(Base):
    """A year whose schedule an admin entered (possibly with no special days at all)."""
    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entered_by: Mapped[str] = mapped_column(KEY_ID)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HomeTask(Base):
    """收受分离: the part of a request the home county must do; the county's office sees it
    through its own key, accepts it and returns a result."""
    __tablename__ = "home_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    home_org_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    forwarded_by: Mapped[str] = mapped_column(KEY_ID)
    note: Mapped[str | None] = mapped_column(Text)
    accepted_by: Mapped[str | None] = mapped_column(KEY_ID)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(KEY_ID)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(String(20))
    result_note: Mapped[str | None] = mapped_column(Text)
    reference_number: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_home_tasks_home_created", "home_org_id", "created_at", "id"),)


class Notice(Base):
    """An outbound message to the requester, in the requester's language."""
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rating(Base):
    """好差评: one satisfaction rating per completed request."""
    __tablename__ = "ratings"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(KEY_ID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServiceDay(Base):
    """逢场式服务: a session a centre holds at a site on a day; requests can be booked into it."""
    __tablename__ = "service_days"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_org_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[date] = mapped_column(Date)
    site: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(KEY_ID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("centre_org_id", "day", "site"),
                      Index("ix_service_days_centre_day", "centre_org_id", "day"))
