"""Running an import: chunks of records, each matched, written and committed on its own.

A chunk is one transaction holding the people it writes, the rows it rejects and the
advance of the import's resume cursor, so a run killed at any point (kill -9 included)
leaves whole chunks behind; run again on the same file, it resumes after the last
committed chunk and every row ends up imported exactly once. A dry run goes through the
same matching with nothing written, and keeps what it would have created in memory so
later rows match it as they would for real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.actions import define_attribute
from tenure.customers.attributes import declared_attributes
from tenure.customers.schemas import AttributeDefinitionCreate
from tenure.db.bulk import release_page_cache
from tenure.db.session import unit_of_work
from tenure.db.statistics import analyze_after_load
from tenure.dedup.door import queue_flagged
from tenure.ingest import records as import_records
from tenure.ingest.collection import chunk_done, collected_per_chunk
from tenure.ingest.drafts import BUILTIN_ATTRIBUTES
from tenure.ingest.models import ImportStatus
from tenure.ingest.organization_links import OrganizationLinks
from tenure.ingest.people_upsert import Issue, Outcome, PeopleUpserter

# 5,000 contacts is ~3 MB of drafts and ~15,000 written rows: big enough that the commit
# and the per-chunk look-ups are noise, small enough that a crash loses about a second of
# work. From 2,000, measured at 25,000 contacts on SQLite: 15% less CPU (each commit
# rewrote the same index pages to the WAL).
CHUNK_SIZE = 5_000
IMPORT_DUPLICATE_REASON = "import: same name and organization, no shared email, phone or id"
REPORT_ISSUES = 1_000  # issues kept in the returned report; the table keeps them all


class Source(Protocol):
    """What an importer hands the runner: raw records in file order, and a way to turn one
    into a draft. Kept apart so that a resumed run skips records without normalizing them."""

    spec: import_records.ImportSpec
    total_bytes: int
    bytes_read: int

    def records(self) -> Iterator[Any]: ...

    def build(self, record: Any) -> Any: ...

    def attribute_keys(self) -> set[str]:
        """Built-in attributes the drafts may carry (declared before the first chunk)."""
        ...


class Upserter(Protocol):
    def apply_chunk(self, session: Session, drafts: list[Any]) -> Outcome: ...

    def forget_uncommitted(self) -> None: ...


@dataclass
class ImportReport:
    import_id: int | None
    status: str
    dry_run: bool
    resumed: bool
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    organizations_created: int = 0
    issues: list[Issue] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


Progress = Callable[[int, int], object]


#: What an import may fill, whatever its format (the email import appends events).
IMPORTED_TABLES = (
    "people",
    "identities",
    "organizations",
    "organization_external_ids",
    "person_tags",
    "organization_tags",
    "tags",
    "people_imports",
    "organizations_imports",
    "events",
    "event_items",
)


def run_import(
    *,
    session_factory: sessionmaker[Session],
    source: Source,
    actor_id: int | None,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    import_id: int | None = None,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import ``source``; resume an unfinished import of the same file, or ``import_id``."""
    resumed = False
    skip = 0
    if not dry_run:
        with unit_of_work(session_factory) as session:
            if import_id is not None:
                record = import_records.get_import(session, import_id)
                resumed = record.rows_done > 0
                if record.status == ImportStatus.completed.value:
                    return _report_from_record(record, resumed=False)
                record.status = ImportStatus.running.value
            else:
                record, resumed = import_records.start_import(
                    session=session, spec=source.spec, actor_id=actor_id
                )
            import_id, skip = record.id, record.rows_done
            _declare_builtins(session, source.attribute_keys(), actor_id, source.spec.entity)
    report = ImportReport(import_id=import_id, status="running", dry_run=dry_run, resumed=resumed)
    upserter = _upserter(source, import_id=import_id, actor_id=actor_id, dry_run=dry_run)
    done = skip
    try:
        with collected_per_chunk():
            chunk: list[Any] = []
            for index, record in enumerate(source.records()):
                if index < skip:
                    continue
                chunk.append(record)
                if len(chunk) >= chunk_size:
                    done = _run_chunk(session_factory, upserter, source, chunk, report, done)
                    chunk = []
                    chunk_done()
                    if on_progress:
                        on_progress(source.bytes_read, source.total_bytes)
            done = _run_chunk(session_factory, upserter, source, chunk, report, done)
    except Exception as error:
        if import_id is not None and not dry_run:
            with unit_of_work(session_factory) as session:
                import_records.finish_import(
                    session=session, import_id=import_id, error=str(error)[:2000], actor_id=actor_id
                )
        raise
    if on_progress:
        on_progress(source.total_bytes, source.total_bytes)
    if isinstance(upserter, PeopleUpserter):
        report.organizations_created = upserter.organizations.created
    if dry_run or import_id is None:
        report.status = "dry_run"
        report.rows = done
        return report
    with unit_of_work(session_factory) as session:
        import_records.finish_import(session=session, import_id=import_id, actor_id=actor_id)
        record = import_records.get_import(session, import_id)
        final = _report_from_record(record, resumed=resumed)
    analyze_after_load(session_factory, IMPORTED_TABLES)
    final.issues = report.issues
    final.organizations_created = report.organizations_created
    return final


def _run_chunk(
    session_factory: sessionmaker[Session],
    upserter: Upserter,
    source: Source,
    records: list[Any],
    report: ImportReport,
    done: int,
) -> int:
    if not records:
        return done
    drafts = [source.build(record) for record in records]
    for attempt in range(2):
        try:
            with unit_of_work(session_factory) as session:
                if report.import_id is not None and not report.dry_run:
                    import_records.claim_chunk(
                        session=session,
                        import_id=report.import_id,
                        rows_before=done,
                        rows_after=done + len(records),
                    )
                outcome = upserter.apply_chunk(session, drafts)
                if report.dry_run:
                    session.rollback()
                elif report.import_id is not None:
                    import_records.record_chunk(
                        session=session,
                        import_id=report.import_id,
                        counts={
                            "created": outcome.created,
                            "duplicates": outcome.duplicates,
                            "updated": outcome.updated,
                            "unchanged": outcome.unchanged,
                            "rejected": outcome.rejected,
                        },
                        issues=[
                            (i.line, i.kind, i.column[:200], i.reason, i.person_id)
                            for i in outcome.issues
                        ],
                    )
                    # Probable duplicates go to the review queue, not only to the report.
                    flagged = [p for i in outcome.issues if (p := i.twin_ids())]
                    if flagged:
                        queue_flagged(session, flagged, IMPORT_DUPLICATE_REASON)
                session.commit()
                release_page_cache(session.connection())
            break
        except IntegrityError:
            # Someone else stored one of these emails or ids between our look-up and our
            # insert: forget what the rolled-back chunk cached and match it again.
            upserter.forget_uncommitted()
            if attempt == 1:
                raise
    for name, count in (
        ("created", outcome.created),
        ("duplicates", outcome.duplicates),
        ("updated", outcome.updated),
        ("unchanged", outcome.unchanged),
        ("rejected", outcome.rejected),
    ):
        setattr(report, name, getattr(report, name) + count)
    room = REPORT_ISSUES - len(report.issues)
    if room > 0:
        report.issues.extend(outcome.issues[:room])
    return done + len(records)


def _upserter(
    source: Source, *, import_id: int | None, actor_id: int | None, dry_run: bool
) -> Upserter:
    if source.spec.entity == "event":
        from tenure.ingest.email_import import EventUpserter

        return EventUpserter(actor_id=actor_id)
    if source.spec.entity == "organization":
        from tenure.ingest.organization_upsert import OrganizationUpserter

        return OrganizationUpserter(import_id=import_id, actor_id=actor_id, dry_run=dry_run)
    return PeopleUpserter(
        import_id=import_id,
        actor_id=actor_id,
        dry_run=dry_run,
        organizations=OrganizationLinks(import_id=import_id),
    )


def _declare_builtins(session: Session, keys: set[str], actor_id: int | None, entity: str) -> None:
    declared = declared_attributes(session, entity)
    for key in sorted(keys & BUILTIN_ATTRIBUTES.keys() - declared.keys()):
        label, kind = BUILTIN_ATTRIBUTES[key]
        define_attribute(
            session=session,
            data=AttributeDefinitionCreate.model_validate(
                {"entity": entity, "key": key, "label": label, "type": kind}
            ),
            actor_id=actor_id,
        )


def declare_text_attributes(
    session: Session, keys: set[str], *, entity: str, actor_id: int | None
) -> None:
    """Declare, as text, the custom attributes a user asked an import to create."""
    declared = declared_attributes(session, entity)
    for key in sorted(keys - declared.keys()):
        define_attribute(
            session=session,
            data=AttributeDefinitionCreate.model_validate(
                {
                    "entity": entity,
                    "key": key,
                    "label": key.replace("_", " ").capitalize(),
                    "type": "text",
                }
            ),
            actor_id=actor_id,
        )


def _report_from_record(record: Any, *, resumed: bool) -> ImportReport:
    return ImportReport(
        import_id=record.id,
        status=record.status,
        dry_run=False,
        resumed=resumed or record.resumed > 0,
        rows=record.rows_done,
        created=record.created,
        duplicates=record.duplicates,
        updated=record.updated,
        unchanged=record.unchanged,
        rejected=record.rejected,
    )
