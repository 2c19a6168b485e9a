"""What every page needs: the logged-in actor and the workspace (for the demo banner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tenure.customers.tasks import due_count
from tenure.identity.models import Role
from tenure.identity.permissions import Actor, may
from tenure.identity.queries import actor_for_login
from tenure.web.deps import PageActor, SessionDep
from tenure.web.login import login_of
from tenure.workspace.queries import get_workspace
from tenure.workspace.settings import DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class PageContext:
    actor: Actor
    workspace_name: str
    is_demo: bool
    #: The top bar's badge: my open tasks due today or overdue.
    tasks_due: int = 0
    #: The IANA zone pages show dates in (``web.templating.render``).
    time_zone: str = "UTC"

    def may(self, roles: frozenset[Role] | None = None) -> bool:
        """Whether to show a write control: ``{% if ctx.may(roles.MODEL_EDITORS) %}``.

        ``identity.permissions.may`` for templates; the action checks again.
        """
        return may(self.actor, roles)


def _page_context(request: Request, session: SessionDep, actor: PageActor) -> PageContext:
    # A plain def, run on the thread pool: on a page writer's session this read begins
    # the write transaction, which may wait for SQLite's lock; never on the event loop.
    workspace = get_workspace(session)
    context = PageContext(
        actor=actor,
        workspace_name=workspace.name,
        is_demo=workspace.is_demo,
        tasks_due=due_count(session, actor.user_id),
        time_zone=workspace.time_zone or DEFAULT_TIME_ZONE,
    )
    request.state.workspace = context
    return context


PageCtx = Annotated[PageContext, Depends(_page_context)]


def error_page_context(request: Request) -> PageContext | None:
    """The layout's context for an error page: the logged-in actor if one can be found.

    An error page keeps the navigation, so "Not found" or "Not allowed" leaves a way on. It
    must never fail itself: on any trouble (the database the error came from) the page
    shows without the bar.
    """
    existing = getattr(request.state, "workspace", None)
    if isinstance(existing, PageContext):
        return existing
    login = login_of(request.scope.get("session", {}))
    if login is None:
        return None
    try:
        with request.app.state.session_factory() as session:
            actor = actor_for_login(session, *login)
            if actor is None:
                return None
            workspace = get_workspace(session)
            return PageContext(
                actor=actor,
                workspace_name=workspace.name,
                is_demo=workspace.is_demo,
                time_zone=workspace.time_zone or DEFAULT_TIME_ZONE,
            )
    except Exception:  # the error page shows without the bar instead
        return None
