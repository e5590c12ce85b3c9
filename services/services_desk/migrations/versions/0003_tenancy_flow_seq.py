"""Tenancy projection: members_projection.flow_seq (flow steps apply only when newer)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:33:06.607891
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members_projection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_seq', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('members_projection', schema=None) as batch_op:
        batch_op.drop_column('flow_seq')

