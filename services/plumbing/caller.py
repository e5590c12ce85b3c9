"""The caller of an RPC, as the gateway resolved it from the API key (plain Python)."""
from dataclasses import dataclass

from .errors import ValidationFailed

ROLES = ("office", "desk_staff", "ops", "admin")
# The caller of a route that needs no key (a public ledger): it has no tenant, and a service
# must check `is_public` before treating org_id None as platform-wide.
PUBLIC_ROLE = "public"


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    org_id: str | None

    @classmethod
    def from_wire(cls, data) -> "Caller":
        if not isinstance(data, dict) or data.get("role") not in ROLES + (PUBLIC_ROLE,):
            raise ValidationFailed("caller is missing or malformed", {"caller": ["invalid"]})
        return cls(key_id=str(data.get("key_id", "")), role=data["role"], org_id=data.get("org_id"))

    def to_wire(self) -> dict:
        return {"key_id": self.key_id, "role": self.role, "org_id": self.org_id}

    @property
    def is_public(self) -> bool:
        return self.role == PUBLIC_ROLE

    @property
    def platform_wide(self) -> bool:
        """Sees every tenant: an admin or ops key of no org unit. Never the public caller."""
        return self.org_id is None and not self.is_public
