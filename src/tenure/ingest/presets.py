"""Column mappings: headers recognised automatically, and presets for CRM exports.

Preset column names are those the products write in their exports (headers are compared
case- and punctuation-insensitively, so "Phone Number" and "phone_number" are one):

- HubSpot contacts/companies exports (Contacts > Export): "Record ID", "First Name",
  "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Company Name", "Job
  Title", "City", "State/Region", "Country/Region", "Postal Code", "Street Address";
  companies: "Record ID", "Company name", "Company Domain Name", "Website URL".
- Salesforce: Data Export / Data Loader files use API names ("Id", "AccountId",
  "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "MailingCountry",
  "Birthdate"; accounts "Id", "Name", "Website", "BillingCountry"); report exports use
  labels ("Contact ID", "First Name", "Account Name", "Mailing Country"). Both are listed.
- Pipedrive exports prefix every column with the object: "Person - ID", "Person - Name",
  "Person - Email - Work", "Person - Phone - Mobile", "Person - Organization";
  organizations "Organization - ID", "Organization - Name", "Organization - Address".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERSON_FIELDS = ("first_name", "last_name", "full_name", "job_title", "organization", "tags")
PERSON_BUILTINS = ("country", "city", "region", "postal_code", "street", "website", "birthday")
ORGANIZATION_FIELDS = ("name", "domain", "tags")
ORGANIZATION_BUILTINS = ("country", "city", "region", "postal_code", "street", "phone")


def header_key(header: str) -> str:
    """ "E-mail Address" -> "emailaddress": how headers are compared."""
    return re.sub(r"[^0-9a-z]+", "", header.casefold())


def _keys(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {header_key(alias): target for target, aliases in table.items() for alias in aliases}


# Headers people write in their own spreadsheets and that other tools export.
COMMON_PERSON_HEADERS = _keys(
    {
        "email": (
            "email",
            "e-mail",
            "email address",
            "e-mail address",
            "mail",
            "work email",
            "primary email",
            "email 1",
        ),
        "first_name": ("first name", "firstname", "given name", "first", "forename"),
        "last_name": ("last name", "lastname", "surname", "family name", "last"),
        "full_name": ("full name", "name", "contact name", "contact", "display name"),
        "phone": (
            "phone",
            "phone number",
            "telephone",
            "tel",
            "mobile",
            "mobile phone",
            "mobile number",
            "cell",
            "cell phone",
            "work phone",
            "home phone",
            "mobile phone number",
        ),
        "organization": (
            "company",
            "company name",
            "organization",
            "organisation",
            "account",
            "account name",
            "employer",
        ),
        "job_title": ("title", "job title", "position", "role"),
        "country": ("country", "country/region", "country code", "nation"),
        "city": ("city", "town", "city/town"),
        "region": ("state", "state/region", "region", "province", "county"),
        "postal_code": ("zip", "zip code", "postal code", "postcode", "zipcode"),
        "street": ("street", "street address", "address", "address line 1"),
        "website": ("website", "website url", "url", "web"),
        "birthday": ("birthday", "birthdate", "birth date", "date of birth", "dob"),
        "tags": ("tags", "labels", "tag", "label"),
    }
)

COMMON_ORGANIZATION_HEADERS = _keys(
    {
        "name": ("name", "company", "company name", "organization", "organisation", "account name"),
        "domain": ("domain", "website", "website url", "url", "company domain name"),
        "phone": ("phone", "phone number", "telephone"),
        "country": ("country", "country/region"),
        "city": ("city", "town"),
        "region": ("state", "state/region", "region"),
        "postal_code": ("zip", "postal code", "postcode"),
        "street": ("street", "street address", "address"),
        "tags": ("tags", "labels"),
    }
)


@dataclass(frozen=True)
class Preset:
    name: str
    entity: str  # person or organization
    namespace: str  # source system: the namespace of its record ids
    columns: dict[str, str]  # header_key -> target
    label: str


def _preset(
    key: str, entity: str, namespace: str, label: str, /, **table: tuple[str, ...]
) -> Preset:
    return Preset(key, entity, namespace, _keys(dict(table)), label)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _preset(
            "hubspot-contacts",
            "person",
            "hubspot",
            "HubSpot contacts export",
            external=("Record ID", "Contact ID"),
            first_name=("First Name",),
            last_name=("Last Name",),
            email=("Email", "Email Address"),
            phone=("Phone Number", "Mobile Phone Number"),
            organization=("Company Name", "Associated Company"),
            job_title=("Job Title",),
            city=("City",),
            region=("State/Region",),
            country=("Country/Region",),
            postal_code=("Postal Code", "Zip"),
            street=("Street Address",),
            website=("Website URL",),
        ),
        _preset(
            "hubspot-companies",
            "organization",
            "hubspot",
            "HubSpot companies export",
            external=("Record ID", "Company ID"),
            name=("Company name",),
            domain=("Company Domain Name", "Website URL"),
            phone=("Phone Number",),
            city=("City",),
            region=("State/Region",),
            country=("Country/Region",),
            postal_code=("Postal Code",),
            street=("Street Address",),
        ),
        _preset(
            "salesforce-contacts",
            "person",
            "salesforce",
            "Salesforce contacts (Data Export or report)",
            external=("Id", "Contact ID"),
            organization_ref=("AccountId", "Account ID"),
            organization=("Account Name", "Account.Name"),
            first_name=("FirstName", "First Name"),
            last_name=("LastName", "Last Name"),
            full_name=("Name", "Full Name"),
            email=("Email",),
            phone=("Phone", "MobilePhone", "Mobile"),
            job_title=("Title",),
            city=("MailingCity", "Mailing City"),
            region=("MailingState", "Mailing State/Province"),
            country=("MailingCountry", "Mailing Country"),
            postal_code=("MailingPostalCode", "Mailing Zip/Postal Code"),
            street=("MailingStreet", "Mailing Street"),
            birthday=("Birthdate",),
        ),
        _preset(
            "salesforce-accounts",
            "organization",
            "salesforce",
            "Salesforce accounts",
            external=("Id", "Account ID"),
            name=("Name", "Account Name"),
            domain=("Website",),
            phone=("Phone",),
            city=("BillingCity", "Billing City"),
            region=("BillingState", "Billing State/Province"),
            country=("BillingCountry", "Billing Country"),
            postal_code=("BillingPostalCode", "Billing Zip/Postal Code"),
            street=("BillingStreet", "Billing Street"),
        ),
        _preset(
            "pipedrive-people",
            "person",
            "pipedrive",
            "Pipedrive people export",
            external=("Person - ID",),
            full_name=("Person - Name",),
            first_name=("Person - First name",),
            last_name=("Person - Last name",),
            email=(
                "Person - Email",
                "Person - Email - Work",
                "Person - Email - Home",
                "Person - Email - Other",
            ),
            phone=(
                "Person - Phone",
                "Person - Phone - Work",
                "Person - Phone - Mobile",
                "Person - Phone - Home",
                "Person - Phone - Other",
            ),
            organization=("Person - Organization", "Organization - Name"),
            job_title=("Person - Job title",),
            tags=("Person - Label", "Person - Labels"),
        ),
        _preset(
            "pipedrive-organizations",
            "organization",
            "pipedrive",
            "Pipedrive organizations export",
            external=("Organization - ID",),
            name=("Organization - Name",),
            street=("Organization - Address",),
            city=("Organization - Address - City/town",),
            country=("Organization - Address - Country",),
            postal_code=("Organization - Address - ZIP/Postal code",),
            tags=("Organization - Label", "Organization - Labels"),
        ),
    )
}


def detect_mapping(headers: list[str], *, entity: str, preset: Preset | None) -> dict[str, str]:
    """A target for every header: the preset's, else a common header's, else ``ignore``."""
    common = COMMON_ORGANIZATION_HEADERS if entity == "organization" else COMMON_PERSON_HEADERS
    mapping: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        target = (preset.columns.get(key) if preset else None) or common.get(key) or "ignore"
        mapping[header] = target
    return mapping
