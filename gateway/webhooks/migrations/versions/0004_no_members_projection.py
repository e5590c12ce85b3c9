"""webhooks: no projection of members (scoping is by org unit only; the service no longer
consumes member events, issue 13)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('members_projection')


def downgrade() -> None:
    op.create_table('members_projection',
                    sa.Column('member_id', sa.String(length=36), nullable=False),
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('home_org_id', sa.String(length=36), nullable=False),
                    sa.Column('host_org_id', sa.String(length=36), nullable=True),
                    sa.Column('flow_seq', sa.Integer(), server_default='0', nullable=False),
                    sa.PrimaryKeyConstraint('member_id'))
    with op.batch_alter_table('members_projection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_projection_home_org_id'), ['home_org_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_members_projection_host_org_id'), ['host_org_id'],
                              unique=False)
