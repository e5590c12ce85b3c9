"""The shape of a route, and of a handler's answer.

A handler is `handler(ctx, **path_args)` and returns the body of its answer; the status is the
route's `status`. Two other answers: a werkzeug `Response` (a file, an HTML page) is sent as it
is, and a `Reply` carries its own status, for the few handlers that choose between two (a retry
answered 200 with the first result where a first call is a 201; health's 503)."""
from collections.abc import Callable
from dataclasses import dataclass, field

ALL_ROLES = ("office", "desk_staff", "ops", "admin")


@dataclass(frozen=True)
class Reply:
    """A body with the status the handler chose; only where a route has two success statuses."""
    status: int
    body: object


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str                      # werkzeug rule, e.g. /api/v1/members/<member_id>
    handler: Callable              # handler(ctx, **path_args) -> the body, a Response or a Reply
    summary: str
    tag: str
    roles: tuple = ()              # who may call it (with a key)
    public: bool = False           # no key needed (a public ledger, health): limited per client address
    body: str | None = None        # "module:Schema" of the JSON body
    query: str | None = None       # "module:Schema" of the query string
    response: str | None = None    # "module:Schema" of a success body
    status: int = 200              # the success status (a handler's `Reply` may say otherwise)
    headers: tuple = field(default=())  # extra request headers documented: (name, description)
    body_optional: bool = False    # the body may be left out (every field has a default)
    response_type: str = "application/json"
    upload: bool = False           # takes a file: the upload body limit, multipart or JSON
    audited: bool = True           # False: health, the documents (the console audits its own actions)
    page: bool = False             # HTML pages under one rule (docs, console): labelled by URL, checked by the page
    own_sign_in: bool = False      # the console: no key; it signs in, limits and checks by itself
