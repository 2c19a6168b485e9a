"""What each role and token scope may do."""

from __future__ import annotations

from dataclasses import dataclass

from tenure.errors import PermissionDenied
from tenure.identity.models import Role, TokenScope

READ_ONLY_ROLES = frozenset({Role.analyst})
AUDIT_READERS = frozenset({Role.admin})
USER_ADMINS = frozenset({Role.admin})
#: Who sees the job queue (payloads and errors may name customers) and retries or cancels.
JOB_ADMINS = frozenset({Role.admin})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, through the web (full role) or a token (scoped)."""

    user_id: int
    email: str
    role: Role
    scope: TokenScope = TokenScope.write

    @property
    def can_write(self) -> bool:
        return self.role not in READ_ONLY_ROLES and self.scope == TokenScope.write


def require_write(actor: Actor) -> None:
    if actor.role in READ_ONLY_ROLES:
        raise PermissionDenied(f"role {actor.role.value} is read-only")
    if actor.scope != TokenScope.write:
        raise PermissionDenied("this API token has read scope only")


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"requires role {allowed}")
