"""The two HTML pages: `/api/v1/docs` (the OpenAPI document, rendered in the browser by a small
script of our own: no CDN, the platform may run without Internet) and `/console` (desk staff
sign in with their personal login and see their centre's queue; server-rendered)."""
from html import escape

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from services.plumbing.errors import ServiceError

from . import keys
from .rpc import ServiceTimeout, ServiceUnavailable

COOKIE = "ld_console"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}.m{font-family:monospace}
.op{border:1px solid #ddd;margin:.6em 0;padding:.4em .8em;border-radius:4px}
.get{color:#06c}.post{color:#080}.delete{color:#b00}pre{background:#f7f7f7;padding:.5em;
overflow:auto}.err{color:#b00}"""


def _html(body: str, status: int = 200, title: str = "流动党员服务平台") -> Response:
    page = (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>{escape(title)}"
            f"</title><style>{STYLE}</style></head><body>{body}</body></html>")
    return Response(page, status=status, content_type="text/html; charset=utf-8",
                    headers=SECURITY_HEADERS)


# -- /api/v1/docs ------------------------------------------------------------------------------
DOCS_SCRIPT = r"""
const el = (tag, cls, text) => { const e = document.createElement(tag);
  if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const show = (v) => JSON.stringify(v, null, 2);
fetch('openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('doc');
  root.appendChild(el('h1', '', doc.info.title + ' ' + doc.info.version));
  root.appendChild(el('p', '', doc.info.description));
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags || ['other'])[0];
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  // what the platform POSTs to your webhook endpoints, one entry per event type
  for (const [name, ops] of Object.entries(doc.webhooks || {})) {
    for (const [method, op] of Object.entries(ops)) {
      (byTag['webhook payloads'] = byTag['webhook payloads'] || []).push(
        [method, 'your endpoint: ' + name, op]);
    }
  }
  for (const [tag, ops] of Object.entries(byTag)) {
    root.appendChild(el('h2', '', tag));
    for (const [method, path, op] of ops) {
      const box = el('div', 'op');
      const head = el('h3', 'm');
      head.appendChild(el('span', method, method.toUpperCase() + ' '));
      head.appendChild(document.createTextNode(path));
      box.appendChild(head);
      box.appendChild(el('p', '', op.summary + (op.description ? ' — ' + op.description : '')));
      box.appendChild(el('p', '', (op.security && op.security.length)
                                  ? 'Auth: Bearer key' : 'Auth: none'));
      if (op.parameters && op.parameters.length) {
        box.appendChild(el('h4', '', 'Parameters'));
        const t = el('table'); t.appendChild(el('tr')).append(el('th', '', 'in'),
          el('th', '', 'name'), el('th', '', 'required'), el('th', '', 'schema / description'));
        for (const p of op.parameters) {
          t.appendChild(el('tr')).append(el('td', '', p.in), el('td', 'm', p.name),
            el('td', '', p.required ? 'yes' : 'no'),
            el('td', 'm', (p.description || '') + ' ' + show(p.schema || {})));
        }
        box.appendChild(t);
      }
      if (op.requestBody) {
        box.appendChild(el('h4', '', 'Body'));
        box.appendChild(el('pre', '', show(op.requestBody.content)));
      }
      box.appendChild(el('h4', '', 'Responses'));
      const t = el('table');
      for (const [code, r] of Object.entries(op.responses)) {
        const c = r.content ? Object.entries(r.content).map(([k, v]) => k + ' ' +
                  show(v.schema)).join('\n') : '';
        t.appendChild(el('tr')).append(el('td', 'm', code), el('td', '', r.description),
                                       el('td', 'm', c));
      }
      box.appendChild(t);
      root.appendChild(box);
    }
  }
  root.appendChild(el('h2', '', 'Schemas'));
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    root.appendChild(el('h3', 'm', name));
    root.appendChild(el('pre', '', show(schema)));
  }
}).catch(e => { document.getElementById('doc').appendChild(el('p', 'err', String(e))); });
"""


def docs(gateway, request, request_id):
    return _html("<div id='doc'><noscript>This page renders <a href='openapi.json'>"
                 "openapi.json</a> with a script.</noscript></div>"
                 f"<script>{DOCS_SCRIPT}</script>", title="API documentation")


# -- /console ----------------------------------------------------------------------------------
LOGIN_FORM = """<h1>服务中心工作台 · Staff console</h1>{message}
<form method='post' action='/console/login'>
<p><label>Username <input name='username' autocomplete='username' required></label></p>
<p><label>Password <input name='password' type='password' autocomplete='current-password'
required></label></p><p><button>Sign in</button></p></form>"""

QUEUE_COLUMNS = ("created_at", "category", "requester_name", "description", "status",
                 "first_owner", "assignee")


def _signed_in(gateway, request):
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    with gateway.key_sessions() as session:
        return keys.authenticate_session(session, token)


def console(gateway, request, request_id):
    caller = _signed_in(gateway, request)
    if caller is None:
        return _html(LOGIN_FORM.format(message=""))
    with gateway.key_sessions() as session:
        from .models import StaffUser
        user = session.get(StaffUser, caller.key_id[len(keys.USER_PREFIX):])
        name = user.display_name if user else caller.key_id
    try:
        queue = gateway.client.call("services_desk", "list_requests", caller.to_wire(),
                                    {"limit": 100}, request_id=request_id)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(item.get(c) or ''))}</td>" for c in QUEUE_COLUMNS)
            + "</tr>" for item in queue["items"])
        table = ("<table><tr>" + "".join(f"<th>{c}</th>" for c in QUEUE_COLUMNS) + "</tr>"
                 + (rows or f"<tr><td colspan='{len(QUEUE_COLUMNS)}'>The queue is empty."
                            "</td></tr>") + "</table>")
    except (ServiceError, ServiceUnavailable, ServiceTimeout) as exc:
        table = f"<p class='err'>The queue cannot be shown right now: {escape(str(exc))}</p>"
    return _html(f"<h1>服务中心工作台 · Queue</h1><p>Signed in as {escape(name)} "
                 f"(centre <span class='m'>{escape(caller.org_id or '')}</span>).</p>"
                 f"<form method='post' action='/console/logout'><button>Sign out</button></form>"
                 f"{table}")


def console_login(gateway, request, request_id):
    request.max_content_length = gateway.max_body_bytes
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:200]
    from .errors import HttpError
    from .ratelimit import client_address
    # The same throttle as POST /api/v1/sessions: per client address and username.
    throttle, address = gateway.sign_in_throttle, client_address(request)
    try:
        throttle.check(address, username)
    except HttpError as exc:
        return _html(LOGIN_FORM.format(message=f"<p class='err'>Too many attempts; wait "
                                               f"{exc.headers['Retry-After']} s.</p>"), status=429)
    with gateway.key_sessions() as session:
        signed_in = keys.sign_in(session, username, password) if username and password else None
        session.commit()
    if signed_in is None:
        throttle.failed(address, username)
        return _html(LOGIN_FORM.format(
            message="<p class='err'>Wrong username or password.</p>"), status=401)
    throttle.succeeded(address, username)
    staff_session, token = signed_in
    response = redirect("/console", code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/console",
                        secure=request.scheme == "https",
                        max_age=int(keys.session_lifetime().total_seconds()))
    return response


def console_logout(gateway, request, request_id):
    token = request.cookies.get(COOKIE, "")
    with gateway.key_sessions() as session:
        keys.end_session(session, token)
        session.commit()
    response = redirect("/console", code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response
