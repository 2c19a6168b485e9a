"""vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) files: one person per card.

FN/N give the name (N's parts win; FN is split when N is missing), EMAIL and TEL the
identities (``tel:`` URIs of vCard 4 included), ORG the organization, TITLE the job title,
ADR the country (and city, region, postal code, street), BDAY the birthday (a date, or
``--MMDD`` without a year), CATEGORIES the tags, UID an external id in the ``vcard``
namespace. Cards are split on BEGIN/END lines before parsing, so one malformed card is
reported at its line and the others still import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import vobject

from tenure.ingest import drafts as d
from tenure.ingest.csv_import import Opener, file_sha256
from tenure.ingest.records import ImportSpec
from tenure.ingest.text_files import CountingLines

_BDAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
_BDAY_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")


@dataclass
class VcardSource:
    opener: Opener
    spec: ImportSpec
    default_region: str
    total_bytes: int = 0
    bytes_read: int = 0

    def attribute_keys(self) -> set[str]:
        return {
            "country",
            "country_original",
            "city",
            "region",
            "postal_code",
            "street",
            "birthday",
        }

    def records(self) -> Iterator[tuple[int, str]]:
        with self.opener() as handle:
            lines = CountingLines(handle)
            card: list[str] = []
            start = 0
            for number, line in enumerate(lines, start=1):
                self.bytes_read = lines.bytes_read
                upper = line.strip().upper()
                if upper == "BEGIN:VCARD":
                    card, start = [line], number
                elif card:
                    card.append(line)
                    if upper == "END:VCARD":
                        yield start, "".join(card)
                        card = []
            if card:
                yield start, "".join(card)

    def build(self, record: tuple[int, str]) -> d.PersonDraft:
        line, text = record
        draft = d.PersonDraft(line=line)
        try:
            card = vobject.readOne(text)
        except Exception as error:  # vobject raises ParseError, ValueError, KeyError...
            draft.problems.append(d.Problem("(card)", f"is not a readable vCard ({error})"))
            return draft
        contents: dict[str, list[Any]] = card.contents
        _name(draft, contents)
        for email in contents.get("email", []):
            d.add_email(draft, str(email.value), "EMAIL")
        for tel in contents.get("tel", []):
            d.add_phone(draft, str(tel.value).removeprefix("tel:"), "TEL", self.default_region)
        for uid in contents.get("uid", []):
            d.add_external_id(draft, str(uid.value), "vcard", "UID")
        if "org" in contents:
            value = contents["org"][0].value
            parts = value if isinstance(value, list) else [value]
            draft.organization = d.clean(str(parts[0]))[:300] or None
        if "title" in contents:
            draft.job_title = d.clean(str(contents["title"][0].value))[:200] or None
        if "adr" in contents:
            _address(draft, contents["adr"][0].value)
        if "bday" in contents:
            _birthday(draft, str(contents["bday"][0].value))
        for categories in contents.get("categories", []):
            value = categories.value
            draft.tags.extend(
                str(t).strip()[:100]
                for t in (value if isinstance(value, list) else [value])
                if str(t).strip()
            )
        return draft


def _name(draft: d.PersonDraft, contents: dict[str, list[Any]]) -> None:
    if "n" in contents:
        n = contents["n"][0].value
        given = " ".join(x for x in _parts(n.given) + _parts(n.additional) if x)
        draft.first_name = d.name_part(given)
        draft.last_name = d.name_part(" ".join(_parts(n.family)))
    if not (draft.first_name or draft.last_name) and "fn" in contents:
        d.set_full_name(draft, str(contents["fn"][0].value), "FN")


def _parts(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if value and str(value).strip() else []


def _address(draft: d.PersonDraft, adr: Any) -> None:
    d.set_country(draft.attributes, draft.problems, str(adr.country or ""), "ADR")
    for key, value in (
        ("city", adr.city),
        ("region", adr.region),
        ("postal_code", adr.code),
        ("street", adr.street),
    ):
        text = " ".join(_parts(value))
        if text:
            draft.attributes[key] = text


def _birthday(draft: d.PersonDraft, text: str) -> None:
    text = text.strip()
    if match := _BDAY.match(text):
        draft.attributes["birthday"] = "-".join(match.groups())
    elif match := _BDAY_NO_YEAR.match(text):
        draft.attributes["birthday"] = f"--{match.group(1)}-{match.group(2)}"
    else:
        draft.problems.append(d.Problem("BDAY", f"{text!r} is not a date"))


def vcard_source(*, opener: Opener, file_name: str, default_region: str) -> VcardSource:
    sha256, size = file_sha256(opener)
    spec = ImportSpec(
        file_name=file_name,
        file_sha256=sha256,
        format="vcard",
        options={"default_region": default_region},
    )
    return VcardSource(opener=opener, spec=spec, default_region=default_region, total_bytes=size)
