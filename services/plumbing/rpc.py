"""What crosses the RPC boundary besides payloads: the caller, and error types.

The gateway passes a `caller` dict as the first argument of every call:
    {"key_id": ..., "org_id": ... or None, "role": "office"|"desk_staff"|"ops"|"admin"}
The tenant is always the caller's `org_id` (from its API key), never something from a body.
An `org_id` of None means platform-wide (admin and ops keys that belong to no org unit).
"""
from nameko.exceptions import deserialize_to_instance
from nameko.rpc import Rpc

from .caller import Caller, ROLES  # noqa: F401  (re-exported for entrypoints)
from .errors import ALL_ERRORS

for _error in ALL_ERRORS:
    deserialize_to_instance(_error)



def rpc(fn):
    """nameko's @rpc, with our error types declared expected: a caller's mistake is logged as
    a rejection, not as a failure with a traceback."""
    return Rpc.decorator(expected_exceptions=ALL_ERRORS)(fn)
