"""Plumbing: idempotent_replies (the first reply to a request that carried an Idempotency-Key)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 21:40:00
"""
from alembic import op

from services.plumbing.migration_steps import create_idempotent_replies, drop_idempotent_replies

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotent_replies(op)


def downgrade() -> None:
    drop_idempotent_replies(op)
