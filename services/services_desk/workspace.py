"""The staff console's view of the desk (a clerk's working day): named queues with their
counts, one page of a queue filtered, searched and sorted in the database, the time left of
each request in working days, and one request with what a clerk needs beside it (display names,
the category's rules, the rating, who may do what). Plain Python: reads only; every action goes
through proxy_requests like the API's.

Queues (all within the caller's tenant):
    todo       待办: submitted, nobody holds it; requests in a language the caller speaks first
    mine       我的: open, the caller is its assignee or its 首问 owner
    due        即将超时 / 已超时: open, early warning day reached, past the deadline or flagged
    materials  待补材料: waiting for the requester's supplement (clock stopped)
    forwarded  已转县里: forwarded to the home county, waiting for its answer
    done       已办结: completed in the current month (Beijing)
    all        全部: everything, for search
"""
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.clock import CHINA
from services.plumbing.db import as_stored

from . import deadlines, events, ownership, proxy_requests, staff
from .categories import rule_for
from .models import Rating, Request, ServiceDay
from .proxy_requests import COMPLETED, FORWARDED, MATERIALS_MISSING, OPEN, SUBMITTED

QUEUES = ("todo", "mine", "due", "materials", "forwarded", "done", "all")
SORTS = ("deadline", "newest", "oldest")
# Time states of a row: how the console colours it.
ON_TRACK, WARNING, OVERDUE, STOPPED, NOT_STARTED, ENDED = (
    "on_track", "warning", "overdue", "stopped", "not_started", "ended")


def _beijing_day_start(session: Session, day: date) -> datetime:
    return as_stored(session, datetime.combine(day, time(), CHINA))


def _spoken(session: Session, caller: Caller) -> list[str]:
    member = staff.staff_member(session, caller.key_id)
    return list(member.languages) if member else [staff.CHINESE]


def queue_clause(session: Session, caller: Caller, queue: str, today: date):
    """The SQL condition of a named queue."""
    if queue == "todo":
        return Request.status == SUBMITTED
    if queue == "mine":
        return and_(Request.status.in_(OPEN), or_(Request.assignee == caller.key_id,
                                                  Request.first_owner == caller.key_id))
    if queue == "due":
        return and_(Request.status.in_(OPEN), or_(
            Request.overdue_notified_at.is_not(None), Request.warn_on <= today,
            Request.deadline < today))
    if queue == "materials":
        return Request.status == MATERIALS_MISSING
    if queue == "forwarded":
        return Request.status == FORWARDED
    if queue == "done":
        return and_(Request.status == COMPLETED,
                    Request.completed_at >= _beijing_day_start(session, today.replace(day=1)))
    return True


def _filtered(session: Session, query, params: dict):
    for name in ("category", "status", "language", "service_day_id"):
        if params.get(name):
            query = query.where(getattr(Request, name) == params[name])
    if params.get("received_from"):
        query = query.where(Request.created_at >= _beijing_day_start(
            session, params["received_from"]))
    if params.get("received_to"):
        query = query.where(Request.created_at < _beijing_day_start(
            session, params["received_to"] + timedelta(days=1)))
    text = (params.get("q") or "").strip()
    if text:
        # The request number is the start of its id; a phone is searched by its tail.
        conditions = [Request.requester_name.contains(text, autoescape=True),
                      Request.id.startswith(text.lower(), autoescape=True)]
        if text.isdigit() and len(text) >= 3:
            conditions.append(Request.requester_phone.endswith(text, autoescape=True))
        query = query.where(or_(*conditions))
    return query


def _ordered(query, sort: str, spoken_first: list[str] | None):
    order = []
    if spoken_first:
        non_chinese = [lang for lang in spoken_first if lang != staff.CHINESE]
        if non_chinese:
            order.append(case((Request.language.in_(non_chinese), 0), else_=1))
    if sort == "newest":
        order += [Request.created_at.desc(), Request.id.desc()]
    elif sort == "oldest":
        order += [Request.created_at, Request.id]
    else:  # nearest deadline first; a stopped clock (no deadline) after those that run
        order += [case((Request.deadline.is_(None), 1), else_=0), Request.deadline,
                  Request.created_at, Request.id]
    return query.order_by(*order)


def queue_counts(session: Session, caller: Caller, today: date) -> dict:
    counts = {}
    for queue in QUEUES:
        query = proxy_requests._visible(session, caller, select(func.count()).select_from(Request))
        counts[queue] = session.scalar(query.where(queue_clause(session, caller, queue, today)))
    return counts


def queue_page(session: Session, caller: Caller, params: dict, today: date) -> dict:
    """One page of a queue; `params` is a loaded ConsoleQueueQuerySchema."""
    queue, per_page = params["queue"], params["per_page"]
    base = proxy_requests._visible(session, caller, select(Request)).where(
        queue_clause(session, caller, queue, today))
    base = _filtered(session, base, params)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    page_number = min(params["page"], pages)
    spoken_first = _spoken(session, caller) if queue == "todo" else None
    rows = session.scalars(_ordered(base, params["sort"], spoken_first)
                           .offset((page_number - 1) * per_page).limit(per_page)).all()
    calendar = deadlines.calendar_of(session)
    names = _Names(session)
    return {"queue": queue, "counts": queue_counts(session, caller, today), "total": total,
            "page": page_number, "pages": pages, "per_page": per_page,
            "items": [row_view(session, r, today, calendar, names) for r in rows]}


def time_left(request: Request, today: date, calendar) -> dict:
    """Where the request stands against its deadline: a state the console colours, working
    days left (0: due today), calendar days overdue, and why a clock does not run."""
    if request.status not in OPEN:
        return {"time_state": ENDED, "working_days_left": None, "days_overdue": None}
    if request.status == MATERIALS_MISSING or request.deadline is None:
        return {"time_state": STOPPED, "working_days_left": None, "days_overdue": None}
    if request.clock_started_on is not None and request.clock_started_on > today:
        return {"time_state": NOT_STARTED, "working_days_left": calendar.working_days_between(
            today, request.deadline), "days_overdue": None}
    if today > request.deadline:
        return {"time_state": OVERDUE, "working_days_left": None,
                "days_overdue": (today - request.deadline).days}
    left = calendar.working_days_between(today, request.deadline)
    if request.overdue_notified_at is not None:
        state = OVERDUE
    elif request.warn_on is not None and request.warn_on <= today:
        state = WARNING
    else:
        state = ON_TRACK
    return {"time_state": state, "working_days_left": left, "days_overdue": None}


class _Names:
    """Display names of staff (by key id) and org units, looked up once each."""

    def __init__(self, session: Session):
        self.session, self._staff, self._orgs = session, {}, {}

    def staff(self, key_id: str | None) -> str | None:
        if key_id is None:
            return None
        if key_id not in self._staff:
            self._staff[key_id] = ownership.display_name(self.session, key_id)
        return self._staff[key_id]

    def org(self, org_id: str | None) -> str | None:
        if org_id is None:
            return None
        if org_id not in self._orgs:
            self._orgs[org_id] = proxy_requests._org_name(self.session, org_id)
        return self._orgs[org_id]


def row_view(session: Session, request: Request, today: date, calendar, names: _Names) -> dict:
    return {**proxy_requests.request_view(request), **time_left(request, today, calendar),
            "first_owner_name": names.staff(request.first_owner),
            "assignee_name": names.staff(request.assignee),
            "centre_name": names.org(request.centre_org_id),
            "requester_home_name": names.org(request.requester_home_org_id),
            "warn_on": request.warn_on}


def request_workspace(session: Session, caller: Caller, request_id, today: date) -> dict:
    """One request for the console: the detail (ledger, notices, home tasks) with display
    names, the category's rules, the rating, the service day, and what the caller may do."""
    request = proxy_requests.get_request(session, caller, request_id)
    names = _Names(session)
    detail = proxy_requests.request_detail_view(session, request)
    for step in detail["steps"]:
        step["actor_name"] = names.staff(step["actor_key_id"])
    for task in detail["home_tasks"]:
        task["home_org_name"] = names.org(task["home_org_id"])
    rating = session.get(Rating, request.id)
    day = session.get(ServiceDay, request.service_day_id) if request.service_day_id else None
    rule = rule_for(session, request.category, request.requester_home_org_id)
    centre_staff = [member for member in staff.list_staff(session, caller)
                    if member.centre_org_id == request.centre_org_id]
    me = staff.staff_member(session, caller.key_id)
    return {
        **detail, **time_left(request, today, deadlines.calendar_of(session)),
        "warn_on": request.warn_on,
        "category_name": events.CATEGORY_NAMES.get(request.category, request.category),
        "first_owner_name": names.staff(request.first_owner),
        "assignee_name": names.staff(request.assignee),
        "submitted_by_name": names.staff(request.submitted_by),
        "centre_name": names.org(request.centre_org_id),
        "requester_home_name": names.org(request.requester_home_org_id),
        "rule": {"time_limit_days": rule["time_limit_days"], "materials": rule["materials"],
                 "home_must_act": rule["home_must_act"]},
        "rating": ({"score": rating.score, "comment": rating.comment} if rating else None),
        "service_day": ({"id": day.id, "day": day.day, "site": day.site} if day else None),
        "staff": [{"key_id": m.key_id, "name": m.name, "languages": list(m.languages),
                   "is_lead": m.is_lead} for m in centre_staff],
        "viewer": {"key_id": caller.key_id,
                   "name": me.name if me else caller.key_id,
                   "is_lead": staff.is_lead_of(session, caller, request.centre_org_id),
                   "may_act": ownership.may_act(session, caller, request)},
    }
