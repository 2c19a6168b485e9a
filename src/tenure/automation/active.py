"""The published versions of the active workflows, parsed once and cached in the process.

The enrolment reaction runs on every append (tens of thousands per import), so it must
cost nearly nothing when no workflow wants the events. It reads one fingerprint of the
``workflows`` table (how many are active, their newest ``updated_at`` and published
version: any publish, pause, resume or archive changes it) and rebuilds the parsed list
only when the fingerprint moved. The fingerprint itself is read once per transaction
(cached on the session), so a chunked import pays one tiny query per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.automation.definition import Definition
from tenure.automation.models import Workflow, WorkflowStatus, WorkflowVersion

_SESSION_KEY = "tenure.automation.active"


@dataclass(frozen=True)
class ActiveVersion:
    workflow_id: int
    version_id: int
    definition: Definition


_lock = Lock()
_cached: tuple[Any, tuple[ActiveVersion, ...]] | None = None
# (version id, published at) -> definition: the time guards against an id reused after
# a rolled-back publish (tests; SQLite reuses ids).
_definitions: dict[tuple[int, Any], Definition] = {}


def definition_of(session: Session, version_id: int) -> Definition:
    """A published version's definition, parsed once per process (versions never change)."""
    stamp = session.scalar(
        select(WorkflowVersion.published_at).where(WorkflowVersion.id == version_id)
    )
    if stamp is None:
        raise LookupError(f"no workflow version {version_id}")
    return cached_definition(session, version_id, stamp)


def cached_definition(session: Session, version_id: int, published_at: Any) -> Definition:
    """``definition_of`` for a caller that already read the version's ``published_at``."""
    key = (version_id, published_at)
    found = _definitions.get(key)
    if found is None:
        stored = session.scalar(
            select(WorkflowVersion.definition).where(WorkflowVersion.id == version_id)
        )
        found = Definition.model_validate(stored)
        with _lock:
            _definitions[key] = found
    return found


def _fingerprint(session: Session) -> Any:
    transaction = session.get_transaction()
    cached = session.info.get(_SESSION_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    row = session.execute(
        select(
            func.count(Workflow.id),
            func.max(Workflow.updated_at),
            func.max(Workflow.published_version_id),
        ).where(Workflow.status == WorkflowStatus.active.value)
    ).one()
    fingerprint = tuple(row)
    session.info[_SESSION_KEY] = (transaction, fingerprint)
    return fingerprint


def forget(session: Session) -> None:
    """Drop the session's fingerprint (an action changed a workflow in this transaction)."""
    session.info.pop(_SESSION_KEY, None)


def active_versions(session: Session) -> tuple[ActiveVersion, ...]:
    """The published version of every active workflow, in workflow id order."""
    global _cached
    fingerprint = _fingerprint(session)
    if fingerprint[0] == 0:
        return ()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = session.execute(
        select(Workflow.id, WorkflowVersion.id.label("version_id"), WorkflowVersion.published_at)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.status == WorkflowStatus.active.value)
        .order_by(Workflow.id)
    ).all()
    versions = tuple(
        ActiveVersion(
            row.id, row.version_id, cached_definition(session, row.version_id, row.published_at)
        )
        for row in rows
    )
    with _lock:
        _cached = (fingerprint, versions)
    return versions
