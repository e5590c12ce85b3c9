from gateway.webhooks.models import Base
from services.plumbing.migration_env import run_migrations

run_migrations(Base.metadata)
