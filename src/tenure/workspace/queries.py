"""Reading and setting up the workspace row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.workspace.models import Workspace

DEFAULT_NAME = "Tenure"
_CACHE = "tenure.workspace.row"


def get_workspace(session: Session) -> Workspace:
    """The workspace row, or unsaved defaults before `tenure init` created it.

    Reads never write: on SQLite an INSERT here would hold the database's write lock for
    the rest of the request (every page reads the workspace). The row is kept for the rest
    of the transaction: the clock asks for it several times a request, a sent email five
    times, each a SELECT of ~1.7 ms.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and cached[1] in session
    ):
        return cached[1]
    workspace = session.scalar(select(Workspace).limit(1))
    if workspace is None:
        return Workspace(name=DEFAULT_NAME, is_demo=False)
    session.info[_CACHE] = (transaction, workspace)
    return workspace


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
