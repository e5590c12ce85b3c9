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
