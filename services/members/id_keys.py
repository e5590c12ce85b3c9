"""Rotating the ID-number keys: re-encrypt every stored ID number with a new encryption key and
re-hash it with a new hash key (members, self-reports, uploaded files awaiting import). Plain
Python; the command runs it in one transaction, so a failure changes nothing.

    # 1. stop the members service (no writes with the old keys meanwhile)
    # 2. with the current keys in LIUDONG_ID_HASH_KEY / LIUDONG_ID_ENCRYPTION_KEY and the new
    #    ones in LIUDONG_NEW_ID_HASH_KEY / LIUDONG_NEW_ID_ENCRYPTION_KEY:
    python -m services.members.id_keys rotate
    # 3. deploy the new keys as LIUDONG_ID_HASH_KEY / LIUDONG_ID_ENCRYPTION_KEY, start members

Running it again (after a crash, or twice) is safe: a value already under the new key is
recognised and re-written unchanged.
"""
import sys

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing import config

from .id_numbers import IdProtector
from .models import ImportFileChunk, Member, SelfReport


class Rotation:
    def __init__(self, old: IdProtector, new: IdProtector):
        self.old, self.new = old, new

    def _reveal(self, token: str) -> str:
        try:
            return self.new.decrypt(token)
        except InvalidToken:
            return self.old.decrypt(token)

    def _unseal(self, token: bytes) -> bytes:
        try:
            return self.new.unseal(token)
        except InvalidToken:
            return self.old.unseal(token)

    def run(self, session: Session) -> dict:
        counts = {"members": 0, "self_reports": 0, "import_file_chunks": 0}
        for model, table in ((Member, "members"), (SelfReport, "self_reports")):
            for row in session.scalars(select(model)).yield_per(500):
                number = self._reveal(row.id_number_encrypted)
                row.id_number_hash = self.new.fingerprint(number)
                row.id_number_encrypted = self.new.encrypt(number)
                counts[table] += 1
        for chunk in session.scalars(select(ImportFileChunk)).yield_per(50):
            chunk.content = self.new.seal(self._unseal(bytes(chunk.content)))
            counts["import_file_chunks"] += 1
        session.flush()
        return counts


def protector(keys: dict) -> IdProtector:
    return IdProtector(keys["ID_HASH_KEY"], keys["ID_ENCRYPTION_KEY"])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["rotate"]:
        print(__doc__, file=sys.stderr)
        return 2
    old = protector(config.id_keys())
    new = protector(config.id_keys("LIUDONG_NEW_ID_HASH_KEY", "LIUDONG_NEW_ID_ENCRYPTION_KEY"))
    from sqlalchemy.orm import sessionmaker

    from services.plumbing.db import make_engine
    engine = make_engine(config.database_url("members"))
    try:
        with sessionmaker(engine)() as session:
            counts = Rotation(old, new).run(session)
            session.commit()
    finally:
        engine.dispose()
    print("re-encrypted and re-hashed: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
