"""Every route of /api/v1: who may call it, what it takes and returns, and which service call
answers it. The table drives dispatch, authorisation and the OpenAPI document alike. Each
domain keeps its routes in its own module here; `access` (keys, staff logins, sessions, audit)
is answered by the gateway itself.

Roles: `office` (a county office's or committee's system, its own subtree), `desk_staff` (a
service centre's staff), `ops` (health and read-only figures), `admin` (org units and keys).
A role not listed on a route gets 403; an object outside the caller's tenant gets 404.
"""
from . import access, donations, members, operations, services_desk, webhooks
from .table import ALL_ROLES, Reply, Route  # noqa: F401

# The API's operations: documented from this table (gateway/openapi.py).
ROUTES = (members.ROUTES + services_desk.ROUTES + donations.ROUTES + access.ROUTES
          + webhooks.ROUTES)
# Everything the gateway answers: the API, and health, the documents and the console.
ALL_ROUTES = ROUTES + operations.ROUTES
