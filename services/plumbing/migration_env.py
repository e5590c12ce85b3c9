"""The body of every service's alembic env.py: online migrations on the configured URL."""
from alembic import context
from sqlalchemy import MetaData

from .db import is_postgresql, make_engine


def run_migrations(target_metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=not is_postgresql(connection))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
