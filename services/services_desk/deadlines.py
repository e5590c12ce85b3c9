"""限时办结: deadlines on the official calendar, stopping and restarting the clock, the early
warning and the overdue sweep.

The sweep runs in every replica of the service. Each request is flagged by a conditional
UPDATE ... WHERE overdue_notified_at IS NULL: of two replicas racing for the same request, the
second's UPDATE waits for the first's commit, then matches no row (rowcount 0) and emits nothing.
So `request_overdue` (and the early warning) leave exactly once per request.
"""
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.envelope import utcnow
from services.plumbing.errors import ValidationFailed

from . import categories, events
from .models import CalendarDay, CalendarYear, Request
from .working_days import (
    KnownSchedule,
    WorkingCalendar,
    chinese_calendar_knows,
    chinese_calendar_year,
    days_off_between,
    warning_day,
)

# Share of the time limit after which the early warning goes out.
DEFAULT_WARNING_SHARE = 0.8
OPEN_STATUSES = ("submitted", "accepted", "materials_missing", "in_progress", "forwarded",
                 "answer_received")


def calendar_of(session: Session) -> WorkingCalendar:
    days = {row.day: row.working for row in session.scalars(select(CalendarDay))}
    years = frozenset(session.scalars(select(CalendarYear.year)))
    return WorkingCalendar(KnownSchedule(days=days, years=years))


def start_clock(session: Session, request: Request, started_on: date,
                warning_share: float = DEFAULT_WARNING_SHARE) -> None:
    """(Re)starts the clock from zero on `started_on`: the full limit, no extension carried."""
    request.clock_started_on = started_on
    request.extended_days = 0
    _set_deadline(session, request, warning_share)


def stop_clock(request: Request) -> None:
    request.deadline = None
    request.warn_on = None


def extend(session: Session, request: Request, extra_days: int,
           warning_share: float = DEFAULT_WARNING_SHARE) -> None:
    request.extended_days += extra_days
    _set_deadline(session, request, warning_share)


def recount(request: Request, calendar: WorkingCalendar,
            warning_share: float = DEFAULT_WARNING_SHARE) -> None:
    """Counts a running clock again on `calendar` (e.g. after a year's schedule was entered):
    the same start, limit and extension, the deadline and early warning as they now fall."""
    if request.clock_started_on is not None and request.deadline is not None:
        _set_deadline(None, request, warning_share, calendar)


def _set_deadline(session: Session | None, request: Request, warning_share: float,
                  calendar: WorkingCalendar | None = None) -> None:
    calendar = calendar or calendar_of(session)
    total = request.time_limit_days + request.extended_days
    deadline = calendar.add_working_days(request.clock_started_on, total)
    request.deadline = deadline.day
    request.calendar_estimated = deadline.estimated
    request.warn_on = warning_day(calendar, request.clock_started_on, total, warning_share)


def is_past_deadline(request: Request, today: date) -> bool:
    return request.deadline is not None and today > request.deadline


def flag_overdue(tx, request_id: str, reason: str, now: datetime) -> bool:
    """Marks the request overdue if nobody has; True (and the event emitted) only for the
    transaction whose UPDATE changed the row."""
    result = tx.session.execute(
        update(Request).where(Request.id == request_id, Request.overdue_notified_at.is_(None))
        .values(overdue_notified_at=now, overdue_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    request = tx.session.get(Request, request_id)
    tx.session.refresh(request)
    tx.emit(events.request_overdue(request))
    return True


def sweep(tx, today: date) -> dict:
    """Early warnings and overdue flags due by `today` (a date in Beijing)."""
    session, now = tx.session, utcnow()
    warned = overdue = 0
    due_warning = session.scalars(select(Request.id).where(
        Request.status.in_(OPEN_STATUSES), Request.warn_on <= today,
        Request.warned_at.is_(None)).order_by(Request.id)).all()
    for request_id in due_warning:
        result = session.execute(
            update(Request).where(Request.id == request_id, Request.warned_at.is_(None))
            .values(warned_at=now).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            request = session.get(Request, request_id)
            session.refresh(request)
            tx.emit(events.request_deadline_approaching(request))
            warned += 1
    due_overdue = session.scalars(select(Request.id).where(
        Request.status.in_(OPEN_STATUSES), Request.deadline < today,
        Request.overdue_notified_at.is_(None)).order_by(Request.id)).all()
    for request_id in due_overdue:
        if flag_overdue(tx, request_id, "deadline_passed", now):
            overdue += 1
    return {"warned": warned, "overdue": overdue}


# -- the schedule beyond chinese-calendar ---------------------------------------------------
def put_year(session: Session, caller: Caller, year: int, data: dict) -> dict:
    """Replaces the official schedule of `year` (a year chinese-calendar does not know)."""
    if chinese_calendar_knows(date(year, 1, 1)) or chinese_calendar_knows(date(year, 12, 31)):
        raise ValidationFailed("chinese-calendar already has this year's official schedule",
                               {"year": ["use a year chinese-calendar does not know"]})
    errors = {}
    for key in ("holidays", "workdays"):
        wrong = [d.isoformat() for d in data[key] if d.year != year]
        if wrong:
            errors[key] = [f"not in {year}: {', '.join(wrong)}"]
    both = set(data["holidays"]) & set(data["workdays"])
    if both:
        errors["workdays"] = [f"also listed as holidays: {', '.join(sorted(d.isoformat() for d in both))}"]
    if errors:
        raise ValidationFailed("invalid schedule", errors)
    session.execute(delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                              CalendarDay.day <= date(year, 12, 31)))
    for day in set(data["holidays"]):
        session.add(CalendarDay(day=day, working=False, note="法定节假日"))
    for day in set(data["workdays"]):
        session.add(CalendarDay(day=day, working=True, note="调休上班"))
    entry = session.get(CalendarYear, year)
    if entry is None:
        entry = CalendarYear(year=year)
        session.add(entry)
    entry.entered_by, entry.entered_at = caller.key_id, utcnow()
    session.flush()
    return year_view(session, year)


CHINESE_CALENDAR, ENTERED, ESTIMATE = "chinese_calendar", "entered", "weekends_only_estimate"


def year_view(session: Session, year: int) -> dict:
    """A year's statutory holidays and make-up working days, each with where it comes from:
    chinese-calendar's data for the years it knows, else what an admin entered; a year that
    neither knows is counted on weekends only (an estimate)."""
    if chinese_calendar_knows(date(year, 6, 30)):
        holidays, workdays = chinese_calendar_year(year)
        return {"year": year, "source": CHINESE_CALENDAR,
                "holidays": [{"day": d, "name": n, "source": CHINESE_CALENDAR}
                             for d, n in sorted(holidays.items())],
                "workdays": [{"day": d, "name": n, "source": CHINESE_CALENDAR}
                             for d, n in sorted(workdays.items())]}
    rows = session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)).all()
    return {"year": year,
            "source": ENTERED if session.get(CalendarYear, year) else ESTIMATE,
            "holidays": [{"day": r.day, "name": r.note, "source": ENTERED}
                         for r in rows if not r.working],
            "workdays": [{"day": r.day, "name": r.note, "source": ENTERED}
                         for r in rows if r.working]}


def preview(session: Session, category: str, received_on: date, county_org_id: str | None,
            warning_share: float = DEFAULT_WARNING_SHARE) -> dict:
    """The deadline a request of `category` (of a requester from `county_org_id`, whose rule
    may differ) would get if received on `received_on`: what submit_request would set."""
    rule = categories.rule_for(session, category, county_org_id)
    calendar = calendar_of(session)
    total = rule["time_limit_days"]
    deadline = calendar.add_working_days(received_on, total)
    return {"category": category, "rule_county_org_id": rule["county_org_id"],
            "received_on": received_on, "time_limit_days": total, "deadline": deadline.day,
            "warn_on": warning_day(calendar, received_on, total, warning_share),
            "calendar_estimated": deadline.estimated,
            "days_off": days_off_between(calendar, received_on, deadline.day)}
