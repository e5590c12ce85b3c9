"""The plumbing tables every service database has: the outbox and the processed-event record.

Each service owns its own MetaData; `plumbing_tables(metadata)` adds these two tables to it so
that they live in the service's database and are created by the service's migrations.
"""
from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class PlumbingTables:
    outbox: Table
    processed_events: Table
    idempotent_replies: Table


def plumbing_tables(metadata: MetaData) -> PlumbingTables:
    outbox = Table(
        "outbox", metadata,
        # The sequence orders publishing: events leave in the order their transactions wrote them.
        Column("seq", BigIntId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("version", Integer, nullable=False),
        Column("producer", String(50), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("envelope", JSON, nullable=False),
        Column("request_id", String(64)),  # the trace id (X-Request-Id); the name predates it
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
    )
    # The relay's query is "unpublished, oldest first"; a partial index keeps it small on PostgreSQL.
    Index("ix_outbox_unpublished", outbox.c.seq,
          postgresql_where=outbox.c.published_at.is_(None),
          sqlite_where=outbox.c.published_at.is_(None))
    processed = Table(
        "processed_events", metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    # The first reply to an RPC that carried an Idempotency-Key, written in the same transaction
    # as the change it reports: a client's retry gets this reply instead of a second change.
    replies = Table(
        "idempotent_replies", metadata,
        Column("scope", String(120), primary_key=True),  # who sent it: the caller's key
        Column("idempotency_key", String(100), primary_key=True),
        Column("fingerprint", String(64), nullable=False),  # entrypoint + arguments, hashed
        Column("reply", JSON),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )
    return PlumbingTables(outbox=outbox, processed_events=processed, idempotent_replies=replies)
