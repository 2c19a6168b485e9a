"""The import sequence, written once for the API, the import page and the CLI.

``import_upload`` checks the actor, opens the file's source, declares the attributes the
user asked for and pins the draft's mapping in one transaction of its own, then runs the
import (chunks, each its own transaction). Every session it uses is its own: a caller's
request session is never written to, so it cannot hold SQLite's write lock while the
import's chunks wait for it (the 500 "database is locked" the API once answered).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tenure.db.session import unit_of_work
from tenure.identity.permissions import Actor, require_write
from tenure.ingest import records as import_records
from tenure.ingest.csv_import import Opener
from tenure.ingest.models import Import
from tenure.ingest.runner import (
    CHUNK_SIZE,
    ImportReport,
    Progress,
    declare_text_attributes,
    run_import,
)
from tenure.ingest.uploads import open_source, upload_opener


def _actor_id(actor: Actor | None) -> int | None:
    """``None`` is the operator at the command line, who may do anything."""
    if actor is None:
        return None
    require_write(actor)
    return actor.user_id


def import_upload(
    *,
    session_factory: sessionmaker[Session],
    actor: Actor | None,
    format: str,
    opener: Opener,
    file_name: str,
    default_region: str,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    namespace: str = "",
    declare: set[str] | None = None,
    our_domains: list[str] | None = None,
    dry_run: bool = False,
    import_id: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import a file; ``import_id`` runs a draft the import page stored at upload.

    A dry run writes nothing at all: not the declared attributes, not the import record.
    """
    actor_id = _actor_id(actor)
    declare = set(declare or ())
    with unit_of_work(session_factory) as session:
        source = open_source(
            session,
            format=format,
            opener=opener,
            file_name=file_name,
            default_region=default_region,
            preset=preset,
            mapping=mapping,
            namespace=namespace,
            declare=declare,
            our_domains=our_domains,
        )
        if not dry_run:
            if declare:
                declare_text_attributes(
                    session, declare, entity=source.spec.entity, actor_id=actor_id
                )
            if import_id is not None:
                draft = import_records.get_import(session, import_id)
                draft.mapping = source.spec.mapping or {}
                draft.options = source.spec.options or {}
    return run_import(
        session_factory=session_factory,
        source=source,
        actor_id=actor_id,
        dry_run=dry_run,
        chunk_size=chunk_size,
        import_id=None if dry_run else import_id,
        on_progress=on_progress,
    )


def create_upload_draft(
    *,
    session_factory: sessionmaker[Session],
    actor: Actor,
    content: bytes,
    file_name: str,
    format: str,
    default_region: str,
    preset: str | None = None,
) -> Import:
    """Keep an uploaded file as a draft import, to check its mapping before running it."""
    actor_id = _actor_id(actor)
    with unit_of_work(session_factory) as session:
        source = open_source(
            session,
            format=format,
            opener=upload_opener(content),
            file_name=file_name,
            default_region=default_region,
            preset=preset,
        )
        return import_records.create_draft(
            session=session, spec=source.spec, content=content, actor_id=actor_id
        )
