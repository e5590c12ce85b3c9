from services.plumbing.migration_env import run_migrations
from services.services_desk.models import Base

run_migrations(Base.metadata)
