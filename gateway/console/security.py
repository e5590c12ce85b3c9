"""What keeps another site from acting through a clerk's browser: the session cookie
(HttpOnly, SameSite=Strict, Secure behind TLS), a CSRF token in every form and an Origin check
on every state-changing request.

Signed in, the token is derived from the session (an HMAC of its token), so it changes with
every sign-in and a page elsewhere cannot know it. Before sign-in (login CSRF: a page elsewhere
signing the browser in to its own account) the form carries a random token that must equal the
one in a SameSite=Strict cookie set with the form."""
import hashlib
import hmac
import secrets

from werkzeug.wrappers import Request, Response

from .. import keys

SESSION_COOKIE = "ld_console"
LOGIN_COOKIE = "ld_console_login"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def behind_tls(request: Request) -> bool:
    # A TLS-terminating proxy says so; trusting it only ever makes the cookie stricter.
    return request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int):
    response.set_cookie(name, value, httponly=True, samesite="Strict", path=COOKIE_PATH,
                        secure=behind_tls(request), max_age=max_age)


def session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def csrf_for_session(token: str) -> str:
    return hmac.new(token.encode(), b"liudong console csrf", hashlib.sha256).hexdigest()


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def same_origin(request: Request) -> bool:
    """The request came from a page of this gateway: its Origin (or, lacking one, its Referer)
    names this host. A browser sends Origin with every cross-site POST and fetch."""
    expected = f"{'https' if behind_tls(request) else request.scheme}://{request.host}"
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        referer = request.headers.get("Referer", "")
        if not referer:
            return False
        origin = "/".join(referer.split("/", 3)[:3])
    return origin in (expected, f"{request.scheme}://{request.host}")


def presented_csrf(request: Request) -> str:
    return request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")


def check_login_post(request: Request) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return same_origin(request) and bool(cookie) and hmac.compare_digest(
        cookie, presented_csrf(request))


def check_signed_in_post(request: Request, token: str) -> bool:
    return same_origin(request) and hmac.compare_digest(csrf_for_session(token),
                                                        presented_csrf(request))


def session_max_age() -> int:
    return int(keys.session_lifetime().total_seconds())
