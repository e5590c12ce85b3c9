"""Imports of whole ledgers: uploads staged in encrypted chunks, one row per bad or duplicate
row (instead of a JSON list on the batch), progress timing, the member's source row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 21:40:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Earlier imports keep their error reports, as rows (their values were never kept). Read
    # first: on SQLite, altering import_batches recreates it, which rows pointing at it forbid.
    conn = op.get_bind()
    old = conn.execute(sa.text("SELECT id, errors, status FROM import_batches")).fetchall()
    with op.batch_alter_table('import_batches') as batch:
        batch.add_column(sa.Column('filename', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('file_size', sa.BigInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('file_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('received_bytes', sa.BigInteger(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('columns', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('invalid', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('failure', sa.Text(), nullable=True))
        batch.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint('uq_import_batches_idempotency',
                                       ['actor_key_id', 'idempotency_key'])
        batch.drop_column('pending_rows')
        batch.drop_column('errors')
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('import_row', sa.Integer(), nullable=True))
    op.create_table('import_file_chunks',
                    sa.Column('batch_id', sa.String(length=36), nullable=False),
                    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('content', sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id']),
                    sa.PrimaryKeyConstraint('batch_id', 'seq'))
    problems = op.create_table(
        'import_row_problems',
        sa.Column('batch_id', sa.String(length=36), nullable=False),
        sa.Column('row_number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=True),
        sa.Column('duplicate_of_row', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.String(length=36), nullable=True),
        sa.Column('values_encrypted', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id']),
        sa.PrimaryKeyConstraint('batch_id', 'row_number'))
    for batch_id, errors, status in old:
        errors = json.loads(errors) if isinstance(errors, str) else (errors or [])
        rows = {}
        for error in errors:
            rows.setdefault(error.get("row"), {"batch_id": batch_id, "row_number": error.get("row"),
                                               "kind": "invalid", "fields": error.get("fields")})
        if rows:
            op.bulk_insert(problems, list(rows.values()))
        conn.execute(sa.text("UPDATE import_batches SET invalid = :n WHERE id = :id"),
                     {"n": len(rows), "id": batch_id})
        if status != "done":  # an unfinished import's rows went with pending_rows
            conn.execute(sa.text("UPDATE import_batches SET status = 'failed', failure = :f "
                                 "WHERE id = :id"),
                         {"f": "interrupted by an upgrade: import the file again", "id": batch_id})


def downgrade() -> None:
    op.drop_table('import_row_problems')
    op.drop_table('import_file_chunks')
    with op.batch_alter_table('import_batches') as batch:
        batch.add_column(sa.Column('errors', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('pending_rows', sa.JSON(), nullable=True))
        batch.drop_constraint('uq_import_batches_idempotency', type_='unique')
        for column in ('started_at', 'failure', 'invalid', 'idempotency_key', 'columns',
                       'received_bytes', 'file_sha256', 'file_size', 'filename'):
            batch.drop_column(column)
    with op.batch_alter_table('members') as batch:
        batch.drop_column('import_row')
