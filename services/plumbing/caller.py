"""The caller of an RPC, as the gateway resolved it from the API key (plain Python)."""
from dataclasses import dataclass

from .errors import ValidationFailed

ROLES = ("office", "desk_staff", "ops", "admin")


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    org_id: str | None

    @classmethod
    def from_wire(cls, data) -> "Caller":
        if not isinstance(data, dict) or data.get("role") not in ROLES:
            raise ValidationFailed("caller is missing or malformed", {"caller": ["invalid"]})
        return cls(key_id=str(data.get("key_id", "")), role=data["role"], org_id=data.get("org_id"))

    def to_wire(self) -> dict:
        return {"key_id": self.key_id, "role": self.role, "org_id": self.org_id}

    @property
    def platform_wide(self) -> bool:
        return self.org_id is None
