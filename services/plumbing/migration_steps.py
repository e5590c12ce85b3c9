"""Migration steps of the plumbing tables, shared by every service's Alembic migrations.

Each function is a frozen step: a migration that calls it must always do the same thing, so a
later change to a plumbing table is a new function here and a new migration in each service,
never an edit of one of these.
"""
import sqlalchemy as sa


def create_idempotent_replies(op) -> None:
    op.create_table(
        "idempotent_replies",
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "idempotency_key"),
    )
    op.create_index("ix_idempotent_replies_created_at", "idempotent_replies", ["created_at"])


def drop_idempotent_replies(op) -> None:
    op.drop_index("ix_idempotent_replies_created_at", table_name="idempotent_replies")
    op.drop_table("idempotent_replies")


# -- the first migration of every service: outbox, delivery records, org-unit projection -------
def create_outbox(op) -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("producer", sa.String(length=50), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["seq"], unique=False,
                    postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))


def drop_outbox(op) -> None:
    op.drop_index("ix_outbox_unpublished", table_name="outbox",
                  postgresql_where=sa.text("published_at IS NULL"),
                  sqlite_where=sa.text("published_at IS NULL"))
    op.drop_table("outbox")


def create_processed_events(op) -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )


def drop_processed_events(op) -> None:
    op.drop_table("processed_events")


def create_org_units_projection(op) -> None:
    op.create_table(
        "org_units_projection",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_index("ix_org_units_projection_path", "org_units_projection", ["path"],
                    unique=False)


def drop_org_units_projection(op) -> None:
    op.drop_index("ix_org_units_projection_path", table_name="org_units_projection")
    op.drop_table("org_units_projection")


def create_members_projection(op) -> None:
    """The desk's and donations' first members projection (the webhooks' had flow_seq too)."""
    op.create_table(
        "members_projection",
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("home_org_id", sa.String(length=36), nullable=False),
        sa.Column("host_org_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_index("ix_members_projection_home_org_id", "members_projection", ["home_org_id"],
                    unique=False)
    op.create_index("ix_members_projection_host_org_id", "members_projection", ["host_org_id"],
                    unique=False)


def drop_members_projection(op) -> None:
    op.drop_index("ix_members_projection_host_org_id", table_name="members_projection")
    op.drop_index("ix_members_projection_home_org_id", table_name="members_projection")
    op.drop_table("members_projection")
