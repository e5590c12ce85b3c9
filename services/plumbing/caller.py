"""The caller of an RPC, as the gateway resolved it from the API key or console session
(plain Python)."""
from dataclasses import dataclass

from .errors import ValidationFailed

ROLES = ("office", "desk_staff", "ops", "admin")
# The caller of a route that needs no key (a public ledger): it has no tenant, and a service
# must check `is_public` before treating org_id None as platform-wide.
PUBLIC_ROLE = "public"
# Who acts: an API key, or a person signed in to the console with a personal staff login.
KEY, USER = "key", "user"
# Starts a person's `key_id`, so that a person and an API key never share one in a record.
USER_PREFIX = "u_"


@dataclass(frozen=True)
class Caller:
    actor_kind: str | None  # KEY or USER; None: no one (the public caller), or not said (below)
    actor_id: str           # the key's id or the staff user's id
    role: str
    org_id: str | None

    @classmethod
    def of_key(cls, key_id: str, role: str, org_id: str | None) -> "Caller":
        return cls(KEY, key_id, role, org_id)

    @classmethod
    def of_user(cls, user_id: str, role: str, org_id: str | None) -> "Caller":
        return cls(USER, user_id, role, org_id)

    @classmethod
    def recorded(cls, key_id: str, role: str, org_id: str | None) -> "Caller":
        """A caller known only by its `key_id` (rebuilt from a service's record, or sent by a
        gateway that did not say who it is): `actor_id` is then that `key_id` as it is."""
        return cls(None, key_id, role, org_id)

    @property
    def key_id(self) -> str:
        """Who acted, as services record it (submitted_by, assignee, staff, an Idempotency-Key's
        scope) and as it crosses RPC: a key's id, or `u_<user id>` for a person. Opaque: nothing
        parses it back (`actor_kind` and `actor_id` say who it is). The name is the wire field's
        and the services' columns' (staff.key_id, actor_key_id), which keep it."""
        return USER_PREFIX + self.actor_id if self.actor_kind == USER else self.actor_id

    @classmethod
    def from_wire(cls, data) -> "Caller":
        if not isinstance(data, dict) or data.get("role") not in ROLES + (PUBLIC_ROLE,):
            raise ValidationFailed("caller is missing or malformed", {"caller": ["invalid"]})
        if data.get("actor_kind") in (KEY, USER) and isinstance(data.get("actor_id"), str):
            return cls(data["actor_kind"], data["actor_id"], data["role"], data.get("org_id"))
        return cls.recorded(str(data.get("key_id", "")), data["role"], data.get("org_id"))

    def to_wire(self) -> dict:
        return {"key_id": self.key_id, "actor_kind": self.actor_kind, "actor_id": self.actor_id,
                "role": self.role, "org_id": self.org_id}

    @property
    def is_public(self) -> bool:
        return self.role == PUBLIC_ROLE

    @property
    def platform_wide(self) -> bool:
        """Sees every tenant: an admin or ops key of no org unit. Never the public caller."""
        return self.org_id is None and not self.is_public
