"""The shape of a route."""
from collections.abc import Callable
from dataclasses import dataclass, field

ALL_ROLES = ("office", "desk_staff", "ops", "admin")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str                      # werkzeug rule, e.g. /api/v1/members/<member_id>
    handler: Callable              # handler(ctx, **path_args) -> (status, body) or a Response
    summary: str
    tag: str
    roles: tuple = ()              # who may call it (with a key)
    public: bool = False           # True: no key needed (e.g. a public ledger); roles unused
    body: str | None = None        # "module:Schema" of the JSON body
    query: str | None = None       # "module:Schema" of the query string
    response: str | None = None    # "module:Schema" of a success body
    status: int = 200
    headers: tuple = field(default=())  # extra request headers documented: (name, description)
    body_optional: bool = False    # the body may be left out (every field has a default)
    response_type: str = "application/json"
    upload: bool = False           # takes a file: the upload body limit, multipart or JSON
