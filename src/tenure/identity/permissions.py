"""What each role and token scope may do: the one home of role rules.

Actions check these (``authorize``), so every entry point (API, page, CLI, a job) gets the
same answer; pages only use ``may`` to hide what the actor could not do anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenure.errors import PermissionDenied
from tenure.identity.models import Role, TokenScope

READ_ONLY_ROLES = frozenset({Role.analyst})
AUDIT_READERS = frozenset({Role.admin})
USER_ADMINS = frozenset({Role.admin})
#: Who may change the lifecycle stage model (everyone who can write may override one person).
MODEL_EDITORS = frozenset({Role.admin, Role.manager, Role.marketing})
#: Who may tune the retention settings (signals, weights, thresholds, alert owner).
SETTINGS_EDITORS = frozenset({Role.admin, Role.manager})
#: Who may list every user's email and role; others see names only where a page needs
#: them (an owner, an author), never the whole directory.
USER_LISTERS = frozenset({Role.admin, Role.manager})
WORKSPACE_ADMINS = frozenset({Role.admin})  # workspace settings
#: Who may merge, dismiss and undo duplicates and scan the base: every role that writes.
DUPLICATE_RESOLVERS = frozenset(Role) - READ_ONLY_ROLES
#: Who sees the job queue (payloads and errors may name customers) and retries or cancels.
JOB_ADMINS = frozenset({Role.admin})
#: Who sees and edits the webhook subscriptions and their delivery log. Admins only: a
#: subscription sends customer data to another system, its URL may carry credentials,
#: and the log holds the bodies sent; the read-only analyst does not see them either.
WEBHOOK_ADMINS = frozenset({Role.admin})
#: Who may create and edit email templates (everyone may read and preview them).
TEMPLATE_EDITORS = frozenset({Role.admin, Role.manager, Role.marketing})
#: Who may create, edit, publish, pause and archive workflows, and enrol people in them or
#: cancel an enrolment by hand (a workflow emails and changes people without asking).
WORKFLOW_EDITORS = frozenset({Role.admin, Role.manager, Role.marketing})
#: Who may share a saved list view with the workspace (anyone saves views of their own).
VIEW_SHARERS = frozenset(Role) - READ_ONLY_ROLES
#: Who may send an email to a person (one-off, from the person page or the API).
MESSAGE_SENDERS = frozenset(Role) - READ_ONLY_ROLES
#: Who may add an address to the suppression list or take one off it.
SUPPRESSION_ADMINS = frozenset({Role.admin})
#: Who sees everyone's tasks on My work (others see the tasks assigned to them).
TASK_OVERSEERS = frozenset({Role.admin, Role.manager})
#: Who sees the whole workspace on Home ("Everyone"); others see their own book. The
#: read-only analyst too: they own no book (their Home was empty for good), and their work
#: is the whole base, which the analytics and at-risk pages already show them.
BOOK_OVERSEERS = frozenset({Role.admin, Role.manager, Role.analyst})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, through the web (full role) or a token (scoped)."""

    user_id: int
    email: str
    role: Role
    scope: TokenScope = TokenScope.write
    #: The API token the request authenticated with (None: a login session or the CLI).
    token_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role not in READ_ONLY_ROLES and self.scope == TokenScope.write


#: The roles that may write at all (a read-only actor's "Not allowed" page names them).
WRITER_ROLES = frozenset(Role) - READ_ONLY_ROLES


def require_write(actor: Actor) -> None:
    if actor.role in READ_ONLY_ROLES:
        raise PermissionDenied(
            f"role {actor.role.value} is read-only",
            roles=frozenset(r.value for r in WRITER_ROLES),
        )
    if actor.scope != TokenScope.write:
        raise PermissionDenied("this API token has read scope only")


def require_role(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"requires role {allowed}", roles=frozenset(r.value for r in roles))


def may(actor: Actor, roles: frozenset[Role] | None = None) -> bool:
    """Whether ``actor`` may write (and holds one of ``roles``): for pages hiding controls."""
    return actor.can_write and (roles is None or actor.role in roles)


def authorize(actor: Actor | None, roles: frozenset[Role] | None = None) -> int | None:
    """Refuse (PermissionDenied) an actor who may not write, or lacks one of ``roles``;
    return the user id to audit.

    ``None`` is the operator at the command line (or a job the system runs): whoever can run
    ``tenure`` on the server already holds the database, so there is nothing to check, and
    the audit log records no user.
    """
    if actor is None:
        return None
    require_write(actor)
    if roles is not None:
        require_role(actor, roles)
    return actor.user_id


def authorize_own_account(actor: Actor | None) -> int | None:
    """Refuse a read-scope token changing its user's own account (password, tokens); every
    role, read-only ones included, manages its own account. Returns the user id to audit."""
    if actor is None:
        return None
    if actor.scope != TokenScope.write:
        raise PermissionDenied("this API token has read scope only")
    return actor.user_id
