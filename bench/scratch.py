"""A throw-away PostgreSQL database for one benchmark run, migrated like a service's own."""
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from services.plumbing.migrate import upgrade

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:55432/postgres"


@contextmanager
def scratch_database(service: str, admin_url: str = ADMIN_URL, keep: bool = False):
    """Yields an engine on a fresh database migrated to the service's head; drops it afterwards
    unless `keep`."""
    name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = None
    try:
        upgrade(service, url)
        engine = create_engine(url)
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
