"""A fresh database for a plumbing test on either backend: a SQLite file, or a PostgreSQL
database of its own that is dropped afterwards."""
import uuid
from contextlib import contextmanager

from sqlalchemy import MetaData, text

from services.plumbing.db import make_engine


@contextmanager
def scratch_engine(backend: str, tmp_path, request, metadata: MetaData, label: str):
    """An engine on a new database holding `metadata`'s tables (`request` reaches the
    session's PostgreSQL admin engine fixture)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / f'{label}.db'}")
        admin = name = None
    else:
        admin = request.getfixturevalue("pg_admin_engine")
        name = f"t_{uuid.uuid4().hex[:10]}_{label}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
