"""首问责任制 as a rule the service enforces: who at a centre may act on a request.

* Nobody holds a request that has not been taken (no 首问 owner, no assignee): every clerk of
  the centre may claim or accept it (language routing still applies), or refuse it.
* Once taken, the assignee acts on it. The 首问 owner keeps it in "mine" and may act while it
  is unassigned or assigned to them; after a hand-off to someone else, the owner stays
  accountable (ratings, statistics) but the work is the assignee's.
* A lead of the centre may act on every request of the centre: assign, reassign, extend.
* Anyone else gets 403 `not_your_request`, with the holder's name.

Keys of the requester's side (office keys recording a withdrawal or a rating for the
requester) do not work requests and are not held to this; the gateway lets them call nothing
else. Keys outside the request's tenant never get here: they see 404.
"""
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.errors import Forbidden

from . import staff
from .models import Request

NOT_YOUR_REQUEST = "not_your_request"
# Actions that take a request nobody holds yet: open to every clerk of the centre.
TAKING = ("claim", "accept")
# How an action reads in "cannot <verb> a request that is …" (default: its name in words).
VERBS = {"request_materials": "list missing materials for",
         "receive_answer": "record an answer for", "extend": "extend the deadline of",
         "supplement": "record the supplement of"}


def verb(action: str) -> str:
    return VERBS.get(action, action.replace("_", " "))


def display_name(session: Session, key_id: str | None) -> str:
    """How a staff member is named to colleagues: the name registered as desk staff, else the
    key id (a key nobody registered)."""
    member = staff.staff_member(session, key_id)
    return member.name if member is not None else (key_id or "nobody")


def holder_of(request: Request) -> str | None:
    """Who works on the request now: its assignee, else its 首问 owner."""
    return request.assignee or request.first_owner


def may_act(session: Session, caller: Caller, request: Request) -> bool:
    if caller.role != "desk_staff":
        return True
    if request.assignee is None and request.first_owner is None:
        return True
    if caller.key_id == request.assignee:
        return True
    if caller.key_id == request.first_owner and request.assignee in (None, caller.key_id):
        return True
    return staff.is_lead_of(session, caller, request.centre_org_id)


def require_may_act(session: Session, caller: Caller, request: Request, action: str) -> None:
    """Raises 403 not_your_request unless the caller may take `action` on `request`."""
    if action in TAKING or may_act(session, caller, request):
        return
    holder = display_name(session, holder_of(request))
    raise Forbidden(f"{holder} holds this request: only its assignee, its 首问 owner while it "
                    f"is theirs, or a lead of the centre may {verb(action)} it", {
                        "request_id": [f"held by {holder}; ask them or a lead of the centre"]},
                    code=NOT_YOUR_REQUEST)
