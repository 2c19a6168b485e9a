"""Reading and setting up the workspace row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.workspace.models import Workspace

DEFAULT_NAME = "Tenure"


def get_workspace(session: Session) -> Workspace:
    """The workspace row, or unsaved defaults before `tenure init` created it.

    Reads never write: on SQLite an INSERT here would hold the database's write lock for
    the rest of the request (every page reads the workspace).
    """
    workspace = session.scalar(select(Workspace).limit(1))
    return workspace if workspace is not None else Workspace(name=DEFAULT_NAME, is_demo=False)


def ensure_workspace(session: Session) -> Workspace:
    """The workspace row, created with defaults if missing (init and the demo builder)."""
    workspace = session.scalar(select(Workspace).limit(1))
    if workspace is None:
        workspace = Workspace(name=DEFAULT_NAME, is_demo=False)
        session.add(workspace)
        session.flush()
    return workspace


def unique_id_namespaces(session: Session) -> list[str]:
    """External-id namespaces declared to hold one record per person (may be empty)."""
    return list(get_workspace(session).unique_id_namespaces or [])
