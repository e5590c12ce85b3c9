"""nameko extensions of the desk: its gauges (open requests, overdue, time to deadline) read at
scrape time. The sweep's timer is plumbing's `configured_timer` on the service (DESK_SWEEP_SECONDS);
its default interval is here."""
from datetime import date

from nameko.extensions import DependencyProvider
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from services.plumbing.clock import today_in_china
from services.plumbing.providers import Database

from .deadlines import OPEN_STATUSES
from .models import Request

DEFAULT_SWEEP_SECONDS = 60.0


def window_of(deadline: date | None, flagged_overdue: bool, today: date) -> str:
    """The time-to-deadline gauge's label (calendar days left, Beijing dates): one of a bounded
    few, stopped, overdue, due_0_2_days, due_3_7_days or due_later."""
    if deadline is None:
        return "stopped"
    left = (deadline - today).days
    if flagged_overdue or left < 0:
        return "overdue"
    if left <= 2:
        return "due_0_2_days"
    return "due_3_7_days" if left <= 7 else "due_later"


class DeskMetrics(DependencyProvider):
    """Gauges per category (never per centre or request: bounded labels)."""

    def get_dependency(self, worker_ctx):
        return self

    def _database(self) -> Database:
        return next(ext for ext in self.container.dependencies if isinstance(ext, Database))

    def snapshot(self, session, today: date) -> dict:
        rows = session.execute(
            select(Request.category, Request.deadline, Request.overdue_notified_at.is_not(None),
                   func.count())
            .where(Request.status.in_(OPEN_STATUSES))
            .group_by(Request.category, Request.deadline, Request.overdue_notified_at.is_not(None))
        ).all()
        open_by, overdue_by, windows, soonest = {}, {}, {}, {}
        for category, deadline, flagged, count in rows:
            open_by[category] = open_by.get(category, 0) + count
            window = window_of(deadline, flagged, today)
            windows[(category, window)] = windows.get((category, window), 0) + count
            if window == "overdue":
                overdue_by[category] = overdue_by.get(category, 0) + count
            if deadline is not None:
                left = (deadline - today).days
                soonest[category] = min(soonest.get(category, left), left)
        return {"open": open_by, "overdue": overdue_by, "windows": windows, "soonest": soonest}

    def collect_metrics(self):
        database = self._database()
        session = database.session_factory()
        try:
            snap = self.snapshot(session, today_in_china())
        finally:
            session.rollback()
            session.close()
        service = self.container.service_name
        open_family = GaugeMetricFamily("liudong_desk_open_requests", "Open proxy requests.",
                                        labels=["service", "category"])
        overdue_family = GaugeMetricFamily("liudong_desk_overdue_requests",
                                           "Open proxy requests past their deadline.",
                                           labels=["service", "category"])
        window_family = GaugeMetricFamily(
            "liudong_desk_requests_by_time_to_deadline",
            "Open proxy requests by calendar days left to the deadline.",
            labels=["service", "category", "window"])
        soonest_family = GaugeMetricFamily(
            "liudong_desk_days_to_nearest_deadline",
            "Calendar days to the nearest deadline among running clocks (negative: overdue).",
            labels=["service", "category"])
        for category, count in sorted(snap["open"].items()):
            open_family.add_metric([service, category], count)
            overdue_family.add_metric([service, category], snap["overdue"].get(category, 0))
        for (category, window), count in sorted(snap["windows"].items()):
            window_family.add_metric([service, category, window], count)
        for category, left in sorted(snap["soonest"].items()):
            soonest_family.add_metric([service, category], left)
        yield from (open_family, overdue_family, window_family, soonest_family)
