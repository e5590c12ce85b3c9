import pytest
from sqlalchemy.orm import sessionmaker

from services.members.models import PLUMBING, Base
from services.plumbing.db import UnitOfWork, make_engine

CONFIG = {"ID_HASH_KEY": "test-hash-key",
          "ID_ENCRYPTION_KEY": "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA="}


@pytest.fixture
def uow(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'members.db'}")
    Base.metadata.create_all(engine)
    yield UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, request_id="req-1")
    engine.dispose()
