"""JSON lines of people: one object per line, in the body shape of ``POST /api/v1/people``.

Validated with the API's own schema (``PersonCreate``), so a line is accepted here exactly
when the API would accept it; identities are then normalized like every import's, and
the people are matched and merged like CSV rows (re-importing updates, never duplicates).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.customers.attributes import coerce_attribute, declared_attributes
from tenure.customers.models import AttributeDefinition
from tenure.customers.schemas import PersonCreate
from tenure.errors import InvalidInput
from tenure.ingest import drafts as d
from tenure.ingest.csv_import import Opener, file_sha256
from tenure.ingest.records import ImportSpec
from tenure.ingest.text_files import CountingLines
from tenure.validation import parse_json


@dataclass
class PeopleJsonlSource:
    opener: Opener
    spec: ImportSpec
    default_region: str
    declared: dict[str, AttributeDefinition]
    total_bytes: int = 0
    bytes_read: int = 0

    def attribute_keys(self) -> set[str]:
        return set()

    def records(self) -> Iterator[tuple[int, bytes]]:
        with self.opener() as handle:
            lines = CountingLines(handle)
            for number, line in enumerate(lines, start=1):
                self.bytes_read = lines.bytes_read
                if line.strip():
                    yield number, line.encode()

    def build(self, record: tuple[int, bytes]) -> d.PersonDraft:
        line, raw = record
        draft = d.PersonDraft(line=line)
        try:
            # Not orjson: it reads an integer beyond 64 bits as a float, which a number
            # attribute would then store rounded instead of refusing (issue 9).
            parsed = parse_json(raw)
        except ValueError as error:
            draft.problems.append(d.Problem("(line)", f"invalid JSON: {error}"))
            return draft
        try:
            data = PersonCreate.model_validate(parsed)
        except ValidationError as error:
            for e in error.errors(include_url=False):
                field = ".".join(str(p) for p in e["loc"]) or "(line)"
                draft.problems.append(d.Problem(field, e["msg"].removeprefix("Value error, ")))
            return draft
        draft.first_name = data.first_name
        draft.last_name = data.last_name
        draft.job_title = data.job_title
        draft.tags = list(data.tags)
        for index, identity in enumerate(data.identities):
            column = f"identities.{index}.value"
            if identity.kind == "email":
                d.add_email(draft, identity.value, column)
            elif identity.kind == "phone":
                d.add_phone(draft, identity.value, column, self.default_region)
            elif not identity.namespace:
                draft.problems.append(
                    d.Problem(f"identities.{index}.namespace", "is required for this kind")
                )
            elif identity.kind == "social":
                d.add_social(draft, identity.value, identity.namespace, column)
            else:
                d.add_external_id(draft, identity.value, identity.namespace, column)
        for key, value in data.attributes.items():
            if key not in self.declared:
                draft.problems.append(d.Problem(f"attributes.{key}", "is not a declared attribute"))
                continue
            try:
                draft.attributes[key] = coerce_attribute(self.declared[key], value, key)
            except InvalidInput as error:
                draft.problems.append(d.Problem(f"attributes.{key}", error.reason))
        draft.consents = [
            d.ConsentValue(c.channel, c.purpose, c.status.value, c.source) for c in data.consents
        ]
        if data.organization_id is not None or data.owner_id is not None:
            # Ids of another workspace mean nothing here; a line that needs them is refused
            # rather than silently imported without its organization or owner.
            which = "organization_id" if data.organization_id is not None else "owner_id"
            draft.problems.append(
                d.Problem(which, "ids cannot be imported from a file; leave it out")
            )
        return draft


def people_jsonl_source(
    session: Session, *, opener: Opener, file_name: str, default_region: str
) -> PeopleJsonlSource:
    sha256, size = file_sha256(opener)
    spec = ImportSpec(
        file_name=file_name,
        file_sha256=sha256,
        format="jsonl",
        options={"default_region": default_region},
    )
    return PeopleJsonlSource(
        opener=opener,
        spec=spec,
        default_region=default_region,
        declared=declared_attributes(session, "person"),
        total_bytes=size,
    )
