"""The console's pages and actions for one signed-in staff member. Actions call the same
services_desk RPCs as the API's routes (gateway/routes/services_desk.py), as this staff member."""
from datetime import date, timedelta
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from services.plumbing.clock import today_in_china
from services.plumbing.errors import ServiceError

from .. import audit
from ..routes.files import download
from . import charts, labels, security
from .rendering import html, json_reply, render

SERVICE = "services_desk"
QUEUE_FILTERS = ("queue", "page", "per_page", "sort", "category", "status", "language",
                 "service_day_id", "received_from", "received_to", "q")
# console action (URL) -> (RPC, form fields that make its body; None: no body)
ACTIONS = {
    "claim": ("claim_request", None),
    "accept": ("accept_request", None),
    "start": ("start_request", None),
    "materials-missing": ("request_materials", ("missing",)),
    "supplement": ("supplement_materials", ("note",)),
    "forward": ("forward_request", ("note",)),
    "assign": ("assign_request", ("assignee", "reason")),
    "extend": ("extend_deadline", ("extra_working_days", "reason")),
    "complete": ("complete_request", ("outcome",)),
    "reject": ("reject_request", ("reason",)),
    "withdraw": ("withdraw_request", ("reason",)),
    "reopen": ("reopen_request", ("reason",)),
}
STATS_MONTHS = 6


def _months_back(today: date, count: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


class Console:
    def __init__(self, gateway, request, trace_id, caller, display_name, token):
        self.gateway, self.request, self.trace_id = gateway, request, trace_id
        self.caller, self.display_name, self.token = caller, display_name, token

    # -- plumbing -----------------------------------------------------------------------------
    def call(self, method, *args):
        return self.gateway.client.call(SERVICE, method, self.caller.to_wire(), *args,
                                        trace_id=self.trace_id)

    def user_view(self) -> dict:
        return {"name": self.display_name, "csrf_token": security.csrf_for_session(self.token)}

    def page(self, template, status=200, **context) -> Response:
        return html(template, status=status, user=self.user_view(), **context)

    def audit(self, action, object_id, status, error_code=None):
        """Every console action in the gateway's audit, as the signed-in staff member."""
        audit.record(self.gateway.db_sessions, request_id=self.trace_id, actor_kind="user",
                     actor_id=self.caller.actor_id, role=self.caller.role,
                     org_id=self.caller.org_id, method=self.request.method,
                     route=f"/console/{action}"[:200], object_id=object_id, status=status,
                     error_code=error_code and str(error_code)[:40])

    @staticmethod
    def audit_name(endpoint, args) -> str:
        """How a console POST is named in the audit's route column (/console/<this>)."""
        if endpoint == "act":
            return f"requests/{args.get('action')}"
        return {"new_request": "requests", "schedule_day": "service-days"}.get(endpoint,
                                                                                endpoint)

    def wants_json(self) -> bool:
        return self.request.headers.get("Accept", "").startswith("application/json")

    # -- queues -------------------------------------------------------------------------------
    def _queue_params(self) -> dict:
        return {name: value for name in QUEUE_FILTERS
                if (value := self.request.args.get(name, "").strip())}

    def _queue(self):
        params = self._queue_params()
        try:
            return params, self.call("console_queue", params), None
        except ServiceError as exc:
            if exc.http_status != 400:
                raise
            fallback = {k: v for k, v in params.items() if k in ("queue",)}
            return params, self.call("console_queue", fallback), labels.refusal(
                exc.code, str(exc), getattr(exc, "fields", None))

    def _queue_context(self):
        params, data, error = self._queue()

        def link(**changes):
            merged = {**params, **changes}
            return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})

        return {"params": params, "data": data, "filter_error": error, "link": link,
                "queues": labels.QUEUES, "sorts": labels.SORTS,
                "rows_url": "/console/queue/rows" + link()}

    def queue(self):
        context = self._queue_context()
        name = dict(labels.QUEUES)[context["data"]["queue"]]
        return self.page("queue.html", title=f"{name}（{context['data']['total']}）· 服务中心工作台",
                         service_days=self._upcoming_days(), **context)

    def queue_rows(self):
        """The queue's live part (tabs with counts, rows, pager) for the page's polling."""
        context = self._queue_context()
        return Response(render("queue_rows.html", user=self.user_view(), **context),
                        content_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    # -- one request --------------------------------------------------------------------------
    def _name_keys(self, item):
        """The desk names its staff; a step taken through an API key (a county's system, a
        window's terminal) is named by the key's own name here, where keys are kept."""
        from ..models import ApiKey
        pairs = [(item, "submitted_by", "submitted_by_name")] + [
            (step, "actor_key_id", "actor_name") for step in item["steps"]]
        unnamed = {obj[key] for obj, key, name in pairs if obj[name] == obj[key]}
        if not unnamed:
            return
        with self.gateway.db_sessions() as session:
            found = {key_id: session.get(ApiKey, key_id) for key_id in unnamed}
        for obj, key, name in pairs:
            api_key = found.get(obj[key])
            if obj[name] == obj[key] and api_key is not None:
                obj[name] = f"接口：{api_key.name}"

    def detail(self, request_id, errors=None, status=200, done=None):
        item = self.call("console_request", request_id)
        self._name_keys(item)
        done = done or self.request.args.get("done")
        return self.page("detail.html", status=status, title=(
            f"{item['requester_name']} · {labels.CATEGORY.get(item['category'], item['category'])}"
            f" · 服务中心工作台"), item=item, errors=errors or {},
            done=labels.DONE.get(done), actions=labels.ACTIONS)

    def _action_body(self, action):
        method, fields = ACTIONS[action]
        form = self.request.form
        if fields is None:
            return method, None
        body = {}
        for name in fields:
            if name == "missing":
                body["missing"] = form.getlist("missing")
            elif name == "extra_working_days":
                raw = form.get(name, "").strip()
                body[name] = int(raw) if raw.isdigit() else raw
            elif form.get(name, "").strip():
                body[name] = form.get(name).strip()
        return method, body

    def act(self, request_id, action):
        if action not in ACTIONS:
            return self.page("message.html", status=404, title="找不到页面",
                             message="没有这个操作。")
        method, body = self._action_body(action)
        args = (request_id,) if body is None else (request_id, body)
        try:
            self.call(method, *args)
        except ServiceError as exc:
            message = labels.refusal(exc.code, str(exc), getattr(exc, "fields", None))
            self.audit(f"requests/{action}", request_id, exc.http_status, exc.code)
            if self.wants_json():
                return json_reply({"error": {"code": exc.code, "message": message}},
                                  exc.http_status)
            return self.detail(request_id, errors={action: message}, status=exc.http_status)
        self.audit(f"requests/{action}", request_id, 303)
        if self.wants_json():
            return json_reply({"ok": True, "action": labels.ACTIONS[action]})
        return redirect(f"/console/requests/{request_id}?done={action}", code=303)

    def new_request(self):
        form = self.request.form
        body = {name: form.get(name).strip() for name in (
            "requester_name", "requester_phone", "category", "description", "language",
            "service_day_id") if form.get(name, "").strip()}
        try:
            created = self.call("submit_request", body)
        except ServiceError as exc:
            self.audit("requests", None, exc.http_status, exc.code)
            return self.service_days(error=labels.refusal(exc.code, str(exc),
                                                          getattr(exc, "fields", None)),
                                     status=exc.http_status, form=form)
        self.audit("requests", created["id"], 303)
        return redirect(f"/console/requests/{created['id']}", code=303)

    # -- service days -------------------------------------------------------------------------
    def _upcoming_days(self):
        today = today_in_china()
        days = []
        for month in (today.strftime("%Y-%m"), (today.replace(day=1) + timedelta(days=32))
                      .strftime("%Y-%m")):
            days += self.call("list_service_days", {"month": month})["items"]
        return sorted((d for d in days if d["day"] >= today.isoformat()),
                      key=lambda d: d["day"])

    def service_days(self, error=None, status=200, form=None, day_error=None):
        return self.page("service_days.html", status=status, title="服务日 · 服务中心工作台",
                         days=self._upcoming_days(), error=error, day_error=day_error,
                         form=form or {}, today=today_in_china().isoformat())

    def schedule_day(self):
        body = {name: self.request.form.get(name, "").strip() for name in ("day", "site")}
        try:
            day = self.call("schedule_service_day", body)
        except ServiceError as exc:
            self.audit("service-days", None, exc.http_status, exc.code)
            return self.service_days(day_error=labels.refusal(
                exc.code, str(exc), getattr(exc, "fields", None)), status=exc.http_status)
        self.audit("service-days", day["id"], 303)
        return redirect("/console/service-days", code=303)

    # -- statistics and the register ------------------------------------------------------------
    def stats(self):
        today = today_in_china()
        month = self.request.args.get("month") or today.strftime("%Y-%m")
        current = self.call("statistics", {"month": month})
        return self.page("stats.html", title=f"统计 {month} · 服务中心工作台", month=month,
                         months=_months_back(today, 12), stats=current)

    def chart(self, chart):
        today = today_in_china()
        month = self.request.args.get("month") or today.strftime("%Y-%m")
        if chart == "monthly":
            months = _months_back(today, STATS_MONTHS)
            received, completed = [], []
            for each in months:
                rows = self.call("statistics", {"month": each})["by_category"]
                received.append(sum(r["received"] for r in rows))
                completed.append(sum(r["completed"] for r in rows))
            svg = charts.monthly_volume(months, received, completed)
        elif chart == "on-time-by-month":
            months = _months_back(today, STATS_MONTHS)
            rates = []
            for each in months:
                rows = self.call("statistics", {"month": each})["by_category"]
                done = sum(r["completed"] for r in rows)
                on_time = sum((r["on_time_rate"] or 0) * r["completed"] for r in rows)
                rates.append(on_time / done if done else None)
            svg = charts.on_time_rate(months, rates, "按月按时办结率")
        elif chart in ("on-time-by-category", "handling", "ratings"):
            data = self.call("statistics", {"month": month})
            rows = data["by_category"]
            names = [labels.CATEGORY.get(r["category"], r["category"]) for r in rows]
            if chart == "on-time-by-category":
                svg = charts.on_time_rate(names, [r["on_time_rate"] for r in rows],
                                          f"{month} 按类别按时办结率")
            elif chart == "handling":
                svg = charts.handling_hours(names, [r["median_handling_hours"] for r in rows])
            else:
                staff = {s["key_id"]: s["name"] for s in self.call("list_staff")["items"]}
                items = data["ratings_by_staff"]
                svg = charts.ratings([staff.get(r["first_owner"], "—") for r in items],
                                     [r["average"] for r in items])
        else:
            return self.page("message.html", status=404, title="找不到页面", message="没有这个图表。")
        return Response(svg, content_type="image/svg+xml; charset=utf-8", headers={
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    def register(self, file_format):
        if file_format not in ("csv", "xlsx"):
            return self.page("message.html", status=404, title="找不到页面", message="没有这种格式。")
        month = self.request.args.get("month") or today_in_china().strftime("%Y-%m")
        try:
            exported = self.call("export_register", {"month": month, "format": file_format})
        except ServiceError as exc:
            if exc.http_status != 400:
                raise
            return self.page("message.html", status=400, title="月报表",
                             message=labels.refusal(exc.code, str(exc),
                                                    getattr(exc, "fields", None)),
                             link="/console/stats")
        return download(exported)
