"""The person form (new person, and the person page's inline edit): what was typed, kept
as typed so a refused form comes back filled in, turned into the API's bodies, and errors
named in the form's words ("Email 2", "Birthday") rather than the API's field paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tenure.customers import queries
from tenure.customers.attributes import declared_attributes
from tenure.customers.models import AttributeDefinition, AttributeType
from tenure.customers.pickers import organization_choices
from tenure.customers.schemas import PersonCreate, PersonUpdate
from tenure.errors import InvalidInput

FIELD_WORDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "owner_id": "Owner",
    "organization_id": "Organization",
    "tags": "Tags",
    "identities": "Emails and phones",
    "attributes": "Custom attributes",
}
OTHER_IDENTITY_WORDS = {"social": "Social profile", "external": "External id"}
YES, NO = "yes", "no"


def person_attributes(session: Session) -> dict[str, AttributeDefinition]:
    """The custom attributes a person form shows, by key."""
    return declared_attributes(session, "person")


def form_choices(session: Session) -> dict[str, Any]:
    """What the form's pickers offer: users, organizations, attributes, known tags."""
    return {
        "owner_choices": queries.list_owners(session),
        "organization_choices": organization_choices(session),
        "attribute_choices": sorted(person_attributes(session).values(), key=lambda d: d.label),
        "tag_choices": queries.list_tag_names(session),
    }


@dataclass(frozen=True)
class FormError:
    """A refused field: ``label`` in words, the ``reason``, and the input it belongs to
    (``target``, the input's id, to mark it invalid)."""

    label: str
    reason: str
    target: str

    @property
    def message(self) -> str:
        return f"{self.label}: {self.reason}"


@dataclass
class Contact:
    """One email or phone row of the form."""

    value: str
    primary: bool = False


@dataclass
class PersonForm:
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    emails: list[Contact] = field(default_factory=list)
    phones: list[Contact] = field(default_factory=list)
    owner_id: str = ""
    organization_id: str = ""
    tags: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    #: Identities the form does not show (social, external), kept as they are on edit.
    others: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_person(cls, person: Mapping[str, Any]) -> PersonForm:
        """The form filled with a person as ``customers.queries.get_person`` returns it."""
        contacts: dict[str, list[Contact]] = {"email": [], "phone": []}
        others = []
        for identity in person["identities"]:
            if identity["kind"] in contacts:
                shown = identity["original"] or identity["value"]
                contacts[identity["kind"]].append(Contact(shown, bool(identity["is_primary"])))
            else:
                others.append(identity)
        attributes = {key: _shown(value) for key, value in (person["attributes"] or {}).items()}
        return cls(
            first_name=person["first_name"] or "",
            last_name=person["last_name"] or "",
            job_title=person["job_title"] or "",
            emails=contacts["email"],
            phones=contacts["phone"],
            owner_id=str(person["owner"]["id"]) if person["owner"] else "",
            organization_id=str(person["organization"]["id"]) if person["organization"] else "",
            tags=", ".join(person["tags"]),
            attributes=attributes,
            others=others,
        )

    @classmethod
    def from_form(cls, form: FormData, others: Sequence[dict[str, Any]] = ()) -> PersonForm:
        """What was submitted: blank and removed email and phone rows dropped."""
        return cls(
            first_name=_text(form, "first_name"),
            last_name=_text(form, "last_name"),
            job_title=_text(form, "job_title"),
            emails=_contacts(form, "email"),
            phones=_contacts(form, "phone"),
            owner_id=_text(form, "owner_id"),
            organization_id=_text(form, "organization_id"),
            tags=_text(form, "tags"),
            attributes={
                key.removeprefix("attr."): str(value).strip()
                for key, value in form.multi_items()
                if key.startswith("attr.")
            },
            others=list(others),
        )

    def _identities(self) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """The identities in API form and, per index, the label and input id of its row."""
        identities: list[dict[str, Any]] = []
        words: list[tuple[str, str]] = []
        for kind, rows in (("email", self.emails), ("phone", self.phones)):
            for index, row in enumerate(rows):
                identities.append({"kind": kind, "value": row.value, "primary": row.primary})
                words.append((f"{kind.capitalize()} {index + 1}", f"{kind}-{index}"))
        for other in self.others:
            identities.append(
                {
                    "kind": other["kind"],
                    "value": other["value"],
                    "namespace": other["namespace"],
                    "label": other.get("label"),
                    "primary": bool(other.get("is_primary")),
                }
            )
            words.append((OTHER_IDENTITY_WORDS.get(other["kind"], other["kind"]), "identities"))
        return identities, words

    def _body(
        self, definitions: Mapping[str, AttributeDefinition], *, keep_blanks: bool
    ) -> dict[str, Any]:
        identities, _ = self._identities()
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "job_title": self.job_title or None,
            "owner_id": _row_id(self.owner_id, "owner_id"),
            "organization_id": _row_id(self.organization_id, "organization_id"),
            "identities": identities,
            "tags": [t.strip() for t in self.tags.split(",") if t.strip()],
            "attributes": _attributes(self.attributes, definitions, keep_blanks=keep_blanks),
        }

    def to_create(self, definitions: Mapping[str, AttributeDefinition]) -> PersonCreate:
        """The new person; InvalidInput names the field as the API would."""
        return _validated(PersonCreate, self._body(definitions, keep_blanks=False))

    def to_update(self, definitions: Mapping[str, AttributeDefinition]) -> PersonUpdate:
        """Every field of the form (a blank attribute removes it)."""
        return _validated(PersonUpdate, self._body(definitions, keep_blanks=True))

    def error(
        self, path: str, reason: str, definitions: Mapping[str, AttributeDefinition]
    ) -> FormError:
        """The refusal of the API field ``path`` in the form's words."""
        parts = path.split(".")
        _, words = self._identities()
        if parts[0] == "identities" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            label, target = words[index] if index < len(words) else ("Emails and phones", "")
            return FormError(label, reason, target)
        if parts[0] == "attributes" and len(parts) > 1:
            known = definitions.get(parts[1])
            return FormError(known.label if known else parts[1], reason, f"attr-{parts[1]}")
        label = FIELD_WORDS.get(parts[0], parts[0].replace("_", " ").capitalize())
        return FormError(label, reason, parts[0])


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _contacts(form: FormData, kind: str) -> list[Contact]:
    values = [v if isinstance(v, str) else "" for v in form.getlist(kind)]
    removed = {str(v) for v in form.getlist(f"{kind}_remove")}
    primary = str(form.get(f"{kind}_primary") or "0")
    return [
        Contact(value.strip(), str(index) == primary)
        for index, value in enumerate(values)
        if value.strip() and str(index) not in removed
    ]


def _row_id(text: str, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(name, "choose one from the list")
    return int(text)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    return "" if value is None else str(value)


def _attribute(definition: AttributeDefinition, text: str) -> Any:
    """A typed attribute from its input; the declared type is checked again by the action."""
    kind = AttributeType(definition.type)
    if kind == AttributeType.number:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise InvalidInput(f"attributes.{definition.key}", "must be a number")
    if kind == AttributeType.boolean:
        if text not in (YES, NO):
            raise InvalidInput(f"attributes.{definition.key}", "must be yes or no")
        return text == YES
    return text


def _attributes(
    values: Mapping[str, str],
    definitions: Mapping[str, AttributeDefinition],
    *,
    keep_blanks: bool,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for key, text in values.items():
        if key not in definitions:
            continue  # a field of an attribute deleted since the form was drawn
        if text:
            attributes[key] = _attribute(definitions[key], text)
        elif keep_blanks:
            attributes[key] = None
    return attributes


def _validated(model: type[PersonCreate] | type[PersonUpdate], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidInput(path, str(first["msg"]).removeprefix("Value error, "))
