"""API keys: `ld_<key id>_<secret>`. Only a SHA-256 of the secret is stored (the secret is 256
random bits, so a fast hash is enough; passwords would need a slow one). The plain key is shown
once, at creation.

    python -m gateway.keys create --role office --org <org unit id> --name "淮阳区委组织部 system"
    python -m gateway.keys create --role admin --name bootstrap          # platform-wide
    python -m gateway.keys list
    python -m gateway.keys revoke <key id>
    python -m gateway.keys rotate <key id> --overlap-hours 24    # new key; the old one expires
    python -m gateway.keys staff-create --org <centre id> --username li.wei --name 李伟

Keys may expire (`expires_at`); a rotation issues a new key with the same role, org and limit
and lets the old one keep working for an overlap window, so an integrator can switch without
downtime. Staff logins are for people (the console): one per person, passwords hashed with
argon2id, sessions short-lived (`GATEWAY_SESSION_MINUTES`, default 30).
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.plumbing import config
from services.plumbing.caller import ROLES, Caller
from services.plumbing.db import make_engine
from services.plumbing.envelope import utcnow
from services.plumbing.pagination import as_utc, iso_utc
from services.plumbing.text import storable, with_article

from .models import ApiKey, StaffSession, StaffUser

KEY_PATTERN = re.compile(r"^ld_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
SESSION_PATTERN = re.compile(r"^ls_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
PASSWORDS = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10
# Writing last_used_at on every request would make every read a write; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class InvalidKeyRequest(ValueError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, role: str, name: str, org_id: str | None,
               expires_at: datetime | None = None,
               rate_limit: str | None = None) -> tuple[ApiKey, str]:
    if role not in ROLES:
        raise InvalidKeyRequest(f"role must be one of {', '.join(ROLES)}")
    if org_id is None and role not in ("admin", "ops"):
        raise InvalidKeyRequest(f"{with_article(role)} key must belong to an org unit")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(id=key_id, name=name, role=role, org_id=org_id, secret_hash=_hash(secret),
                 created_at=utcnow(), expires_at=expires_at, rate_limit=rate_limit)
    session.add(key)
    session.flush()
    KEYS.forget_when_committed(session, key_id)  # in case the id was looked up before
    return key, f"ld_{key_id}_{secret}"


def presented_actor(presented: str) -> tuple[str, str | None]:
    """(kind, id) a presented credential claims to be, for the audit of a denied request."""
    match = KEY_PATTERN.match(presented or "")
    if match:
        return "key", match.group(1)
    match = SESSION_PATTERN.match(presented or "")
    if match:
        return "session", match.group(1)
    return "anonymous", None


def active(key: "ApiKey | CachedKey", now: datetime) -> bool:
    return key.revoked_at is None and (key.expires_at is None or as_utc(key.expires_at) > now)


class KeyCache:
    """Keys as this process last read them, for at most `seconds` (GATEWAY_KEY_CACHE_SECONDS,
    default 2): a request authenticates without a database round trip. A revocation or
    rotation made through this process drops the key at once (and again when it commits);
    one made through another replica takes effect here within `seconds`. Unknown key ids are
    remembered too (as None), so a scan of made-up keys does not reach the database either."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float | None = None):
        self.seconds = (float(os.environ.get("GATEWAY_KEY_CACHE_SECONDS", "2"))
                        if seconds is None else seconds)
        self.entries: dict[str, tuple[float, CachedKey | None]] = {}

    def get(self, session: Session, key_id: str) -> "CachedKey | None":
        now = time.monotonic()
        entry = self.entries.get(key_id)
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        key = session.get(ApiKey, key_id)
        cached = CachedKey.of(key) if key is not None else None
        if cached is not None and _last_use_is_stale(key.last_used_at):
            # Written when the key is read again, so at most once a minute per key and never
            # for a request served from the cache.
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
            session.commit()
        if self.seconds > 0:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries.clear()
            self.entries[key_id] = (now, cached)
        return cached

    def forget(self, key_id: str) -> None:
        self.entries.pop(key_id, None)

    def forget_when_committed(self, session: Session, key_id: str) -> None:
        """Drop the key now and once more after `session` commits, so that a request reading
        it in between cannot keep the old state for long."""
        self.forget(key_id)
        event.listen(session, "after_commit", lambda _session: self.forget(key_id), once=True)


@dataclass(frozen=True)
class CachedKey:
    id: str
    role: str
    org_id: str | None
    rate_limit: str | None
    secret_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> "CachedKey":
        return cls(key.id, key.role, key.org_id, key.rate_limit, key.secret_hash, key.revoked_at,
                   key.expires_at)


KEYS = KeyCache()


def _last_use_is_stale(last_used_at: datetime | None) -> bool:
    return last_used_at is None or as_utc(last_used_at) < utcnow() - LAST_USED_GRANULARITY


def find_key(session: Session, presented: str) -> CachedKey | None:
    """The active key a presented secret belongs to, or None."""
    match = KEY_PATTERN.match(presented or "")
    if not match:
        return None
    key = KEYS.get(session, match.group(1))
    if key is None or not active(key, utcnow()):
        return None
    if not hmac.compare_digest(key.secret_hash, _hash(match.group(2))):
        return None
    return key


def authenticate(session: Session, presented: str) -> Caller | None:
    principal = resolve(session, presented)
    return principal[0] if principal else None


def resolve(session: Session, presented: str) -> tuple[Caller, str | None] | None:
    """(caller, the key's own rate limit or None) for a valid key or console session."""
    if SESSION_PATTERN.match(presented or ""):
        caller = authenticate_session(session, presented)
        return (caller, None) if caller else None
    key = find_key(session, presented)
    if key is None:
        return None
    return Caller.of_key(key.id, key.role, key.org_id), key.rate_limit


def rotate_key(session: Session, key_id: str, overlap: timedelta) -> tuple[ApiKey, ApiKey, str]:
    """Issue a replacement (same name, role, org, limit and expiry) and let the old key live on
    for `overlap` at most. Returns (old, new, plain new key)."""
    old = session.get(ApiKey, key_id)
    now = utcnow()
    if old is None or not active(old, now):
        raise LookupError(key_id)
    if old.replaced_by is not None:
        raise InvalidKeyRequest("this key was already rotated; rotate its replacement")
    new, plain = create_key(session, old.role, old.name, old.org_id, old.expires_at, old.rate_limit)
    ends = now + overlap
    if old.expires_at is None or as_utc(old.expires_at) > ends:
        old.expires_at = ends
    old.replaced_by = new.id
    session.flush()
    KEYS.forget_when_committed(session, key_id)
    return old, new, plain


def revoke_key(session: Session, key_id: str) -> bool:
    result = session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    KEYS.forget_when_committed(session, key_id)
    return result.rowcount == 1


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))



def key_view(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "role": key.role, "org_id": key.org_id,
            "created_at": iso_utc(key.created_at), "revoked_at": iso_utc(key.revoked_at),
            "last_used_at": iso_utc(key.last_used_at), "expires_at": iso_utc(key.expires_at),
            "replaced_by": key.replaced_by, "rate_limit": key.rate_limit,
            "active": active(key, utcnow())}


# -- staff logins and console sessions ---------------------------------------------------------
def session_lifetime() -> timedelta:
    return timedelta(minutes=config.env_float("GATEWAY_SESSION_MINUTES", 30))


def create_staff_user(session: Session, username: str, display_name: str, org_id: str,
                      password: str, role: str = "desk_staff") -> StaffUser:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidKeyRequest(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise InvalidKeyRequest("this username is taken")
    user = StaffUser(id=secrets.token_hex(8), username=username, display_name=display_name,
                     org_id=org_id, role=role, password_hash=PASSWORDS.hash(password),
                     created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, username: str, password: str) -> tuple[StaffSession, str] | None:
    """A new short-lived session for a correct username and password; None otherwise (the
    same answer for an unknown user, a wrong password and a disabled login)."""
    if not storable(username):  # a NUL byte would make PostgreSQL refuse the query itself
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or user.disabled_at is not None:
        PASSWORDS.hash(password)  # as slow as a real check: no user enumeration by timing
        return None
    try:
        PASSWORDS.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if PASSWORDS.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORDS.hash(password)
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    staff_session = StaffSession(id=secrets.token_hex(8), user_id=user.id,
                                 secret_hash=_hash(secret), created_at=now,
                                 expires_at=now + session_lifetime())
    session.add(staff_session)
    session.flush()
    return staff_session, f"ls_{staff_session.id}_{secret}"


def authenticate_session(session: Session, presented: str) -> Caller | None:
    match = SESSION_PATTERN.match(presented or "")
    if not match:
        return None
    staff_session = session.get(StaffSession, match.group(1))
    if (staff_session is None or staff_session.ended_at is not None
            or as_utc(staff_session.expires_at) <= utcnow()
            or not hmac.compare_digest(staff_session.secret_hash, _hash(match.group(2)))):
        return None
    user = session.get(StaffUser, staff_session.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return Caller.of_user(user.id, user.role, user.org_id)


def end_session(session: Session, presented: str) -> None:
    match = SESSION_PATTERN.match(presented or "")
    if match:
        session.execute(update(StaffSession).where(StaffSession.id == match.group(1))
                        .values(ended_at=utcnow()))


def staff_user_view(user: StaffUser) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "org_id": user.org_id, "role": user.role, "created_at": iso_utc(user.created_at),
            "disabled_at": iso_utc(user.disabled_at)}


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
    rotate = commands.add_parser("rotate", help="issue a replacement; the old key expires after "
                                                "the overlap window")
    rotate.add_argument("key_id")
    rotate.add_argument("--overlap-hours", type=float, default=24.0)
    staff = commands.add_parser("staff-create", help="create a personal console login "
                                                     "(password read from GATEWAY_STAFF_PASSWORD "
                                                     "or prompted)")
    staff.add_argument("--org", required=True)
    staff.add_argument("--username", required=True)
    staff.add_argument("--name", required=True)
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
        elif args.command == "rotate":
            try:
                _old, new, plain = rotate_key(session, args.key_id,
                                              timedelta(hours=args.overlap_hours))
            except (LookupError, InvalidKeyRequest) as exc:
                print(f"error: cannot rotate {exc}", file=sys.stderr)
                return 1
            session.commit()
            print(f"new key id: {new.id}\nkey (shown once): {plain}")
        elif args.command == "staff-create":
            import getpass
            password = os.environ.get("GATEWAY_STAFF_PASSWORD") or getpass.getpass()
            try:
                user = create_staff_user(session, args.username, args.name, args.org, password)
            except InvalidKeyRequest as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            session.commit()
            print(f"staff user {user.username} ({user.id})")
        else:
            if not revoke_key(session, args.key_id):
                print("no such active key", file=sys.stderr)
                return 1
            session.commit()
            print(f"revoked {args.key_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
