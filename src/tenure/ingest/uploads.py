"""Sources for imported files (uploads, or a path for the CLI), whatever their format."""

from __future__ import annotations

from pathlib import PurePath

from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.ingest.csv_import import Opener, bytes_opener, prepare_csv
from tenure.ingest.email_import import email_source
from tenure.ingest.people_jsonl import people_jsonl_source
from tenure.ingest.runner import Source
from tenure.ingest.vcard import vcard_source

# Uploads are read into memory (and kept in import_files until run); bigger files go
# through `tenure import`, which streams from disk.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
FORMATS = ("csv", "vcard", "jsonl", "email")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".vcf": "vcard",
    ".vcard": "vcard",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".eml": "email",
    ".mbox": "email",
}


def format_of(file_name: str) -> str:
    fmt = _EXTENSIONS.get(PurePath(file_name).suffix.lower())
    if fmt is None:
        raise InvalidInput(
            "file", "has an extension Tenure cannot import (.csv, .vcf, .jsonl, .eml, .mbox)"
        )
    return fmt


def check_size(content: bytes) -> None:
    if not content:
        raise InvalidInput("file", "is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            "file", f"is larger than {MAX_UPLOAD_BYTES // 2**20} MB: use `tenure import`"
        )


def upload_opener(content: bytes) -> Opener:
    """An opener over uploaded bytes, refused when empty or too big for memory."""
    check_size(content)
    return bytes_opener(content)


def upload_source(
    session: Session,
    *,
    format: str,
    content: bytes,
    file_name: str,
    default_region: str,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    namespace: str = "",
    declare: set[str] | None = None,
    our_domains: list[str] | None = None,
) -> Source:
    return open_source(
        session,
        format=format,
        opener=upload_opener(content),
        file_name=file_name,
        default_region=default_region,
        preset=preset,
        mapping=mapping,
        namespace=namespace,
        declare=declare,
        our_domains=our_domains,
    )


def open_source(
    session: Session,
    *,
    format: str,
    opener: Opener,
    file_name: str,
    default_region: str,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    namespace: str = "",
    declare: set[str] | None = None,
    our_domains: list[str] | None = None,
) -> Source:
    """The source of a file in ``format``; checks the mapping against declared attributes."""
    if format == "csv":
        return prepare_csv(
            session,
            opener=opener,
            file_name=file_name,
            preset=preset or None,
            overrides=mapping,
            namespace=namespace,
            default_region=default_region,
            declare=declare,
        )
    if format == "vcard":
        return vcard_source(opener=opener, file_name=file_name, default_region=default_region)
    if format == "jsonl":
        return people_jsonl_source(
            session, opener=opener, file_name=file_name, default_region=default_region
        )
    if format == "email":
        return email_source(
            session, opener=opener, file_name=file_name, our_domains=our_domains or []
        )
    raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}")
