"""CSV files with a column mapping: headers detected, presets for CRM exports, overrides.

A mapping sends each column to a target:

- person fields: ``first_name``, ``last_name``, ``full_name`` (split into parts),
  ``job_title``, ``organization`` (a company name, created if unknown), ``tags``;
- identities: ``email``, ``phone``, ``external`` (the source system's record id, in the
  preset's namespace or ``external:<system>``), ``social:<network>``;
- ``organization_ref`` (the source system's id of the person's company);
- built-in attributes ``country`` (ISO 3166 alpha-2, the original kept in
  ``country_original``), ``city``, ``region``, ``postal_code``, ``street``, ``website``,
  ``birthday``;
- ``attribute:<key>``, a declared custom attribute (or one the import declares as text
  when asked), typed by its declaration;
- ``ignore``.

Line numbers are physical lines of the file (the header is line 1), so a cell holding a
newline does not shift the numbers of the rows after it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.orm import Session

from tenure.customers.attributes import declared_attributes
from tenure.customers.models import AttributeDefinition
from tenure.errors import InvalidInput
from tenure.ingest import drafts as d
from tenure.ingest.presets import (
    ORGANIZATION_BUILTINS,
    ORGANIZATION_FIELDS,
    PERSON_BUILTINS,
    PERSON_FIELDS,
    PRESETS,
    Preset,
    detect_mapping,
)
from tenure.ingest.records import ImportSpec
from tenure.ingest.text_files import CountingLines

Opener = Callable[[], IO[bytes]]
CellWriter = Callable[[d.PersonDraft, str], object]
ATTRIBUTE_KEY = r"^[a-z][a-z0-9_]{0,63}$"


def file_sha256(opener: Opener) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with opener() as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class CsvDialect(csv.excel):
    """RFC 4180 quoting (a doubled quote inside a quoted cell is one quote) with the
    delimiter the file uses. csv.Sniffer guesses ``doublequote`` too, and from a header
    without quotes it guessed False, which broke ``"Say ""hi"", folks"`` (issue 9)."""


def _dialect(delimiter: str) -> type[csv.Dialect]:
    return type("CsvDialect", (CsvDialect,), {"delimiter": delimiter})


def sniff_dialect(opener: Opener) -> type[csv.Dialect]:
    """The file's delimiter, guessed from its first lines (up to 64 KB)."""
    with opener() as handle:
        lines: list[str] = []
        size = 0
        for line in CountingLines(handle):
            lines.append(line)
            size += len(line)
            if len(lines) >= 50 or size >= 64 * 1024:
                break
    if not lines:
        return _dialect(",")
    try:
        delimiter = csv.Sniffer().sniff("".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ""
    header = lines[0]
    if not delimiter or delimiter not in header:
        # The header names the columns and rarely holds a delimiter inside a cell.
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","
    return _dialect(delimiter)


def read_headers(opener: Opener) -> list[str]:
    dialect = sniff_dialect(opener)
    try:
        with opener() as handle:
            for row in csv.reader(CountingLines(handle), dialect):
                return [h.strip() for h in row]
    except csv.Error as error:
        raise InvalidInput("file", f"is not CSV this import can read ({error})")
    raise InvalidInput("file", "is empty: a CSV import needs a header row")


@dataclass(frozen=True)
class Target:
    kind: str
    arg: str = ""


def parse_target(
    text: str,
    *,
    column: str,
    entity: str,
    namespace: str,
    declared: dict[str, AttributeDefinition],
    declare: set[str],
) -> Target:
    field_name = f"mapping.{column}"
    kind, _, arg = text.strip().partition(":")
    fields = ORGANIZATION_FIELDS if entity == "organization" else PERSON_FIELDS
    builtins = ORGANIZATION_BUILTINS if entity == "organization" else PERSON_BUILTINS
    if kind in ("ignore", *fields, *builtins) and not arg:
        return Target(kind)
    if entity == "person" and kind in ("email", "phone") and not arg:
        return Target(kind)
    if kind in ("external", "organization_ref") and (entity == "person" or kind == "external"):
        system = (arg or namespace).strip().lower()
        if not system:
            raise InvalidInput(field_name, f"{kind} needs the source system: {kind}:<system>")
        return Target(kind, system[:50])
    if kind == "social" and entity == "person" and arg:
        return Target(kind, arg.strip().lower()[:50])
    if kind == "attribute" and arg:
        if not re.match(ATTRIBUTE_KEY, arg):
            raise InvalidInput(field_name, f"{arg!r} is not an attribute key (a-z, 0-9, _)")
        if arg not in declared and arg not in declare:
            raise InvalidInput(
                field_name,
                f"attribute {arg} is not declared: declare it, or ask the import to declare "
                "it as text",
            )
        return Target(kind, arg)
    raise InvalidInput(field_name, f"{text!r} is not a target this import knows")


@dataclass
class CsvSource:
    """A CSV file read with a checked mapping; see the module docstring for the targets."""

    opener: Opener
    spec: ImportSpec
    headers: list[str]
    targets: list[Target]
    declared: dict[str, AttributeDefinition]
    default_region: str
    dialect: Any = CsvDialect
    total_bytes: int = 0
    bytes_read: int = 0
    _lines: CountingLines | None = field(default=None, repr=False)
    _cell_writers: list[CellWriter | None] | None = field(default=None, repr=False)

    def attribute_keys(self) -> set[str]:
        keys = {t.kind for t in self.targets}
        if "country" in keys:
            keys.add("country_original")
        return keys

    def records(self) -> Iterator[tuple[int, list[str]]]:
        with self.opener() as handle:
            self._lines = CountingLines(handle)
            reader = csv.reader(self._lines, self.dialect)
            line = 1
            try:
                next(reader, None)
                line = reader.line_num + 1
                for row in reader:
                    start, line = line, reader.line_num + 1
                    self.bytes_read = self._lines.bytes_read
                    if any(cell.strip() for cell in row):
                        yield start, row
            except csv.Error as error:
                # A cell over the csv module's field limit (128 KB), a NUL byte, ...
                raise InvalidInput(
                    "file", f"line {line}: is not CSV this import can read ({error})"
                )

    def build(self, record: tuple[int, list[str]]) -> d.Draft:
        line, row = record
        if self.spec.entity == "organization":
            return self._organization(line, row)
        draft = d.PersonDraft(line=line)
        if len(row) > len(self.headers):
            draft.problems.append(
                d.Problem("(row)", f"has {len(row)} cells but the header has {len(self.headers)}")
            )
            return draft
        if self._cell_writers is None:
            self._cell_writers = [
                self._cell_writer(t, h) for t, h in zip(self.targets, self.headers, strict=True)
            ]
        for write, cell in zip(self._cell_writers, row, strict=False):
            if write is not None and cell and not cell.isspace():
                write(draft, cell)
        return draft

    def _cell_writer(self, target: Target, column: str) -> CellWriter | None:
        """What one column does to a draft, decided once per file rather than once per cell
        (the per-cell chain of ifs cost ~4 us a row at six columns, measured)."""
        kind, arg, region = target.kind, target.arg, self.default_region
        match kind:
            case "ignore":
                return None
            case "email":
                return lambda draft, cell: d.add_email(draft, cell, column)
            case "phone":
                return lambda draft, cell: d.add_phone(draft, cell, column, region)
            case "external":
                return lambda draft, cell: d.add_external_id(draft, cell, arg, column)
            case "social":
                return lambda draft, cell: d.add_social(draft, cell, arg, column)
            case "first_name":
                return lambda draft, cell: setattr(draft, "first_name", d.name_part(cell))
            case "last_name":
                return lambda draft, cell: setattr(draft, "last_name", d.name_part(cell))
            case "full_name":
                return lambda draft, cell: d.set_full_name(draft, cell, column)
            case "job_title":
                return lambda draft, cell: setattr(draft, "job_title", d.clean(cell)[:200])
            case "organization":
                return lambda draft, cell: setattr(draft, "organization", d.clean(cell)[:300])
            case "organization_ref":
                return lambda draft, cell: setattr(draft, "organization_ref", (arg, d.clean(cell)))
            case "tags":
                return lambda draft, cell: draft.tags.extend(d.split_tags(cell))
            case "country":
                return lambda draft, cell: d.set_country(
                    draft.attributes, draft.problems, cell, column
                )
            case "birthday":
                return lambda draft, cell: d.set_birthday(
                    draft.attributes, draft.problems, cell, column
                )
            case "attribute":
                return lambda draft, cell: self._attribute(
                    draft.attributes, draft.problems, arg, column, cell
                )
        return lambda draft, cell: draft.attributes.update({kind: d.clean(cell)})

    def _attribute(
        self,
        attributes: dict[str, Any],
        problems: list[d.Problem],
        key: str,
        column: str,
        cell: str,
    ) -> None:
        definition = self.declared.get(key)
        if definition is None:  # declared as text by this import
            attributes[key] = d.clean(cell)
            return
        try:
            attributes[key] = d.coerce_cell(definition, d.clean(cell))
        except ValueError as error:
            problems.append(d.Problem(column, str(error)))

    def _organization(self, line: int, row: list[str]) -> d.OrganizationDraft:
        draft = d.OrganizationDraft(line=line)
        for target, column, cell in zip(self.targets, self.headers, row, strict=False):
            text = d.clean(cell)
            if target.kind == "ignore" or not text:
                continue
            if target.kind == "name":
                draft.name = text[:300]
            elif target.kind == "domain":
                draft.domain = _domain(text)
            elif target.kind == "external":
                draft.external_ids.append((target.arg, text[:200]))
            elif target.kind == "tags":
                draft.tags.extend(d.split_tags(text))
            elif target.kind == "country":
                d.set_country(draft.attributes, draft.problems, text, column)
            elif target.kind == "attribute":
                self._attribute(draft.attributes, draft.problems, target.arg, column, text)
            else:
                draft.attributes[target.kind] = text
        if not draft.name:
            draft.problems.append(d.Problem("(row)", "has no organization name"))
        return draft


def _domain(text: str) -> str:
    """ "https://www.Acme.com/about" -> "acme.com"."""
    host = text.strip().lower().split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    return host.removeprefix("www.")[:255]


def prepare_csv(
    session: Session,
    *,
    opener: Opener,
    file_name: str,
    preset: str | None = None,
    overrides: dict[str, str] | None = None,
    namespace: str = "",
    default_region: str,
    declare: set[str] | None = None,
) -> CsvSource:
    """Check the mapping against the file's headers and the declared attributes."""
    chosen: Preset | None = None
    if preset:
        if preset not in PRESETS:
            raise InvalidInput("preset", f"must be one of {', '.join(sorted(PRESETS))}")
        chosen = PRESETS[preset]
    entity = chosen.entity if chosen else "person"
    namespace = (namespace or (chosen.namespace if chosen else "")).lower()
    headers = read_headers(opener)
    if len(set(headers)) != len(headers):
        raise InvalidInput("file", "has two columns with the same header")
    mapping = detect_mapping(headers, entity=entity, preset=chosen)
    for column, target in (overrides or {}).items():
        if column not in mapping:
            raise InvalidInput(f"mapping.{column}", "is not a column of this file")
        mapping[column] = target.strip()
    declare = set(declare or ())
    declared = declared_attributes(session, entity)
    targets = [
        parse_target(
            mapping[h],
            column=h,
            entity=entity,
            namespace=namespace,
            declared=declared,
            declare=declare,
        )
        for h in headers
    ]
    # Stored resolved ("external:hubspot"), so the record says exactly what was done.
    mapping = {
        h: f"{t.kind}:{t.arg}" if t.arg else t.kind for h, t in zip(headers, targets, strict=True)
    }
    if all(t.kind == "ignore" for t in targets):
        raise InvalidInput("mapping", "maps no column: nothing would be imported")
    sha256, size = file_sha256(opener)
    options: dict[str, Any] = {"default_region": default_region}
    if declare:
        options["declare"] = sorted(declare)
    spec = ImportSpec(
        file_name=file_name,
        file_sha256=sha256,
        format="csv",
        entity=entity,
        preset=preset,
        mapping=mapping,
        options=options,
    )
    return CsvSource(
        opener=opener,
        spec=spec,
        headers=headers,
        targets=targets,
        declared=declared,
        default_region=default_region,
        dialect=sniff_dialect(opener),
        total_bytes=size,
    )


def preview_rows(source: CsvSource, limit: int = 10) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    for record in source.records():
        rows.append(record)
        if len(rows) >= limit:
            break
    return rows


def bytes_opener(content: bytes) -> Opener:
    return lambda: io.BytesIO(content)


def path_opener(path: Any) -> Opener:
    return lambda: open(path, "rb")
