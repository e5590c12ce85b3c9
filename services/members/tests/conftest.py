"""The members unit tests' fixtures: a SQLite database, the service on it (worker_factory) and
the two-sided world of world.py."""
import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker

from services.members.models import PLUMBING, Base
from services.members.service import MembersService
from services.plumbing.db import UnitOfWork, make_engine

from .world import build

CONFIG = {"ID_HASH_KEY": "test-hash-key",
          "ID_ENCRYPTION_KEY": "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA="}


@pytest.fixture
def uow(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'members.db'}")
    Base.metadata.create_all(engine)
    yield UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, trace_id="req-1")
    engine.dispose()


@pytest.fixture
def service(uow):
    return worker_factory(MembersService, db=uow, config=CONFIG, import_workers=None)


@pytest.fixture
def w(service):
    return build(service)


@pytest.fixture
def statements(uow):
    """The SQL of every statement run on the test database while the test runs (clear() it to
    count from a point on)."""
    engine = uow._session_factory.kw["bind"]
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)
