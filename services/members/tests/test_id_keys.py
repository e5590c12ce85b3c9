"""ID-number keys: no process protects ID numbers with a missing, placeholder or local-only key
outside a local run; rotating to new keys re-encrypts and re-hashes everything stored, and the
platform finds and reveals the same numbers with the new keys."""
import re
from pathlib import Path

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy.orm import sessionmaker

from services.members.id_keys import Rotation, protector
from services.members.service import MembersService
from services.plumbing import config
from services.plumbing.db import make_engine
from services.plumbing.errors import Conflict

from .conftest import CONFIG
from .world import ADMIN, build, id_number, office, register

SECRET = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "secret.yaml"
REAL = {"LIUDONG_ID_HASH_KEY": "x" * 40,
        "LIUDONG_ID_ENCRYPTION_KEY": "bmV3LXJlYWwtaWQtZW5jcnlwdGlvbi1rZXktMTIzNDU="}


@pytest.fixture
def env(monkeypatch):
    for name in ("LIUDONG_LOCAL_RUN", "LIUDONG_ID_HASH_KEY", "LIUDONG_ID_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_env


def placeholders():
    text = SECRET.read_text()
    return {name: re.search(rf'^  {name}: "([^"]+)"', text, re.M).group(1)
            for name in ("LIUDONG_ID_HASH_KEY", "LIUDONG_ID_ENCRYPTION_KEY")}


def refusal(**values):
    with pytest.raises(config.MissingIdKeys) as refused:
        config.id_keys()
    return str(refused.value.code)


def test_members_refuses_to_start_without_real_keys(env):
    assert "LIUDONG_ID_HASH_KEY is not set" in refusal()
    with pytest.raises(config.MissingIdKeys):
        config.service_config("members")
    assert "ID_HASH_KEY" not in config.service_config("webhooks")  # it never sees them
    env(**placeholders())
    assert "placeholder from deploy/k8s/secret.yaml" in refusal()
    env(LIUDONG_ID_HASH_KEY=config.LOCAL_ID_HASH_KEY,
        LIUDONG_ID_ENCRYPTION_KEY=config.LOCAL_ID_ENCRYPTION_KEY)
    assert "built-in local-only key" in refusal()
    env(LIUDONG_ID_HASH_KEY="short", LIUDONG_ID_ENCRYPTION_KEY=REAL["LIUDONG_ID_ENCRYPTION_KEY"])
    assert "at least 32 characters" in refusal()
    env(LIUDONG_ID_HASH_KEY=REAL["LIUDONG_ID_HASH_KEY"], LIUDONG_ID_ENCRYPTION_KEY="c2hvcnQ=")
    assert "32 url-safe base64-encoded bytes" in refusal()
    env(**REAL)
    assert config.service_config("members")["ID_HASH_KEY"] == REAL["LIUDONG_ID_HASH_KEY"]


def test_a_local_run_may_use_the_built_in_keys(env):
    env(LIUDONG_LOCAL_RUN="1")
    assert config.id_keys() == {"ID_HASH_KEY": config.LOCAL_ID_HASH_KEY,
                                "ID_ENCRYPTION_KEY": config.LOCAL_ID_ENCRYPTION_KEY}
    env(**placeholders())  # but never the placeholder
    assert "placeholder" in refusal()


def test_rotation_re_encrypts_and_re_hashes_so_the_new_keys_find_every_number(uow, tmp_path):
    old_service = worker_factory(MembersService, db=uow, config=CONFIG)
    w = build(old_service)
    member = register(old_service, w, 1)
    report = old_service.create_self_report(office(w["branch"]), {
        "name": "葛杰", "id_number": id_number(1), "phone": "13800001234",
        "home_org_id": w["village"]["id"], "host_org_id": w["branch"]["id"]})
    new_keys = {"ID_HASH_KEY": "n" * 40,
                "ID_ENCRYPTION_KEY": REAL["LIUDONG_ID_ENCRYPTION_KEY"]}
    engine = make_engine(f"sqlite:///{tmp_path / 'members.db'}")
    for _ in range(2):  # a second run (after a crash, say) changes nothing more
        with sessionmaker(engine)() as session:
            counts = Rotation(protector(CONFIG), protector(new_keys)).run(session)
            session.commit()
        assert counts == {"members": 1, "self_reports": 1, "import_file_chunks": 0}
    engine.dispose()
    new_service = worker_factory(MembersService, db=uow, config=new_keys)
    assert new_service.reveal_id_number(ADMIN, member["id"])["id_number"] == id_number(1)
    with pytest.raises(Conflict):  # found by its new fingerprint
        register(new_service, w, 1)
    # the self-report (same number) finds the registered member by its new fingerprint
    accepted = new_service.decide_self_report(office(w["branch"]), report["id"], True, {})
    assert accepted["member_id"] == member["id"], accepted
    with pytest.raises(Exception):  # noqa: B017  (the old keys read nothing any more, whatever fails)
        old_service.reveal_id_number(ADMIN, member["id"])
