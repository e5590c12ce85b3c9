"""webhooks: one consistent delivery history (attempts never reset by a replay, replay rounds,
the first delivery time kept) and no receiver's words in the log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 21:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replays', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('attempts_at_replay', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('replayed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replay', sa.Integer(), server_default='0', nullable=False))
    # Earlier replays reset `attempts` and overwrote `delivered_at`: rebuild both from the log.
    op.execute("UPDATE webhook_deliveries SET attempts = (SELECT count(*) FROM webhook_attempts "
               "WHERE webhook_attempts.delivery_id = webhook_deliveries.id)")
    op.execute("UPDATE webhook_deliveries SET delivered_at = (SELECT min(attempted_at) "
               "FROM webhook_attempts WHERE webhook_attempts.delivery_id = webhook_deliveries.id "
               "AND status_code BETWEEN 200 AND 299) WHERE delivered_at IS NOT NULL")
    # Earlier versions kept the start of the receiver's answer body: keep only our reason.
    op.execute("UPDATE webhook_attempts SET error = 'the receiver answered ' || "
               "CAST(status_code AS VARCHAR(3)) WHERE status_code IS NOT NULL "
               "AND status_code NOT BETWEEN 200 AND 299")
    op.execute("UPDATE webhook_deliveries SET last_error = 'the receiver answered ' || "
               "CAST(last_status_code AS VARCHAR(3)) WHERE last_status_code IS NOT NULL "
               "AND last_status_code NOT BETWEEN 200 AND 299")


def downgrade() -> None:
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_column('replay')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('replayed_at')
        batch_op.drop_column('attempts_at_replay')
        batch_op.drop_column('replays')
