"""The import page: upload a file, check the detected mapping on a preview, run, read the report.

The uploaded bytes are kept with a draft import record (``import_files``), so the mapping
step and the run may be served by different workers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from tenure.customers.attributes import declared_attributes
from tenure.ingest import records as import_records
from tenure.ingest.actions import create_upload_draft, import_upload
from tenure.ingest.csv_import import CsvSource, bytes_opener, preview_rows
from tenure.ingest.models import ImportStatus
from tenure.ingest.presets import (
    ORGANIZATION_BUILTINS,
    ORGANIZATION_FIELDS,
    PERSON_BUILTINS,
    PERSON_FIELDS,
    PRESETS,
)
from tenure.ingest.uploads import format_of, upload_source
from tenure.validation import RowId
from tenure.web.deps import PageWriter, PhoneRegion, PostedForm, SessionDep, SettingsDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render
from tenure.workspace.settings import phone_region

router = APIRouter(include_in_schema=False)

LABELS = {
    "ignore": "Ignore",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split)",
    "job_title": "Job title",
    "organization": "Organization name",
    "tags": "Tags (comma-separated)",
    "email": "Identity: email",
    "phone": "Identity: phone",
    "name": "Name",
    "domain": "Domain / website",
}


def _targets(session: Any, record: Any, headers: list[str]) -> list[tuple[str, str]]:
    """(value, label) of every target a column of this import may go to."""
    entity = record.entity
    fields = ORGANIZATION_FIELDS if entity == "organization" else PERSON_FIELDS
    builtins = ORGANIZATION_BUILTINS if entity == "organization" else PERSON_BUILTINS
    options = [("ignore", LABELS["ignore"])]
    options += [(f, LABELS.get(f, f)) for f in fields]
    if entity == "person":
        options += [("email", LABELS["email"]), ("phone", LABELS["phone"])]
    namespace = PRESETS[record.preset].namespace if record.preset in PRESETS else "import"
    options.append((f"external:{namespace}", f"Identity: {namespace} record id"))
    declared = declared_attributes(session, entity)
    # A built-in target (country, city...) writes the attribute of the same key, normalized
    # (a country to its ISO code): one entry, under the workspace's label when it declared
    # the key, rather than "Attribute: country" beside "Attribute: Country".
    options += [
        (b, f"Attribute: {declared[b].label if b in declared else b.replace('_', ' ')}")
        for b in builtins
    ]
    options += [
        (f"attribute:{k}", f"Attribute: {d.label}")
        for k, d in sorted(declared.items())
        if k not in builtins
    ]
    for header in headers:
        key = _slug(header)
        if key and key not in declared and key not in builtins:
            options.append((f"new:{key}", f"New text attribute: {key}"))
    for value in record.mapping.values():  # a preset's targets stay selectable
        if value not in {v for v, _ in options}:
            options.append((value, value))
    return options


def _slug(header: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", header.casefold()).strip("_")[:64]
    return key if key and key[0].isalpha() else ""


@router.get("/imports")
def imports_page(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    return render(
        request,
        "imports/list.html",
        ctx=ctx,
        imports=import_records.list_imports(session),
        presets=PRESETS,
    )


@router.post("/imports")
def upload(
    request: Request,
    settings: SettingsDep,
    region: PhoneRegion,
    actor: PageWriter,
    file: Annotated[UploadFile, File()],
    preset: Annotated[str, Form()] = "",
) -> Response:
    content = file.file.read()
    file_name = file.filename or "upload"
    record = create_upload_draft(
        session_factory=request.app.state.session_factory,
        actor=actor,
        content=content,
        file_name=file_name,
        format=format_of(file_name),
        default_region=region,
        preset=preset or None,
    )
    return RedirectResponse(f"/imports/{record.id}", status_code=303)


def _source(
    session: Any,
    record: Any,
    settings: Any,
    mapping: dict[str, str] | None = None,
    declare: set[str] | None = None,
) -> Any:
    return upload_source(
        session,
        format=record.format,
        content=import_records.import_content(session, record.id),
        file_name=record.file_name,
        default_region=phone_region(session, settings),
        preset=record.preset,
        mapping=mapping if mapping is not None else record.mapping,
        declare=declare or set(record.options.get("declare", [])),
        our_domains=record.options.get("our_domains"),
    )


@router.get("/imports/{import_id}")
def import_page(
    request: Request, import_id: RowId, session: SessionDep, settings: SettingsDep, ctx: PageCtx
) -> Response:
    record = import_records.get_import(session, import_id)
    return _render_detail(request, session, settings, ctx, record)


def _render_detail(
    request: Request,
    session: Any,
    settings: Any,
    ctx: Any,
    record: Any,
    dry_run: Any = None,
    chosen: dict[str, str] | None = None,
    declare: set[str] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "ctx": ctx,
        "record": record,
        "dry_run": dry_run,
        "chosen": chosen or record.mapping,
    }
    if record.status == ImportStatus.draft.value:
        mapping = {c: t.replace("new:", "attribute:", 1) for c, t in (chosen or {}).items()}
        source = _source(session, record, settings, mapping=mapping or None, declare=declare)
        if isinstance(source, CsvSource):
            context["headers"] = source.headers
            context["targets"] = _targets(session, record, source.headers)
            context["rows"] = preview_rows(source)
        else:
            drafts = []
            for item in source.records():
                drafts.append(source.build(item))
                if len(drafts) >= 10:
                    break
            context["drafts"] = drafts
    else:
        context["report"] = import_records.import_dict(session, record)
    return render(request, "imports/detail.html", **context)


@router.post("/imports/{import_id}/run")
def run(
    request: Request,
    import_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    region: PhoneRegion,
    actor: PageWriter,
    ctx: PageCtx,
    form: PostedForm,
) -> Response:
    record = import_records.get_import(session, import_id)
    if record.status != ImportStatus.draft.value:
        return RedirectResponse(f"/imports/{import_id}", status_code=303)
    mapping: dict[str, str] = {}
    chosen: dict[str, str] = {}  # as selected, "new:<key>" included, to show them again
    declare: set[str] = set()
    for column in record.mapping:
        target = str(form.get(f"map:{column}") or record.mapping[column])
        chosen[column] = target
        if target.startswith("new:"):
            declare.add(target[4:])
            target = "attribute:" + target[4:]
        mapping[column] = target
    dry_run = form.get("action") == "check"
    content = import_records.import_content(session, record.id)
    # Read everything the import needs before ending this request's transaction: touching
    # ``record`` after the rollback would reload it, and on SQLite that new transaction
    # holds the write lock the import is waiting for.
    format, file_name, preset = record.format, record.file_name, record.preset
    mapping = mapping or dict(record.mapping)
    to_declare = declare or set(record.options.get("declare", []))
    our_domains = record.options.get("our_domains")
    session.rollback()  # end this request's read before the long import (see api/imports.py)
    report = import_upload(
        session_factory=request.app.state.session_factory,
        actor=actor,
        format=format,
        opener=bytes_opener(content),
        file_name=file_name,
        default_region=region,
        preset=preset,
        mapping=mapping,
        declare=to_declare,
        our_domains=our_domains,
        dry_run=dry_run,
        import_id=import_id,
    )
    if dry_run:
        return _render_detail(
            request, session, settings, ctx, record, dry_run=report, chosen=chosen, declare=declare
        )
    return RedirectResponse(f"/imports/{import_id}", status_code=303)
