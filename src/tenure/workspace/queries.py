"""Reading and setting up the workspace row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.workspace.models import Workspace

DEFAULT_NAME = "Tenure"


def get_workspace(session: Session) -> Workspace:
    """The workspace row, created with defaults on first use."""
    workspace = session.scalar(select(Workspace).limit(1))
    if workspace is None:
        workspace = Workspace(name=DEFAULT_NAME, is_demo=False)
        session.add(workspace)
        session.flush()
    return workspace
