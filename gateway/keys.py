"""API keys: `ld_<key id>_<secret>`. Only a SHA-256 of the secret is stored (the secret is 256
random bits, so a fast hash is enough; passwords would need a slow one). The plain key is shown
once, at creation.

    python -m gateway.keys create --role office --org <org unit id> --name "淮阳区委组织部 system"
    python -m gateway.keys create --role admin --name bootstrap          # platform-wide
    python -m gateway.keys list
    python -m gateway.keys revoke <key id>
"""
import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.plumbing.caller import ROLES, Caller
from services.plumbing.db import make_engine
from services.plumbing.envelope import utcnow
from services.plumbing import config
from services.plumbing.pagination import as_utc

from .models import ApiKey

KEY_PATTERN = re.compile(r"^ld_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
# Writing last_used_at on every request would make every read a write; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class InvalidKeyRequest(ValueError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, role: str, name: str, org_id: str | None) -> tuple[ApiKey, str]:
    if role not in ROLES:
        raise InvalidKeyRequest(f"role must be one of {', '.join(ROLES)}")
    if org_id is None and role not in ("admin", "ops"):
        raise InvalidKeyRequest(f"a {role} key must belong to an org unit")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(id=key_id, name=name, role=role, org_id=org_id, secret_hash=_hash(secret),
                 created_at=utcnow())
    session.add(key)
    session.flush()
    return key, f"ld_{key_id}_{secret}"


def authenticate(session: Session, presented: str) -> Caller | None:
    match = KEY_PATTERN.match(presented or "")
    if not match:
        return None
    key = session.get(ApiKey, match.group(1))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash(match.group(2))):
        return None
    now = utcnow()
    if key.last_used_at is None or as_utc(key.last_used_at) < now - LAST_USED_GRANULARITY:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        session.commit()
    return Caller(key_id=key.id, role=key.role, org_id=key.org_id)


def revoke_key(session: Session, key_id: str) -> bool:
    result = session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return result.rowcount == 1


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def key_view(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "role": key.role, "org_id": key.org_id,
            "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None}


def session_factory(url: str | None = None) -> sessionmaker:
    return sessionmaker(make_engine(url or config.database_url("gateway")), expire_on_commit=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True)
    create.add_argument("--org", help="org unit id (required except for admin and ops keys)")
    create.add_argument("--json", action="store_true", help="print key and id as JSON")
    commands.add_parser("list", help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    Session_ = session_factory()
    with Session_() as session:
        if args.command == "create":
            try:
                key, plain = create_key(session, args.role, args.name, args.org)
            except InvalidKeyRequest as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            session.commit()
            if args.json:
                print(json.dumps({"id": key.id, "key": plain}))
            else:
                print(f"key id: {key.id}\nkey (shown once): {plain}")
        elif args.command == "list":
            for key in list_keys(session):
                print(json.dumps(key_view(key), ensure_ascii=False))
        else:
            if not revoke_key(session, args.key_id):
                print("no such active key", file=sys.stderr)
                return 1
            session.commit()
            print(f"revoked {args.key_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
