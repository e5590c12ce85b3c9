"""Ids as callers hand them in: from a URL path or an RPC argument they could be anything."""
from .text import storable

# Every id column is String(36): a uuid4 in its text form.
MAX_ID_LENGTH = 36


def plausible_id(value) -> bool:
    """Only an id a database can look up is tried; anything else cannot name a row, so the
    caller answers NotFound without a query (a NUL byte or an unpaired surrogate would make
    PostgreSQL fail rather than find nothing)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and storable(value)
