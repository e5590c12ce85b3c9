"""Alembic migrations per service, run as their own step (`make migrate`), never at start-up.

    python -m services.plumbing.migrate                 # every service, to head
    python -m services.plumbing.migrate members         # one service
    python -m services.plumbing.migrate members --revision "add flows"   # autogenerate
"""
import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

from . import config

SERVICES_DIR = Path(__file__).resolve().parents[1]


def migrations_folder(name: str) -> Path:
    """`gateway` (API keys, audit) or a service: the `migrations/` beside its service module."""
    if name == "gateway":
        return SERVICES_DIR.parent / "gateway" / "migrations"
    from services import SERVICE_CLASSES
    module = SERVICE_CLASSES[name].split(":")[0]
    return SERVICES_DIR.parent.joinpath(*module.split(".")[:-1]) / "migrations"


def migration_config(name: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_folder(name)))
    cfg.set_main_option("sqlalchemy.url", url or config.database_url(name))
    return cfg


def upgrade(name: str, url: str | None = None) -> None:
    command.upgrade(migration_config(name, url), "head")


def main(argv=None):
    from services import SERVICE_CLASSES
    targets = list(SERVICE_CLASSES) + ["gateway"]
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", nargs="?", choices=targets)
    parser.add_argument("--revision", metavar="MESSAGE", help="autogenerate a new revision")
    args = parser.parse_args(argv)
    for service in [args.service] if args.service else targets:
        if args.revision:
            command.revision(migration_config(service), message=args.revision, autogenerate=True)
        else:
            upgrade(service)
            print(f"migrated {service}")



if __name__ == "__main__":
    main()
