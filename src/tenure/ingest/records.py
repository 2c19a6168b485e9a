"""Import records: start or resume one, advance it chunk by chunk, finish it, read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tenure.db.bulk import load_rows
from tenure.db.types import utcnow
from tenure.errors import Conflict, NotFound
from tenure.identity.audit import record_audit
from tenure.ingest.models import Import, ImportFile, ImportIssue, ImportStatus
from tenure.ingest.writes import table_of

UNFINISHED = (ImportStatus.running.value, ImportStatus.failed.value)
ISSUE_COLUMNS = ("import_id", "line", "kind", "column", "reason", "person_id")


@dataclass(frozen=True)
class ImportSpec:
    """What identifies an import run: the same bytes read the same way resume each other."""

    file_name: str
    file_sha256: str
    format: str
    entity: str = "person"
    preset: str | None = None
    mapping: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


def start_import(
    *, session: Session, spec: ImportSpec, actor_id: int | None
) -> tuple[Import, bool]:
    """The unfinished import of the same file, format, mapping and options, resumed; or a
    new one. Returns the record and whether it was resumed."""
    candidates = session.scalars(
        select(Import)
        .where(
            Import.file_sha256 == spec.file_sha256,
            Import.format == spec.format,
            Import.entity == spec.entity,
            Import.status.in_(UNFINISHED),
        )
        .order_by(Import.id.desc())
    )
    for record in candidates:
        if record.mapping == (spec.mapping or {}) and record.options == (spec.options or {}):
            record.resumed += 1
            record.status = ImportStatus.running.value
            record.error = None
            session.flush()
            return record, True
    record = Import(
        actor_id=actor_id,
        file_name=spec.file_name[:300],
        file_sha256=spec.file_sha256,
        format=spec.format,
        entity=spec.entity,
        preset=spec.preset,
        mapping=spec.mapping or {},
        options=spec.options or {},
        status=ImportStatus.running.value,
        rows_done=0,
        created=0,
        updated=0,
        unchanged=0,
        duplicates=0,
        rejected=0,
        resumed=0,
    )
    session.add(record)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="import",
        entity_id=record.id,
        changes={
            "file_name": {"before": None, "after": record.file_name},
            "format": {"before": None, "after": record.format},
        },
    )
    return record, False


def create_draft(
    *, session: Session, spec: ImportSpec, content: bytes, actor_id: int | None
) -> Import:
    """An uploaded file waiting for its mapping to be confirmed (the web import page)."""
    record, _ = start_import(session=session, spec=spec, actor_id=actor_id)
    if record.rows_done == 0:
        record.status = ImportStatus.draft.value
    session.merge(ImportFile(import_id=record.id, content=content))
    session.flush()
    return record


def claim_chunk(*, session: Session, import_id: int, rows_before: int, rows_after: int) -> None:
    """Advance the resume cursor, first thing in a chunk's transaction.

    A compare-and-set: if another process advanced the import meanwhile, this chunk is not
    ours to apply, and the caller's transaction rolls back. Being the chunk's first write,
    it also takes the write lock (SQLite) or the row lock (PostgreSQL) before any reads.
    """
    result = session.execute(
        update(Import)
        .where(Import.id == import_id, Import.rows_done == rows_before)
        .values(rows_done=rows_after)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"import {import_id} is being run by another process", field="import")


def record_chunk(
    *, session: Session, import_id: int, counts: dict[str, int], issues: Sequence[tuple]
) -> None:
    values = {name: getattr(Import, name) + count for name, count in counts.items() if count}
    if values:
        session.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    rows = [(import_id, *issue) for issue in issues]
    load_rows(session.connection(), table_of(ImportIssue), ISSUE_COLUMNS, rows)


def finish_import(
    *, session: Session, import_id: int, error: str | None = None, actor_id: int | None = None
) -> None:
    record = session.get(Import, import_id)
    if record is None:
        raise NotFound("import", import_id)
    record.status = ImportStatus.failed.value if error else ImportStatus.completed.value
    record.error = error
    record.finished_at = utcnow()
    if not error:
        session.execute(delete(ImportFile).where(ImportFile.import_id == import_id))
    record_audit(
        session=session,
        actor_id=actor_id,
        action="update",
        entity_type="import",
        entity_id=import_id,
        changes={"status": {"before": "running", "after": record.status}},
    )


def get_import(session: Session, import_id: int) -> Import:
    record = session.get(Import, import_id)
    if record is None:
        raise NotFound("import", import_id)
    return record


def import_content(session: Session, import_id: int) -> bytes:
    content = session.scalar(select(ImportFile.content).where(ImportFile.import_id == import_id))
    if content is None:
        raise Conflict(f"import {import_id} has no stored file to run", field="import")
    return bytes(content)


def import_issues(
    session: Session, import_id: int, *, kind: str | None = None, limit: int = 1000
) -> list[ImportIssue]:
    query = select(ImportIssue).where(ImportIssue.import_id == import_id)
    if kind:
        query = query.where(ImportIssue.kind == kind)
    return list(session.scalars(query.order_by(ImportIssue.line, ImportIssue.id).limit(limit)))


def import_dict(session: Session, record: Import, *, issue_limit: int = 1000) -> dict[str, Any]:
    issues = import_issues(session, record.id, limit=issue_limit)
    total_issues = session.scalar(
        select(func.count()).select_from(ImportIssue).where(ImportIssue.import_id == record.id)
    )
    return {
        "id": record.id,
        "status": record.status,
        "file_name": record.file_name,
        "file_sha256": record.file_sha256,
        "format": record.format,
        "entity": record.entity,
        "preset": record.preset,
        "mapping": record.mapping,
        "options": record.options,
        "actor_id": record.actor_id,
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "rows": record.rows_done,
        "counts": {
            "created": record.created,
            "updated": record.updated,
            "unchanged": record.unchanged,
            "duplicates": record.duplicates,
            "rejected": record.rejected,
        },
        "resumed": record.resumed,
        "error": record.error,
        "rejected_rows": [
            {"line": i.line, "column": i.column, "reason": i.reason}
            for i in issues
            if i.kind == "rejected"
        ],
        "probable_duplicates": [
            {"line": i.line, "existing_person_id": i.person_id, "reason": i.reason}
            for i in issues
            if i.kind == "duplicate"
        ],
        "issues_total": total_issues,
    }


def list_imports(session: Session, *, limit: int = 50) -> list[Import]:
    return list(session.scalars(select(Import).order_by(Import.id.desc()).limit(limit)))
