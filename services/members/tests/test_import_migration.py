"""Migration 0004 (imports of whole ledgers): earlier imports keep their error reports as rows,
an unfinished one is marked failed, and the result is the schema the models describe."""
import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from services.members.models import Base
from services.plumbing.db import make_engine
from services.plumbing.migrate import migration_config


def test_earlier_imports_survive_the_upgrade_and_the_schema_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'members.db'}"
    config = migration_config("members", url)
    command.upgrade(config, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO import_batches (id, org_id, actor_key_id, file_format, status, "
                "total_rows, processed_rows, imported, duplicates, errors, pending_rows, actor_role, "
                "created_at) VALUES ('done1', 'o', 'k', 'csv', 'done', 3, 3, 1, 0, :errors, NULL, "
                "'office', '2026-01-01'), ('half', 'o', 'k', 'csv', 'running', 3, 1, 1, 0, '[]', "
                "'[]', 'office', '2026-01-01')"), {"errors": json.dumps([
                    {"row": 2, "fields": {"name": ["required"]}},
                    {"row": 3, "fields": {"id_number": ["check digit does not match"]}}])})
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, status, invalid FROM import_batches ORDER BY id")
                                ).all() == [("done1", "done", 2), ("half", "failed", 0)]
            assert conn.execute(text("SELECT row_number, kind FROM import_row_problems "
                                     "ORDER BY row_number")).all() == [(2, "invalid"), (3, "invalid")]
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        command.downgrade(config, "0003")
        command.upgrade(config, "head")
    finally:
        engine.dispose()
