"""Fixtures for the plumbing's own tests, on both databases (`backend`)."""
import pytest
from sqlalchemy.orm import sessionmaker

from services.plumbing.db import UnitOfWork
from services.plumbing.tests.scratch import scratch_engine


@pytest.fixture
def engine(backend, tmp_path, request):
    """An engine on a database of its own holding the test module's `metadata` tables."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with scratch_engine(backend, tmp_path, request, request.module.metadata, label) as engine:
        yield engine


@pytest.fixture
def uow(engine, request):
    """A worker's `self.db` on that database (the module's `PLUMBING` tables)."""
    return UnitOfWork(sessionmaker(engine, expire_on_commit=False), request.module.PLUMBING,
                      trace_id=None)
