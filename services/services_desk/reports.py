"""The ledger and what is read out of it: ratings (好差评), the monthly 限时办结 register per
centre, statistics per centre and category, the tracking ledger and the register as CSV/XLSX
files (Beijing times), and service days (逢场式服务) with their outcome report."""
import statistics as stats
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.plumbing import exports
from services.plumbing.caller import Caller
from services.plumbing.clock import CHINA, china_date, today_in_china
from services.plumbing.db import Transaction, as_stored
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.ids import plausible_id
from services.plumbing.pagination import as_utc

from . import ownership, proxy_requests
from .models import TENANCY, Rating, Request, RequestStep, ServiceDay


# -- ratings ----------------------------------------------------------------------------------
def rate_request(tx: Transaction, caller: Caller, request_id, data: dict) -> Rating:
    request = proxy_requests.get_request(tx.session, caller, request_id, for_update=True)
    ownership.require_may_act(tx.session, caller, request, "rate")
    if request.status != proxy_requests.COMPLETED:
        raise InvalidTransition("only a completed request can be rated", {
            "status": [f"is {request.status}, must be completed to rate"]})
    if tx.session.get(Rating, request.id) is not None:
        raise Conflict("this request has been rated already", {"score": ["one rating per request"]})
    rating = Rating(request_id=request.id, score=data["score"], comment=data.get("comment"),
                    recorded_by=caller.key_id, created_at=utcnow())
    tx.session.add(rating)
    try:
        tx.session.flush()
    except IntegrityError:
        raise Conflict("this request has been rated already", {"score": ["one rating per request"]}) from None
    return rating


# -- what the register and statistics read -----------------------------------------------------
def _month_bounds(month: str) -> tuple[datetime, datetime]:
    """A month in Beijing time, as UTC instants [start, end)."""
    year, mon = (int(part) for part in month.split("-"))
    start = datetime.combine(date(year, mon, 1), time(), CHINA)
    end = datetime.combine(date(year + mon // 12, mon % 12 + 1, 1), time(), CHINA)
    return start, end


def _requests(session: Session, caller: Caller, month: str | None) -> list[Request]:
    query = proxy_requests._visible(session, caller, select(Request))
    if month:
        start, end = _month_bounds(month)
        query = query.where(Request.created_at >= as_stored(session, start),
                            Request.created_at < as_stored(session, end))
    return list(session.scalars(query.order_by(Request.created_at, Request.id)))


def done_late(request: Request) -> bool:
    """Completed after its deadline, or flagged overdue on the way (late extension included)."""
    if request.overdue_notified_at is not None:
        return True
    return (request.deadline is not None and request.completed_at is not None
            and china_date(request.completed_at) > request.deadline)


def is_overdue_now(request: Request, today: date) -> bool:
    return request.status in proxy_requests.OPEN and (
        request.overdue_notified_at is not None
        or (request.deadline is not None and today > request.deadline))


def monthly_register(session: Session, caller: Caller, month: str, today: date) -> list[dict]:
    """Per centre, requests received in `month`: received, done on time, done late, still
    open, overdue (open and past the deadline), plus rejected/withdrawn."""
    rows = defaultdict(lambda: {"received": 0, "done_on_time": 0, "done_late": 0,
                                "still_open": 0, "overdue": 0, "rejected": 0, "withdrawn": 0})
    for request in _requests(session, caller, month):
        row = rows[request.centre_org_id]
        row["received"] += 1
        if request.status == proxy_requests.COMPLETED:
            row["done_late" if done_late(request) else "done_on_time"] += 1
        elif request.status in proxy_requests.OPEN:
            row["still_open"] += 1
            if is_overdue_now(request, today):
                row["overdue"] += 1
        else:
            row[request.status] += 1
    return [{"centre_org_id": centre, "month": month, **counts}
            for centre, counts in sorted(rows.items())]


def statistics(session: Session, caller: Caller, month: str | None) -> dict:
    """Per centre and category: on-time rate, median handling time (hours), backlog; rating
    averages per centre and per 首问 owner."""
    groups = defaultdict(list)
    requests = _requests(session, caller, month)
    for request in requests:
        groups[(request.centre_org_id, request.category)].append(request)
    by_category = []
    for (centre, category), items in sorted(groups.items()):
        done = [r for r in items if r.status == proxy_requests.COMPLETED]
        hours = [(as_utc(r.completed_at) - as_utc(r.created_at)).total_seconds() / 3600
                 for r in done]
        by_category.append({
            "centre_org_id": centre, "category": category, "received": len(items),
            "completed": len(done),
            "on_time_rate": (round(sum(not done_late(r) for r in done) / len(done), 4)
                             if done else None),
            "median_handling_hours": round(stats.median(hours), 2) if hours else None,
            "backlog": sum(r.status in proxy_requests.OPEN for r in items)})
    ids = {r.id: r for r in requests}
    ratings = session.scalars(select(Rating).where(Rating.request_id.in_(list(ids)))).all() \
        if ids else []
    per_centre, per_owner = defaultdict(list), defaultdict(list)
    for rating in ratings:
        request = ids[rating.request_id]
        per_centre[request.centre_org_id].append(rating.score)
        per_owner[(request.centre_org_id, request.first_owner)].append(rating.score)
    return {
        "month": month, "by_category": by_category,
        "ratings_by_centre": [{"centre_org_id": c, "ratings": len(s),
                               "average": round(sum(s) / len(s), 2)}
                              for c, s in sorted(per_centre.items())],
        "ratings_by_staff": [{"centre_org_id": c, "first_owner": o, "ratings": len(s),
                              "average": round(sum(s) / len(s), 2)}
                             for (c, o), s in sorted(per_owner.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))],
    }


# -- the tracking ledger and the register as files ----------------------------------------------
LEDGER_COLUMNS = ("request_id", "centre_org_id", "category", "requester_name", "language",
                  "channel", "first_owner", "assignee", "status", "received_at", "deadline",
                  "calendar_estimated", "overdue", "step", "actor_key_id", "step_at", "note")
REGISTER_COLUMNS = ("centre_org_id", "centre", "month", "received", "done_on_time", "done_late",
                    "still_open", "overdue", "rejected", "withdrawn")


def _beijing(moment: datetime) -> datetime:
    """Files are read by people who count in Beijing time."""
    return as_utc(moment).astimezone(CHINA)


def ledger_rows(session: Session, caller: Caller, month: str) -> list[tuple]:
    """Every step of every request received in `month`, request by request, oldest first."""
    requests = _requests(session, caller, month)
    by_id = {r.id: r for r in requests}
    steps = session.scalars(select(RequestStep).where(RequestStep.request_id.in_(list(by_id)))
                            .order_by(RequestStep.request_id, RequestStep.id)).all() if by_id else []
    order = {r.id: i for i, r in enumerate(requests)}
    rows = []
    for step in sorted(steps, key=lambda s: (order[s.request_id], s.id)):
        r = by_id[step.request_id]
        rows.append((r.id, r.centre_org_id, r.category, r.requester_name, r.language, r.channel,
                     r.first_owner, r.assignee, r.status, _beijing(r.created_at), r.deadline,
                     r.calendar_estimated, r.overdue_notified_at is not None,
                     step.step, step.actor_key_id, _beijing(step.at), step.note))
    return rows


def export_ledger(session: Session, caller: Caller, month: str, fmt: str) -> dict:
    return exports.export_file(fmt, f"ledger-{month}", LEDGER_COLUMNS,
                               ledger_rows(session, caller, month), sheet_title=f"台账{month}")


def export_register(session: Session, caller: Caller, month: str, fmt: str,
                    today: date) -> dict:
    """The monthly 限时办结 register as a file, one row per centre, with the centre's name."""
    rows = [(row["centre_org_id"], proxy_requests._org_name(session, row["centre_org_id"]),
             *(row[column] for column in REGISTER_COLUMNS[2:]))
            for row in monthly_register(session, caller, month, today)]
    return exports.export_file(fmt, f"register-{month}", REGISTER_COLUMNS, rows,
                               sheet_title=f"限时办结{month}")


# -- service days (逢场式服务) ----------------------------------------------------------------------
def schedule_service_day(tx: Transaction, caller: Caller, data: dict) -> ServiceDay:
    if caller.platform_wide or TENANCY.org_path(tx.session, caller.org_id) is None:
        raise Forbidden("service days belong to a centre", {"caller": ["needs a centre's key"]})
    if data["day"] < today_in_china():
        raise ValidationFailed("the day has passed", {"day": ["must be today or later"]})
    day = ServiceDay(id=str(uuid.uuid4()), centre_org_id=caller.org_id, day=data["day"],
                     site=data["site"].strip(), created_by=caller.key_id, created_at=utcnow())
    tx.session.add(day)
    try:
        tx.session.flush()
    except IntegrityError:
        raise Conflict("this centre already holds a session there that day",
                       {"day": ["already scheduled at this site"]}) from None
    return day


def _visible_days(session: Session, caller: Caller, query):
    clause = TENANCY.org_column_in_scope(session, caller, ServiceDay.centre_org_id)
    return query if clause is None else query.where(clause)


def list_service_days(session: Session, caller: Caller, month: str | None) -> list[ServiceDay]:
    query = _visible_days(session, caller, select(ServiceDay))
    if month:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
        query = query.where(ServiceDay.day >= first,
                            ServiceDay.day < (first + timedelta(days=32)).replace(day=1))
    return list(session.scalars(query.order_by(ServiceDay.day, ServiceDay.site)))


def service_day_report(session: Session, caller: Caller, day_id) -> dict:
    day = None
    if plausible_id(day_id):
        day = session.scalar(_visible_days(session, caller, select(ServiceDay)
                                           .where(ServiceDay.id == day_id)))
    if day is None:
        raise NotFound("service day not found")
    booked = session.scalars(select(Request).where(Request.service_day_id == day.id)
                             .order_by(Request.created_at, Request.id)).all()
    by_status = defaultdict(int)
    for request in booked:
        by_status[request.status] += 1
    return {**service_day_view(day), "requests": [proxy_requests.request_view(r) for r in booked],
            "outcome": {"booked": len(booked), "by_status": dict(sorted(by_status.items())),
                        "completed": by_status[proxy_requests.COMPLETED],
                        "still_open": sum(by_status[s] for s in proxy_requests.OPEN)}}


def service_day_view(day: ServiceDay) -> dict:
    return {"id": day.id, "centre_org_id": day.centre_org_id, "day": day.day, "site": day.site,
            "created_by": day.created_by}
