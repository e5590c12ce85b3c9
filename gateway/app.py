"""The WSGI application: trace ids, authentication, role checks, JSON in and out, one error
format, and service errors mapped to HTTP statuses. No stack trace ever reaches a caller.

Every request takes the same steps (`Gateway.__call__`): a CORS preflight is answered at once;
any other request is matched to a route of the table (gateway/routes: the API, health, the
documents, the console), admitted (key, rate limit, role), and dispatched to the route's
handler; whatever a step raises becomes one error response (`error_response`); `finish` adds
the headers, the audit row, the metrics and the log line."""
import json
import logging
import re
import time
import uuid

from eventlet.greenpool import GreenPool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from services import SERVICE_CLASSES
from services.plumbing import logs
from services.plumbing.caller import PUBLIC_ROLE, Caller
from services.plumbing.errors import ServiceError
from services.plumbing.text import first_unstorable, storable, with_article

from . import audit, keys
from .cors import CorsPolicy
from .errors import HttpError, error_body
from .json_input import check_content_type, parse_json
from .ratelimit import RateLimits, SignInThrottle, client_address
from .routes import ALL_ROUTES, Reply
from .rpc import ServiceTimeout, ServiceUnavailable

log = logging.getLogger("gateway")

# Public routes (no key) reach the services as this caller; services must treat it as having no
# tenant at all and show only what is public.
PUBLIC_CALLER = Caller(actor_kind=None, actor_id="", role=PUBLIC_ROLE, org_id=None)
# A trace id a client may choose (X-Request-Id); any other gets a new one.
TRACE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")
# A 503 tells the client when to try again (with the same Idempotency-Key for a write).
RETRY_LATER = {"Retry-After": "5"}


def reject_unstorable(document) -> None:
    """JSON may carry NUL characters and lone surrogates that no database stores: a 400 here,
    for every route at once, rather than a 500 from deep inside a service."""
    where = first_unstorable(document)
    if where:
        raise HttpError(400, "validation_failed", "invalid input", {
            where: ["must not contain NUL characters or unpaired surrogates"]})


class SessionOnFirstUse:
    """A database session opened only if something uses it: a key the key cache knows (nearly
    every request) needs none, and opening and closing one cost ~15 µs a request (issue 13)."""

    def __init__(self, factory):
        self._factory = factory
        self._session = None

    def __getattr__(self, name):
        if self._session is None:
            self._session = self._factory()
        return getattr(self._session, name)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


class RequestContext:
    """What a route handler works with: the caller, the body, the query, and `call`."""

    def __init__(self, gateway, request: Request, caller, trace_id: str):
        self.gateway = gateway
        self.request = request
        self.caller = caller
        self.trace_id = trace_id
        # (kind, id, role, org) of who acted, when it is not the caller (a sign-in).
        self.audit_actor = None
        self._key_passed_as_argument = False
        self.body_limit = gateway.body_limit(None)  # (bytes, the setting): the route's own

    def bearer_token(self) -> str:
        return self.request.headers.get("Authorization", "").partition(" ")[2].strip()

    def call(self, service: str, method: str, *args):
        """Call a service as the caller. A write's Idempotency-Key travels along (unless the
        handler passed it as an argument itself): the service runs the request once per key."""
        key = None
        if self.request.method != "GET" and not self._key_passed_as_argument:
            key = self._checked_idempotency_key()
        return self.gateway.client.call(service, method, self.caller.to_wire(), *args,
                                        trace_id=self.trace_id, idempotency_key=key)

    def json_body(self, optional: bool = False):
        raw = self.gateway.read_body(self.request, self.body_limit)
        if not raw.strip():
            if optional:
                return {}
            raise HttpError(400, "malformed_json", "a JSON object body is required")
        check_content_type(self.request.mimetype, self.request.mimetype_params.get("charset"))
        body = parse_json(raw)
        if not isinstance(body, dict):
            raise HttpError(400, "malformed_json", "the body must be a JSON object",
                            {"_schema": ["expected a JSON object"]})
        reject_unstorable(body)
        return body

    def form_upload(self, field: str = "file"):
        """A multipart/form-data body: (its other fields, the file). werkzeug spools the file
        to a temporary file beyond 500 KiB, so an upload never sits in memory whole; over the
        route's limit it is a 413 before or while it is read."""
        self.gateway.check_length(self.request, self.body_limit)
        self.request.max_content_length = self.body_limit[0]
        # The fields besides the file; above werkzeug's 64 KiB read size, which it also bounds.
        self.request.max_form_memory_size = 512 * 1024
        self.request.max_form_parts = 50
        try:
            files, form = self.request.files, self.request.form
        except RequestEntityTooLarge:
            raise self.gateway.too_large(self.body_limit) from None
        upload = files.get(field)
        if upload is None or len(files) != 1:
            raise HttpError(400, "validation_failed", "invalid input", {field: [
                f"send exactly one file, in the multipart field named {field}"]})
        fields = form.to_dict(flat=True)
        reject_unstorable(fields)
        return fields, upload

    def query(self) -> dict:
        params = self.request.args.to_dict(flat=True)
        reject_unstorable(params)
        return params

    def idempotency_key(self):
        """The request's Idempotency-Key, for a handler that hands it to a service itself."""
        self._key_passed_as_argument = True
        return self._checked_idempotency_key()

    def _checked_idempotency_key(self):
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not IDEMPOTENCY_KEY.match(key):
            raise HttpError(400, "validation_failed", "invalid Idempotency-Key header",
                            {"Idempotency-Key": ["1 to 100 printable ASCII characters"]})
        return key


class Exchange:
    """One request on its way through the gateway's steps: what they found out, for the audit
    row, the metrics and the log line at the end."""

    def __init__(self, request: Request, trace_id: str):
        self.request, self.trace_id = request, trace_id
        self.started = time.perf_counter()
        self.label = "unmatched"  # the route in metrics, logs and the audit: its template or URL
        self.audited = False
        self.path_args = {}
        self.caller = None
        self.ctx = None
        self.reply = None  # the handler's body, for the audit row: never parsed back
        self.error_code = None


class Gateway:
    def __init__(self, client, db_sessions, metrics, max_body_bytes: int = 1024 * 1024,
                 openapi_document=None, rate_limits: RateLimits | None = None,
                 cors: CorsPolicy | None = None, max_upload_bytes: int = 32 * 1024 * 1024):
        self.client = client
        self.db_sessions = db_sessions  # the gateway's own database: keys, sessions, audit
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # File uploads (a county's whole ledger) have their own, larger limit; every other
        # route keeps the small one.
        self.max_upload_bytes = max_upload_bytes
        self.rate_limits = rate_limits or RateLimits()
        self.cors = cors or CorsPolicy()
        self.sign_in_throttle = SignInThrottle()
        self.audit_denials = audit.DenialBound()
        self.routes = {route.name: route for route in ALL_ROUTES}
        self.url_map = Map([Rule(r.path, endpoint=r.name, methods=[r.method]) for r in ALL_ROUTES],
                           strict_slashes=False)
        self._openapi_document = openapi_document

    # -- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        exchange = Exchange(request, self.trace_id(request))
        logs.set_context(trace_id=exchange.trace_id, event_id=None, entrypoint=None)
        self.metrics.in_flight.inc()
        try:
            response = self.answer(exchange)
        except Exception as exc:
            response = self.error_response(exchange, exc)
        finally:
            self.metrics.in_flight.dec()
        self.finish(exchange, response)
        logs.set_context(trace_id=None)
        return response(environ, start_response)

    @staticmethod
    def trace_id(request: Request) -> str:
        """The client's own X-Request-Id when it is a plain token, else a new one."""
        given = request.headers.get("X-Request-Id", "")
        return given if TRACE_ID.match(given) else uuid.uuid4().hex

    def answer(self, exchange: Exchange) -> Response:
        """The request's response; what goes wrong is raised, for `error_response`."""
        request = exchange.request
        adapter = self.url_map.bind_to_environ(request.environ)
        if self.is_preflight(request):
            exchange.label = "preflight"
            response = self.preflight(adapter, request)
            self.rate_limits.hit_public(client_address(request))
            return response
        route = self.find_route(exchange, adapter)
        exchange.label = request.path if route.page else route.path
        exchange.audited = route.audited
        if route.public:
            # per client address; a 429 here is labelled and audited (a denial) like any other
            self.rate_limits.hit_public(client_address(request))
        self.admit(exchange, route)
        return self.dispatch(exchange, route)

    def find_route(self, exchange: Exchange, adapter):
        """The request's route; 404 for none, 405 for a method the route does not take (audited
        under the route's template)."""
        try:
            endpoint, exchange.path_args = self.match(adapter)
        except HttpError as exc:
            if exc.status == 405:
                allowed = exc.headers["Allow"].split(", ")[0]
                exchange.label = adapter.match(method=allowed, return_rule=True)[0].rule
                exchange.audited = True
            raise
        return self.routes[endpoint]

    def admit(self, exchange: Exchange, route) -> None:
        """Who calls: the public caller, or a key's or console session's within its rate limit
        and with a role the route allows (401, 429, 403 otherwise). The console signs people in
        itself."""
        if route.public:
            exchange.caller = PUBLIC_CALLER
            return
        if route.own_sign_in:
            return
        caller, key_limit = self.resolve(exchange.request)
        exchange.caller = caller
        self.rate_limits.hit(caller.key_id, key_limit)  # per actor: a key, or a person
        if caller.role not in route.roles:
            raise HttpError(403, "forbidden", f"{with_article(caller.role)} key may not call "
                                              f"{route.method} {route.path}")

    def dispatch(self, exchange: Exchange, route) -> Response:
        """The route's handler, and its answer as a response: a body with the route's status,
        a `Reply` with its own, or a Response as it is."""
        ctx = exchange.ctx = RequestContext(self, exchange.request, exchange.caller,
                                            exchange.trace_id)
        ctx.body_limit = self.body_limit(route)
        if not route.page and any(not storable(value) for value in exchange.path_args.values()):
            raise HttpError(404, "not_found", "not found")
        result = route.handler(ctx, **exchange.path_args)
        if isinstance(result, Response):
            return result
        reply = result if isinstance(result, Reply) else Reply(route.status, result)
        exchange.reply = reply.body
        return self.json_response(reply.status, reply.body)

    def error_response(self, exchange: Exchange, exc: Exception) -> Response:
        """The one error format, whatever a step raised; an unexpected error is logged and is a
        500 quoting the trace id."""
        headers = None
        if isinstance(exc, HttpError):
            code, status, headers = exc.code, exc.status, exc.headers
            body = error_body(exc.code, exc.message, exc.fields)
        elif isinstance(exc, ServiceError):
            code, status, body = exc.code, exc.http_status, {"error": exc.as_dict()}
            headers = RETRY_LATER if status == 503 else None
        elif isinstance(exc, (DBAPIError, PoolTimeout)):
            # The gateway's own database (keys, audit) is away: the client may retry.
            log.warning("gateway database unavailable: %s", exc)
            code, status, headers = "service_unavailable", 503, RETRY_LATER
            body = error_body(code, "the gateway's database is unavailable; retry shortly")
        elif isinstance(exc, ServiceUnavailable):
            code, status, headers = "service_unavailable", 503, RETRY_LATER
            body = error_body(code, str(exc))
        elif isinstance(exc, ServiceTimeout):
            # The request may or may not have been applied: retry with the same Idempotency-Key.
            code, status, headers = "service_timeout", 504, RETRY_LATER
            body = error_body(code, str(exc))
        else:
            log.error("unhandled error", exc_info=exc)
            code, status = "internal_error", 500
            body = error_body(code, f"internal error; quote request id {exchange.trace_id}")
        exchange.error_code = code
        return self.json_response(status, body, headers)

    def finish(self, exchange: Exchange, response: Response) -> None:
        """The trace id and CORS headers, the audit row, the metrics and the log line."""
        request, caller = exchange.request, exchange.caller
        response.headers["X-Request-Id"] = exchange.trace_id
        if request.path.startswith("/api/") and "Access-Control-Allow-Origin" not in response.headers:
            response.headers.extend(self.cors.response_headers(request.headers.get("Origin")))
        if (exchange.audited
                and audit.should_record(request.method, response.status_code, bool(exchange.path_args))
                and self._within_denial_bound(request, caller, response.status_code)):
            self._audit(exchange, response)
        seconds = time.perf_counter() - exchange.started
        self.metrics.http_request(exchange.label, request.method, response.status_code, seconds)
        logs.log_fields(log, logging.INFO, "http request", method=request.method,
                        route=exchange.label, status=response.status_code,
                        duration_ms=round(seconds * 1000, 1),
                        key_id=caller.key_id if caller and not caller.is_public else None)

    def _within_denial_bound(self, request, caller, status: int) -> bool:
        """Denials (and 404s on ids, 405s) are recorded up to a bound per key or, without one,
        per client address: a scan of ids or methods must not flood the audit. What is not
        recorded is counted in `liudong_gateway_audit_suppressed_total`."""
        if not audit.is_denial(status):
            return True
        who = caller.key_id if caller is not None and not caller.is_public else None
        if self.audit_denials.allows(who or "address:" + client_address(request)):
            return True
        self.metrics.audit_suppressed.inc()
        return False

    def _audit(self, exchange: Exchange, response: Response) -> None:
        request, caller, ctx = exchange.request, exchange.caller, exchange.ctx
        if ctx is not None and ctx.audit_actor is not None:
            kind, actor_id, role, org_id = ctx.audit_actor
        elif caller is not None and not caller.is_public:
            kind, actor_id, role, org_id = caller.actor_kind, caller.actor_id, caller.role, caller.org_id
        else:
            kind, actor_id = keys.presented_actor(
                request.headers.get("Authorization", "").partition(" ")[2].strip())
            role = org_id = None
        path_args = exchange.path_args
        object_id = next(iter(path_args.values()), None) if path_args else None
        reply = exchange.reply if exchange.error_code is None else None
        if object_id is None and isinstance(reply, dict) and isinstance(reply.get("id"), str):
            object_id = reply["id"]  # what a create made
        error_code = exchange.error_code and str(exchange.error_code)[:40]
        # The audit's column keeps its name, request_id: it holds the trace id.
        audit.record(self.db_sessions, request_id=exchange.trace_id, actor_kind=kind,
                     actor_id=actor_id, role=role, org_id=org_id, method=request.method,
                     route=exchange.label, object_id=(object_id or None) and str(object_id)[:64],
                     status=response.status_code, error_code=error_code)

    # -- pieces -------------------------------------------------------------------------------------
    @staticmethod
    def match(adapter, method: str | None = None):
        """(endpoint, path arguments) of the request (or of `method` on its path); 404 for no
        such route, 405 (with Allow) for a method the route does not take."""
        try:
            return adapter.match(method=method)
        except RouteNotFound:
            raise HttpError(404, "not_found", "no such route") from None
        except MethodNotAllowed as exc:
            raise HttpError(405, "method_not_allowed", "method not allowed on this route",
                            headers={"Allow": ", ".join(exc.valid_methods or [])}) from None

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers

    def preflight(self, adapter, request: Request) -> Response:
        """A browser asks whether its page's origin may call a route (see gateway/cors.py)."""
        method = request.headers["Access-Control-Request-Method"].strip().upper()
        self.match(adapter, method)
        origin = request.headers.get("Origin")
        if not self.cors.allows(origin):
            raise HttpError(403, "origin_not_allowed", "this origin is not in the gateway's "
                                                       "CORS allow-list (GATEWAY_CORS_ORIGINS)")
        return Response(status=204, headers=self.cors.preflight_headers(origin, method))

    def resolve(self, request: Request):
        """(caller, the key's own rate limit or None); 401 without a valid key or session."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError(401, "unauthenticated", "send Authorization: Bearer <api key>",
                            headers={"WWW-Authenticate": "Bearer"})
        session = SessionOnFirstUse(self.db_sessions)
        try:
            principal = keys.resolve(session, token.strip())
        finally:
            session.close()
        if principal is None:
            raise HttpError(401, "unauthenticated", "unknown, expired or revoked API key "
                                                    "(or console session)",
                            headers={"WWW-Authenticate": "Bearer"})
        return principal

    def body_limit(self, route) -> tuple[int, str]:
        """(bytes, the setting that says so) for a route's body."""
        if route is not None and route.upload:
            return self.max_upload_bytes, "GATEWAY_MAX_UPLOAD_BYTES"
        return self.max_body_bytes, "GATEWAY_MAX_BODY_BYTES"

    @staticmethod
    def too_large(limit: tuple[int, str]) -> HttpError:
        size, setting = limit
        kind = "upload limit" if setting == "GATEWAY_MAX_UPLOAD_BYTES" else "body limit"
        return HttpError(413, "body_too_large", f"the body exceeds this route's {kind} of "
                                                f"{size} bytes ({setting})",
                         {"body": [f"at most {size} bytes ({kind}, {setting})"]})

    def check_length(self, request: Request, limit: tuple[int, str]) -> None:
        if request.content_length is not None and request.content_length > limit[0]:
            raise self.too_large(limit)

    def read_body(self, request: Request, limit: tuple[int, str] | None = None) -> bytes:
        cached = getattr(request, "_liudong_body", None)
        if cached is not None:
            return cached
        limit = limit or self.body_limit(None)
        self.check_length(request, limit)
        raw = request.stream.read(limit[0] + 1)
        if len(raw) > limit[0]:
            raise self.too_large(limit)
        request._liudong_body = raw
        return raw

    @staticmethod
    def json_response(status: int, body, headers: dict | None = None) -> Response:
        if status == 204:
            return Response(status=204, headers=headers)
        response = Response(json.dumps(body, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8")
        response.headers["X-Content-Type-Options"] = "nosniff"  # JSON is never run as a script
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def health(self) -> Reply:
        """Broker and every service; 200 only when all answer, else 503."""
        broker_ok = self.client.broker_ok()
        services = {}

        def probe(service):
            # No consumer on its RPC queue: down, at once (a call would only wait and time out).
            if not self.client.consumers_of(service):
                return service, "unavailable"
            try:
                self.client.call(service, "health", timeout=2.0)
                return service, "ok"
            except ServiceTimeout:
                return service, "timeout"
            except Exception:
                return service, "unavailable"

        if broker_ok:
            services = dict(GreenPool(len(SERVICE_CLASSES)).imap(probe, SERVICE_CLASSES))
        else:
            services = {service: "unavailable" for service in SERVICE_CLASSES}
        healthy = broker_ok and all(state == "ok" for state in services.values())
        body = {"status": "ok" if healthy else "degraded",
                "broker": "ok" if broker_ok else "unavailable", "services": services}
        return Reply(200 if healthy else 503, body)

    def openapi_document(self):
        if self._openapi_document is None:
            from .openapi import build_document
            self._openapi_document = build_document()
        return self._openapi_document
