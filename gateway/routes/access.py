"""Access: API keys, personal staff logins, console sessions and the audit trail. The gateway
answers these itself from its own database (no service call except to check an org unit)."""
from datetime import timedelta

from sqlalchemy import select
from werkzeug.wrappers import Response

from services.plumbing.errors import Conflict, NotFound, ValidationFailed
from services.plumbing.pagination import iso_utc
from services.plumbing.validation import load

from .. import audit, keys
from ..errors import HttpError
from ..models import ApiKey, StaffUser
from ..ratelimit import client_address
from ..schemas import (
    AuditExportQuerySchema,
    AuditQuerySchema,
    KeyCreateSchema,
    KeyRotateSchema,
    SessionCreateSchema,
    StaffUserCreateSchema,
)
from .table import Route

S = "gateway.schemas"


def _query(ctx, schema):
    return load(schema, ctx.query())


def _check_org(ctx, org_id):
    """The org unit must exist (asked of members as the admin caller): 404 like any missing
    object, with the field named."""
    try:
        ctx.call("members", "get_org_unit", org_id)
    except NotFound:
        raise NotFound("no such org unit", {"org_id": ["no such org unit"]}) from None


def create_key(ctx):
    data = load(KeyCreateSchema, ctx.json_body())
    if data["org_id"] is not None:
        _check_org(ctx, data["org_id"])
    with ctx.gateway.db_sessions() as session:
        try:
            key, plain = keys.create_key(session, data["role"], data["name"], data["org_id"],
                                         data["expires_at"], data["rate_limit"])
        except keys.InvalidKeyRequest as exc:
            raise ValidationFailed("invalid input", {"org_id": [str(exc)]}) from None
        session.commit()
        return dict(keys.key_view(key), key=plain)


def list_keys(ctx):
    with ctx.gateway.db_sessions() as session:
        return {"items": [keys.key_view(k) for k in keys.list_keys(session)]}


def _not_the_callers_own(ctx, key_id):
    """An admin cannot rotate or revoke the very key it calls with: a slip would lock the
    platform's last admin out. Another admin key does it."""
    if key_id == ctx.caller.key_id:
        raise Conflict("a key cannot rotate or revoke itself; use another admin key")


def rotate_key(ctx, key_id):
    data = load(KeyRotateSchema, ctx.json_body(optional=True))
    _not_the_callers_own(ctx, key_id)
    with ctx.gateway.db_sessions() as session:
        try:
            old, new, plain = keys.rotate_key(session, key_id,
                                              timedelta(seconds=data["overlap_seconds"]))
        except LookupError:
            raise NotFound("no such active key") from None
        except keys.InvalidKeyRequest as exc:
            raise Conflict(str(exc)) from None
        session.commit()
        return {"old": keys.key_view(old), "new": dict(keys.key_view(new), key=plain)}


def revoke_key(ctx, key_id):
    ctx.json_body(optional=True)
    _not_the_callers_own(ctx, key_id)
    with ctx.gateway.db_sessions() as session:
        if session.get(ApiKey, key_id) is None:
            raise NotFound("no such key")
        keys.revoke_key(session, key_id)
        session.commit()
        return keys.key_view(session.get(ApiKey, key_id))


def create_staff_user(ctx):
    data = load(StaffUserCreateSchema, ctx.json_body())
    _check_org(ctx, data["org_id"])
    with ctx.gateway.db_sessions() as session:
        try:
            user = keys.create_staff_user(session, data["username"], data["display_name"],
                                          data["org_id"], data["password"])
        except keys.InvalidKeyRequest as exc:
            raise ValidationFailed("invalid input", {"username": [str(exc)]}) from None
        session.commit()
        return keys.staff_user_view(user)


def list_staff_users(ctx):
    with ctx.gateway.db_sessions() as session:
        users = session.scalars(select(StaffUser).order_by(StaffUser.created_at, StaffUser.id))
        return {"items": [keys.staff_user_view(u) for u in users]}


def create_session(ctx):
    data = load(SessionCreateSchema, ctx.json_body())
    throttle, address = ctx.gateway.sign_in_throttle, client_address(ctx.request)
    throttle.check(address, data["username"])
    with ctx.gateway.db_sessions() as session:
        signed_in = keys.sign_in(session, data["username"], data["password"])
        if signed_in is None:
            session.rollback()
            throttle.failed(address, data["username"])
            raise HttpError(401, "unauthenticated", "wrong username or password")
        throttle.succeeded(address, data["username"])
        staff_session, token = signed_in
        user = session.get(StaffUser, staff_session.user_id)
        session.commit()
        ctx.audit_actor = ("user", user.id, user.role, user.org_id)
        return {"token": token, "expires_at": iso_utc(staff_session.expires_at),
                "user": keys.staff_user_view(user)}


def end_session(ctx):
    token = ctx.bearer_token()
    if not keys.SESSION_PATTERN.match(token):
        raise Conflict("this is an API key, not a console session: revoke keys instead")
    with ctx.gateway.db_sessions() as session:
        keys.end_session(session, token)
        session.commit()
    return None  # 204: no body


def query_audit(ctx):
    params = _query(ctx, AuditQuerySchema)
    with ctx.gateway.db_sessions() as session:
        return audit.query(session, params)


def export_audit(ctx):
    params = _query(ctx, AuditExportQuerySchema)
    with ctx.gateway.db_sessions() as session:
        body = audit.export_csv(session, params)
    return Response(body, status=200, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


ROUTES = (
    Route("create_key", "POST", "/api/v1/keys", create_key,
          "Create an API key; the plain key is in this answer only", "keys", ("admin",),
          body=f"{S}:KeyCreateSchema", response=f"{S}:KeyCreatedSchema", status=201),
    Route("list_keys", "GET", "/api/v1/keys", list_keys,
          "Every key with its state, expiry and last use (never a secret)", "keys", ("admin",),
          response=f"{S}:KeyListSchema"),
    Route("rotate_key", "POST", "/api/v1/keys/<key_id>/rotate", rotate_key,
          "Issue a replacement key; the old one keeps working for the overlap window (a key "
          "cannot rotate itself: 409)",
          "keys", ("admin",), body=f"{S}:KeyRotateSchema", body_optional=True,
          response=f"{S}:KeyRotatedSchema", status=201),
    Route("revoke_key", "POST", "/api/v1/keys/<key_id>/revoke", revoke_key,
          "Revoke a key at once (a key cannot revoke itself: 409)", "keys", ("admin",), response=f"{S}:KeySchema"),
    Route("create_staff_user", "POST", "/api/v1/staff-users", create_staff_user,
          "Create a personal console login for a person at a service centre", "staff",
          ("admin",), body=f"{S}:StaffUserCreateSchema", response=f"{S}:StaffUserSchema",
          status=201),
    Route("list_staff_users", "GET", "/api/v1/staff-users", list_staff_users,
          "Every staff login (never a password)", "staff", ("admin",),
          response=f"{S}:StaffUserListSchema"),
    Route("create_session", "POST", "/api/v1/sessions", create_session,
          "Sign in with a personal staff login; returns a short-lived session token", "staff",
          public=True, body=f"{S}:SessionCreateSchema", response=f"{S}:SessionSchema",
          status=201),
    Route("end_session", "DELETE", "/api/v1/sessions/current", end_session,
          "Sign out: end the console session sent as the bearer token", "staff",
          ("desk_staff",), status=204),
    Route("query_audit", "GET", "/api/v1/audit", query_audit,
          "Audit records (writes and denied requests), oldest first, by org and period",
          "audit", ("admin",), query=f"{S}:AuditQuerySchema", response=f"{S}:AuditPageSchema"),
    Route("export_audit", "GET", "/api/v1/audit/export", export_audit,
          "The same records as CSV (at most 100000 rows; narrow the period for more)", "audit",
          ("admin",), query=f"{S}:AuditExportQuerySchema", response_type="text/csv"),
)
