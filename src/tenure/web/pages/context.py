"""What every page needs: the logged-in actor and the workspace (for the demo banner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tenure.customers.tasks import due_count
from tenure.identity.permissions import Actor
from tenure.web.deps import PageActor, SessionDep
from tenure.workspace.queries import get_workspace


@dataclass(frozen=True)
class PageContext:
    actor: Actor
    workspace_name: str
    is_demo: bool
    #: The top bar's badge: my open tasks due today or overdue.
    tasks_due: int = 0


async def _page_context(request: Request, session: SessionDep, actor: PageActor) -> PageContext:
    workspace = get_workspace(session)
    context = PageContext(
        actor=actor,
        workspace_name=workspace.name,
        is_demo=workspace.is_demo,
        tasks_due=due_count(session, actor.user_id),
    )
    request.state.workspace = context
    return context


PageCtx = Annotated[PageContext, Depends(_page_context)]
