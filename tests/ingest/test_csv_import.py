"""CSV imports: mapping, normalization, rejected rows, re-import and dry runs, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenure.customers.models import Identity, Organization, Person
from tenure.db.session import unit_of_work
from tenure.errors import InvalidInput
from tenure.identity.models import AuditEntry
from tenure.ingest.csv_import import path_opener, prepare_csv
from tenure.ingest.models import Import, ImportIssue, OrganizationExternalId, people_imports
from tenure.ingest.runner import declare_text_attributes, run_import

DATA = Path(__file__).parent / "data"


def _import(session_factory, name, *, dry_run=False, **options):
    declare = options.pop("declare", set())
    with unit_of_work(session_factory) as session:
        source = prepare_csv(
            session,
            opener=path_opener(DATA / name),
            file_name=name,
            default_region="US",
            declare=declare,
            **options,
        )
        if declare and not dry_run:
            declare_text_attributes(session, declare, entity=source.spec.entity, actor_id=None)
    return run_import(
        session_factory=session_factory, source=source, actor_id=None, dry_run=dry_run
    )


def _person_by_email(session, email):
    return session.scalar(
        select(Person).join(Identity).where(Identity.kind == "email", Identity.value == email)
    )


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_common_headers_are_detected_and_values_normalized(session, session_factory):
    report = _import(
        session_factory, "contacts.csv", overrides={"Plan": "attribute:plan"}, declare={"plan"}
    )

    assert report.status == "completed"
    assert report.counts() == {
        "created": 3,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 5,
    }
    grace = _person_by_email(session, "grace.hopper@example.com")
    assert (grace.first_name, grace.last_name) == ("Grace", "Hopper")
    assert grace.organization.name == "US Navy"
    assert grace.attributes == {
        "country": "US",
        "country_original": "United States of America",
        "plan": "free",
    }
    originals = {(i.kind, i.value): i.original for i in grace.identities}
    assert originals == {
        ("email", "grace.hopper@example.com"): "GRACE.HOPPER@Example.COM",
        ("phone", "+12025550143"): "+1 202 555 0143",
    }
    margaret = _person_by_email(session, "margaret@example.com")
    assert margaret.last_name == "Hamilton (née Heafield)"  # a newline inside a quoted cell

    rejected = {
        (i.line, i.column): i.reason
        for i in session.scalars(
            select(ImportIssue).where(ImportIssue.import_id == report.import_id)
        )
    }
    assert set(rejected) == {
        (4, "E-mail"),
        (5, "Mobile"),
        (6, "Country"),
        (7, "(row)"),
        (10, "E-mail"),
    }
    assert "@-sign" in rejected[(4, "E-mail")]
    assert "Narnia" in rejected[(6, "Country")]
    assert "no email, phone or record id" in rejected[(7, "(row)")]

    record = session.get(Import, report.import_id)
    assert (record.format, record.status, record.rows_done, record.created) == (
        "csv",
        "completed",
        8,
        3,
    )
    assert record.mapping["E-mail"] == "email" and record.mapping["Plan"] == "attribute:plan"
    links = session.execute(
        select(people_imports.c.action, func.count())
        .where(people_imports.c.import_id == report.import_id)
        .group_by(people_imports.c.action)
    ).all()
    assert links == [("created", 3)]


def test_reimport_updates_and_never_duplicates(session, session_factory, tmp_path):
    first = _import(session_factory, "hubspot_contacts.csv", preset="hubspot-contacts")
    assert first.counts()["created"] == 2 and first.counts()["rejected"] == 1
    people_before = _count(session, Person)

    again = _import(session_factory, "hubspot_contacts.csv", preset="hubspot-contacts")
    assert again.import_id != first.import_id
    assert again.counts() == {
        "created": 0,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 2,
        "rejected": 1,
    }
    assert _count(session, Person) == people_before

    brian = _person_by_email(session, "brian@hubspot.example")
    external = [i for i in brian.identities if i.kind == "external"]
    assert [(i.namespace, i.value) for i in external] == [("hubspot", "51")]

    # The same person edited in HubSpot: matched by record id, updated, audited.
    text = (DATA / "hubspot_contacts.csv").read_text()
    target = tmp_path / "hubspot_edited.csv"
    target.write_text(text.replace("51,Brian,Halligan", "51,Brian,Halligan-Smith"))
    with unit_of_work(session_factory) as work:
        source = prepare_csv(
            work,
            opener=path_opener(target),
            file_name=target.name,
            default_region="US",
            preset="hubspot-contacts",
        )
    report = run_import(session_factory=session_factory, source=source, actor_id=None)
    assert report.counts()["updated"] == 1 and report.counts()["created"] == 0
    session.expire_all()
    assert _person_by_email(session, "brian@hubspot.example").last_name == "Halligan-Smith"
    audit = session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "person",
            AuditEntry.entity_id == str(brian.id),
            AuditEntry.action == "update",
        )
    )
    assert audit.changes["last_name"] == {"before": "Halligan", "after": "Halligan-Smith"}
    actions = session.scalars(
        select(people_imports.c.import_id).where(people_imports.c.person_id == brian.id)
    ).all()
    assert sorted(actions) == [first.import_id, report.import_id]  # every import that touched


def test_dry_run_counts_and_writes_nothing(session, session_factory):
    _import(session_factory, "pipedrive_people.csv", preset="pipedrive-people")
    people = _count(session, Person)
    imports = _count(session, Import)

    # Same name, same organization, different email: a probable duplicate.
    report = _import(
        session_factory,
        "contacts.csv",
        dry_run=True,
        overrides={"Plan": "ignore"},
    )
    assert report.dry_run and report.import_id is None
    assert report.counts()["created"] == 3 and report.counts()["rejected"] == 5

    twin = _import(session_factory, "pipedrive_people.csv", preset="pipedrive-people", dry_run=True)
    assert twin.counts() == {
        "created": 0,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 2,
        "rejected": 0,
    }
    assert _count(session, Person) == people and _count(session, Import) == imports


def test_probable_duplicates_are_created_and_listed(session, session_factory, tmp_path):
    _import(session_factory, "pipedrive_people.csv", preset="pipedrive-people")
    jane = _person_by_email(session, "jane@acme-rockets.example")
    path = tmp_path / "more.csv"
    path.write_text(
        "Email,First Name,Last Name,Company\n"
        "jane.doe@gmail.example,JANE,DOE,acme rockets\n"
        "jane@acme-rockets.example,Jane,Doe,Acme Rockets\n"
    )
    for dry_run in (True, False):
        with unit_of_work(session_factory) as work:
            source = prepare_csv(
                work, opener=path_opener(path), file_name="more.csv", default_region="US"
            )
        report = run_import(
            session_factory=session_factory, source=source, actor_id=None, dry_run=dry_run
        )
        assert report.counts() == {
            "created": 0,
            "duplicates": 1,
            "updated": 0,
            "unchanged": 1,
            "rejected": 0,
        }
        (issue,) = report.issues
        assert (issue.line, issue.kind) == (2, "duplicate")
        assert issue.person_id == jane.id
    twin = _person_by_email(session, "jane.doe@gmail.example")
    assert twin.id != jane.id and twin.organization_id == jane.organization_id


def test_company_presets_then_contacts_link_to_their_accounts(session, session_factory):
    companies = _import(session_factory, "salesforce_accounts.csv", preset="salesforce-accounts")
    assert companies.counts()["created"] == 2
    contacts = _import(session_factory, "salesforce_contacts.csv", preset="salesforce-contacts")
    assert contacts.counts() == {
        "created": 2,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    (issue,) = contacts.issues
    assert (issue.line, issue.column) == (4, "MailingCountry")
    rose = _person_by_email(session, "rose@edge.example")
    assert rose.organization.name == "Edge Communications"
    assert rose.job_title == "SVP Procurement"
    assert rose.attributes["birthday"] == "1975-03-02"
    assert {(i.kind, i.namespace, i.value) for i in rose.identities} >= {
        ("external", "salesforce", "0035g00000XYZAA1"),
        ("phone", "", "+15127576000"),
    }
    edge = session.scalar(
        select(OrganizationExternalId).where(OrganizationExternalId.value == "0015g00000ABCDEAA1")
    )
    assert edge.organization_id == rose.organization_id
    assert session.get(Organization, edge.organization_id).domain == "edge.example"

    again = _import(session_factory, "salesforce_accounts.csv", preset="salesforce-accounts")
    assert again.counts()["unchanged"] == 2


def test_hubspot_companies_reject_a_row_without_a_name(session, session_factory):
    report = _import(session_factory, "hubspot_companies.csv", preset="hubspot-companies")
    assert report.counts()["created"] == 2 and report.counts()["rejected"] == 1
    acme = session.scalar(select(Organization).where(Organization.name == "Acme Rockets"))
    assert acme.domain == "acme-rockets.example"
    assert acme.attributes["country"] == "DE"


def test_full_name_column_is_split(session, session_factory):
    _import(session_factory, "pipedrive_people.csv", preset="pipedrive-people")
    bob = _person_by_email(session, "bob@startup.example")
    assert (bob.first_name, bob.last_name) == ("Bob", "Smith")
    assert [t.name for t in bob.tags] == ["Warm lead"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"overrides": {"Plan": "attribute:plan"}}, "mapping.Plan"),
        ({"overrides": {"Plan": "shoe_size"}}, "mapping.Plan"),
        ({"overrides": {"Nope": "email"}}, "mapping.Nope"),
        ({"preset": "zoho"}, "preset"),
    ],
)
def test_bad_mappings_name_the_field(session_factory, options, field):
    with pytest.raises(InvalidInput) as error, unit_of_work(session_factory) as session:
        prepare_csv(
            session,
            opener=path_opener(DATA / "contacts.csv"),
            file_name="contacts.csv",
            default_region="US",
            **options,
        )
    assert error.value.field == field
