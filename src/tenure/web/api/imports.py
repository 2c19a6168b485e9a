"""Imports over HTTP: multipart uploads of CSV, vCard, people JSON lines and email.

Each upload runs the import (in a worker thread: an import takes seconds, not the
millisecond the inline endpoints assume) and answers the import record with its counts,
rejected rows (line, column, reason) and probable duplicates. ``dry_run=true`` answers
the same counts and rows without writing anything. Re-sending a file updates what
changed and duplicates nothing; a file whose import stopped part-way resumes.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.identity.permissions import Actor
from tenure.ingest import records as import_records
from tenure.ingest.actions import import_upload
from tenure.ingest.runner import ImportReport
from tenure.ingest.uploads import upload_opener
from tenure.validation import RowId
from tenure.web.deps import ApiActor, ApiWriter, PhoneRegion, SessionDep, SettingsDep

router = APIRouter(prefix="/imports", tags=["imports"])

UploadArg = Annotated[UploadFile, File(description="The file to import.")]
DryRunArg = Annotated[bool, Form(description="Report what would change; write nothing.")]


def report_body(report: ImportReport) -> dict[str, Any]:
    return {
        "id": report.import_id,
        "status": report.status,
        "dry_run": report.dry_run,
        "resumed": report.resumed,
        "rows": report.rows,
        "counts": report.counts(),
        "organizations_created": report.organizations_created,
        "rejected_rows": [
            {"line": i.line, "column": i.column, "reason": i.reason}
            for i in report.issues
            if i.kind == "rejected"
        ],
        "probable_duplicates": [
            {"line": i.line, "existing_person_id": i.person_id, "reason": i.reason}
            for i in report.issues
            if i.kind == "duplicate"
        ],
    }


def _mapping(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput("mapping", f"is not JSON ({error})")
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInput("mapping", 'must be an object {"Column": "target"}')
    return value


def _import(
    request: Request,
    session: Session,
    *,
    format: str,
    file: UploadFile,
    actor: Actor,
    default_region: str,
    dry_run: bool,
    **options: Any,
) -> JSONResponse:
    content = file.file.read()
    # End the request session's read (the token look-up) before a long import: an open
    # read transaction would pin SQLite's WAL snapshot for the whole run.
    session.rollback()
    factory = request.app.state.session_factory
    report = import_upload(
        session_factory=factory,
        actor=actor,
        format=format,
        opener=upload_opener(content),
        file_name=file.filename or f"upload.{format}",
        default_region=default_region,
        dry_run=dry_run,
        **options,
    )
    if dry_run:
        return JSONResponse(report_body(report))
    assert report.import_id is not None
    body = import_records.import_dict(session, import_records.get_import(session, report.import_id))
    body["dry_run"] = False
    return JSONResponse(
        orjson.loads(orjson.dumps(body, default=str)), status_code=status.HTTP_201_CREATED
    )


@router.post("/csv", status_code=status.HTTP_201_CREATED)
def import_csv(
    request: Request,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
    region: PhoneRegion,
    file: UploadArg,
    preset: Annotated[
        str | None, Form(description="hubspot-contacts, salesforce-accounts...")
    ] = None,
    mapping: Annotated[
        str | None, Form(description='JSON {"Column": "target"} overriding the detected mapping')
    ] = None,
    source: Annotated[str, Form(description="System whose ids an external column holds")] = "",
    declare: Annotated[
        str, Form(description="Comma-separated attribute keys to declare as text")
    ] = "",
    dry_run: DryRunArg = False,
) -> JSONResponse:
    """Import people or companies from a CSV file with a column mapping."""
    return _import(
        request,
        session,
        format="csv",
        file=file,
        actor=actor,
        default_region=region,
        dry_run=dry_run,
        preset=preset,
        mapping=_mapping(mapping),
        namespace=source,
        declare={k.strip() for k in declare.split(",") if k.strip()},
    )


@router.post("/vcard", status_code=status.HTTP_201_CREATED)
def import_vcard(
    request: Request,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
    region: PhoneRegion,
    file: UploadArg,
    dry_run: DryRunArg = False,
) -> JSONResponse:
    """Import people from a vCard 3.0 or 4.0 file."""
    return _import(
        request,
        session,
        format="vcard",
        file=file,
        actor=actor,
        default_region=region,
        dry_run=dry_run,
    )


@router.post("/jsonl", status_code=status.HTTP_201_CREATED)
def import_jsonl(
    request: Request,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
    region: PhoneRegion,
    file: UploadArg,
    dry_run: DryRunArg = False,
) -> JSONResponse:
    """Import people from JSON lines, one POST /api/v1/people body per line."""
    return _import(
        request,
        session,
        format="jsonl",
        file=file,
        actor=actor,
        default_region=region,
        dry_run=dry_run,
    )


@router.post("/email", status_code=status.HTTP_201_CREATED)
def import_email(
    request: Request,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
    region: PhoneRegion,
    file: UploadArg,
    our_domain: Annotated[
        str, Form(description="Comma-separated domains of ours (their mail is 'sent')")
    ] = "",
    dry_run: DryRunArg = False,
) -> JSONResponse:
    """Import an .eml message or an .mbox archive as email events."""
    return _import(
        request,
        session,
        format="email",
        file=file,
        actor=actor,
        default_region=region,
        dry_run=dry_run,
        our_domains=[d for d in our_domain.split(",") if d.strip()],
    )


@router.get("")
def list_imports(session: SessionDep, actor: ApiActor) -> dict:
    return {
        "items": [
            import_records.import_dict(session, record, issue_limit=0)
            for record in import_records.list_imports(session)
        ]
    }


@router.get("/{import_id}")
def get_import(import_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return import_records.import_dict(session, import_records.get_import(session, import_id))
