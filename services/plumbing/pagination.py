"""Keyset (cursor) pagination over (created_at, id): stable under inserts, since new rows sort
last, and fast at millions of rows with an index ending in (created_at, id)."""
import base64
import json
from datetime import UTC, datetime

from sqlalchemy import and_, or_

from .db import as_stored
from .errors import ValidationFailed


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored moment as an ISO-8601 UTC string for a reply; None stays None."""
    return as_utc(moment).isoformat() if moment else None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        return as_utc(datetime.fromisoformat(created)), str(row_id)
    except (ValueError, TypeError):
        raise ValidationFailed("invalid input", {"cursor": ["not a cursor this API returned"]}) from None


def page(session, query, created_col, id_col, limit: int, cursor: str | None):
    """Run `query` for one page; returns (rows, next_cursor or None)."""
    if cursor:
        created, row_id = decode_cursor(cursor)
        created = as_stored(session, created)
        query = query.where(or_(created_col > created, and_(created_col == created, id_col > row_id)))
    rows = list(session.scalars(query.order_by(created_col, id_col).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, created_col.key), getattr(last, id_col.key))
