"""The staff console at /console (a clerk's working day: queues, a request with its ledger and
every desk action, statistics, the monthly register, service days) and the API documentation
at /api/v1/docs (Swagger UI from the swagger-ui-bundle package, served from here: no CDN).

Pages are Jinja2 templates (gateway/templates), static files come from gateway/static with
cache headers. Every action calls the same service RPC the API route calls, as the signed-in
staff member, so the desk's rules (首问 ownership, language routing, transitions) are the
API's. Every POST needs the CSRF token and a same-origin Origin (security.py) and is audited."""
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from services.plumbing.errors import ServiceError

from .. import audit, keys
from ..rpc import ServiceTimeout, ServiceUnavailable
from . import security
from .rendering import asset_response, docs_asset, html, swagger_asset
from .views import Console

URLS = Map([
    Rule("/console", endpoint="queue", methods=["GET"]),
    Rule("/console/queue/rows", endpoint="queue_rows", methods=["GET"]),
    Rule("/console/login", endpoint="login", methods=["POST"]),
    Rule("/console/logout", endpoint="logout", methods=["POST"]),
    Rule("/console/requests", endpoint="new_request", methods=["POST"]),
    Rule("/console/requests/<request_id>", endpoint="detail", methods=["GET"]),
    Rule("/console/requests/<request_id>/<action>", endpoint="act", methods=["POST"]),
    Rule("/console/stats", endpoint="stats", methods=["GET"]),
    Rule("/console/stats/<chart>.svg", endpoint="chart", methods=["GET"]),
    Rule("/console/register.<file_format>", endpoint="register", methods=["GET"]),
    Rule("/console/service-days", endpoint="service_days", methods=["GET"]),
    Rule("/console/service-days", endpoint="schedule_day", methods=["POST"]),
    Rule("/console/static/<path:name>", endpoint="static", methods=["GET"]),
], strict_slashes=False)


def docs(gateway, request, trace_id):
    """/api/v1/docs: Swagger UI over /api/v1/openapi.json; /api/v1/docs/<asset>: its files."""
    path = request.path.rstrip("/")
    if path == "/api/v1/docs":
        return html("docs.html", title="API 文档 · 流动党员服务平台", docs=True)
    name = path.rsplit("/", 1)[1]
    asset = docs_asset(name) or swagger_asset(name)
    return asset.make_conditional(request) if asset else html(
        "message.html", status=404, title="找不到页面", message="没有这个文件。")


def console(gateway, request, trace_id):
    """Every /console URL: sign-in, CSRF and Origin checks, then the page or action."""
    from ..ratelimit import client_address
    token = security.session_token(request)
    with gateway.db_sessions() as session:
        caller = keys.authenticate_session(session, token) if token else None
        if caller is not None:
            from ..models import StaffUser
            user = session.get(StaffUser, caller.actor_id)
            display_name = user.display_name if user else caller.key_id
    # Signed in: the person's own limit (like a key's); otherwise the per-address one.
    if caller is not None:
        gateway.rate_limits.hit(caller.key_id)
    else:
        gateway.rate_limits.hit_public(client_address(request))
    try:
        endpoint, args = URLS.bind_to_environ(request.environ).match()
    except NotFound:
        return html("message.html", status=404, title="找不到页面", message="没有这个页面。")
    except MethodNotAllowed:
        return html("message.html", status=405, title="不支持的请求", message="不支持这种请求。")
    if endpoint == "static":
        asset = asset_response(args["name"])
        return asset.make_conditional(request) if asset else html(
            "message.html", status=404, title="找不到页面", message="没有这个文件。")
    if endpoint == "login":
        return login(gateway, request, trace_id)
    if caller is None:
        if request.method == "POST" or endpoint == "queue_rows":
            return html("message.html", status=401, title="请先登录",
                        message="登录已过期，请重新登录。", link="/console")
        return login_form(request)
    page = Console(gateway, request, trace_id, caller, display_name, token)
    if request.method == "POST":
        if not security.check_signed_in_post(request, token):
            page.audit(page.audit_name(endpoint, args), args.get("request_id"), 403,
                       "csrf_failed")
            return html("message.html", status=403, title="请求被拒绝",
                        message="请求被拒绝：缺少有效的安全令牌或来自其他网站。请回到工作台重新操作。",
                        link="/console")
        if endpoint == "logout":
            return logout(gateway, request, page)
    try:
        return getattr(page, endpoint)(**args)
    except (ServiceUnavailable, ServiceTimeout):
        return html("message.html", status=503, title="服务暂时不可用", user=page.user_view(),
                    message="服务暂时不可用，请稍后刷新。")
    except ServiceError as exc:
        if exc.http_status == 404:
            return html("message.html", status=404, title="找不到事项", user=page.user_view(),
                        message="找不到这个事项（或不属于您的中心）。", link="/console")
        raise


def login_form(request, message: str = "", status: int = 200) -> Response:
    csrf = security.new_login_token()
    response = html("login.html", status=status, title="登录 · 服务中心工作台", message=message,
                    csrf_token=csrf)
    security.set_cookie(response, request, security.LOGIN_COOKIE, csrf, 600)
    return response


def _audit_sign_in(gateway, request, trace_id, route, status, actor, error=None):
    kind, actor_id, role, org_id = actor
    audit.record(gateway.db_sessions, request_id=trace_id, actor_kind=kind,
                 actor_id=actor_id, role=role, org_id=org_id, method="POST", route=route,
                 object_id=None, status=status, error_code=error)


def login(gateway, request, trace_id):
    request.max_content_length = gateway.max_body_bytes
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:200]
    anonymous = ("anonymous", None, None, None)
    if not security.check_login_post(request):
        _audit_sign_in(gateway, request, trace_id, "/console/login", 403, anonymous,
                       "csrf_failed")
        return login_form(request, "请求被拒绝：请从本页登录。", 403)
    from ..errors import HttpError
    from ..ratelimit import client_address
    # The same throttle as POST /api/v1/sessions: per client address and username.
    throttle, address = gateway.sign_in_throttle, client_address(request)
    try:
        throttle.check(address, username)
    except HttpError as exc:
        _audit_sign_in(gateway, request, trace_id, "/console/login", 429, anonymous,
                       exc.code)
        return login_form(request, f"尝试次数过多，请 {exc.headers['Retry-After']} 秒后再试。",
                          429)
    with gateway.db_sessions() as session:
        signed_in = keys.sign_in(session, username, password) if username and password else None
        session.commit()
        user = None
        if signed_in is not None:
            from ..models import StaffUser
            user = session.get(StaffUser, signed_in[0].user_id)
            actor = ("user", user.id, user.role, user.org_id)
    if signed_in is None:
        throttle.failed(address, username)
        _audit_sign_in(gateway, request, trace_id, "/console/login", 401, anonymous,
                       "sign_in_failed")
        return login_form(request, "用户名或密码不正确。", 401)
    throttle.succeeded(address, username)
    _audit_sign_in(gateway, request, trace_id, "/console/login", 303, actor)
    response = redirect("/console", code=303)
    security.set_cookie(response, request, security.SESSION_COOKIE, signed_in[1],
                        security.session_max_age())
    response.delete_cookie(security.LOGIN_COOKIE, path=security.COOKIE_PATH)
    return response


def logout(gateway, request, page):
    with gateway.db_sessions() as session:
        keys.end_session(session, page.token)
        session.commit()
    page.audit("logout", None, 303)
    response = redirect("/console", code=303)
    response.delete_cookie(security.SESSION_COOKIE, path=security.COOKIE_PATH)
    return response


__all__ = ["console", "docs"]
