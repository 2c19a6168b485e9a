"""The people of the demo workspace: a customer base that looks like a real one.

Each CDNOW customer becomes one person with a generated name, email, address and
sometimes a mobile number and a birthday. What makes it look like a real base, and what
a duplicate matcher must not mistake for duplicates:

- names follow a skewed distribution (Smith and James are common, so namesakes exist);
- about a fifth of customers live in a household of 2-4 at one address, most sharing
  the family name (spouses of the other gender, children);
- 6% work at one of the demo organizations, a third of them listed at its office address
  and some of them also holding its role address (``info@``, ``sales@``...);
- every person has an email address of their own; the mobile numbers come from Ofcom's
  drama range (07700 900000-900999), so at most 1,000 customers have one.

Then about 1.3% of the base (306 of the 23,570 customers) get a *planted duplicate*: a
second record of the same customer, created later, that keeps the original's
``cdnow_customer_id`` attribute (the truth a scan is scored against, see
``demo_truth``). The copies have the mistakes duplicates have in real bases: a typo in a
name, a nickname, a second email address, a moved address. Each one keeps at least one
thing a careful person would match on (the email, the address, the phone or the
birthday). Planted duplicates carry no orders: the CDNOW purchases stay with the
original customer, as they would in a CRM where someone re-registered without buying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from tenure.datasets.names import (
    CITIES,
    COMPANY_NAMES,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    NICKNAMES,
    STREET_NAMES,
    STREET_TYPES,
)
from tenure.dedup.matching.similarity import given_name_genders

# Reserved for documentation (RFC 2606): no real person is reached.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
PLANTED_SHARE = 0.013
_HOUSEHOLD_SHARE = 0.2
_HOUSEHOLD_SIZES = ((2, 0.75), (3, 0.18), (4, 0.07))
_SPOUSE_KEEPS_NAME = 0.3
_IN_ORGANIZATION = 0.06
_AT_OFFICE = 0.33
_HOLDS_ROLE_ADDRESS = 0.2
_HAS_ADDRESS = 0.85
_HAS_BIRTHDAY = 0.3
_MOBILES = 1000
_ROLE_PARTS = ("info", "sales", "office", "hello", "contact")
# Planted duplicate scenarios and their shares. Tenure keeps an email address on one
# person only (an import or form that brings a known address updates that person), so a
# duplicate comes either without an email (a phone order, a rep's quick entry) or with
# a second address.
_SCENARIOS = (
    ("no email, typo in a name, same address", 0.25),
    ("no email, nickname, same address", 0.15),
    ("second email, same address", 0.25),
    ("no email, moved, same phone or birthday", 0.20),
    ("second email, moved, same birthday", 0.15),
)
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def org_domain(name: str) -> str:
    return name.lower().replace(" ", "-").replace("&", "and") + ".example"


@dataclass
class DemoPerson:
    first_name: str
    last_name: str
    customer: int  # the CDNOW customer id (a planted duplicate's is its original's)
    created_at: datetime
    organization: int | None  # index into COMPANY_NAMES
    emails: list[str]
    phones: list[str] = field(default_factory=list)
    address: dict[str, str] = field(default_factory=dict)
    birthday: str | None = None
    duplicate_of: int | None = None  # index of the original, for planted duplicates

    def attributes(self) -> dict[str, Any]:
        values: dict[str, Any] = {"cdnow_customer_id": self.customer, **self.address}
        if self.birthday:
            values["birthday"] = self.birthday
        return values


def _zipf_weights(count: int) -> np.ndarray:
    weights = 1.0 / (np.arange(count) + 8.0)
    return weights / weights.sum()


class _Generator:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.taken: set[str] = set()
        self.city_weights = np.array([c[3] for c in CITIES], dtype=float)
        self.city_weights /= self.city_weights.sum()
        self.male = _zipf_weights(len(MALE_FIRST_NAMES))
        self.female = _zipf_weights(len(FEMALE_FIRST_NAMES))
        self.last = _zipf_weights(len(LAST_NAMES))
        self.mobiles = [f"+447700900{n:03d}" for n in rng.permutation(_MOBILES)]
        self.offices = [self.address() for _ in COMPANY_NAMES]
        self.roles = [str(rng.choice(_ROLE_PARTS)) for _ in COMPANY_NAMES]
        self.role_holder: dict[int, bool] = {}

    def first_name(self, female: bool) -> str:
        names, weights = (
            (FEMALE_FIRST_NAMES, self.female) if female else (MALE_FIRST_NAMES, self.male)
        )
        return str(names[self.rng.choice(len(names), p=weights)])

    def last_name(self) -> str:
        return str(LAST_NAMES[self.rng.choice(len(LAST_NAMES), p=self.last)])

    def address(self, avoid_city: str | None = None) -> dict[str, str]:
        while True:
            city, state, zip3, _ = CITIES[self.rng.choice(len(CITIES), p=self.city_weights)]
            if city != avoid_city:
                break
        street = f"{self.rng.choice(STREET_NAMES)} {self.rng.choice(STREET_TYPES)}"
        return {
            "street": f"{int(self.rng.integers(1, 3000))} {street}",
            "city": city,
            "region": state,
            "postal_code": f"{zip3}{int(self.rng.integers(0, 100)):02d}",
            "country": "US",
        }

    def birthday(self) -> str:
        day = date(1940, 1, 1) + timedelta(days=int(self.rng.integers(0, 365 * 60)))
        return day.strftime("%Y-%m-%d")

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        first, last = first.lower(), last.lower().replace(" ", "")
        patterns = (
            f"{first}.{last}",
            f"{first}{last}",
            f"{first[0]}.{last}",
            f"{first}_{last}",
            f"{first}.{last[0]}",
            f"{first}{last}{int(self.rng.integers(60, 100))}",
        )
        local = (
            patterns[int(self.rng.integers(0, len(patterns)))]
            if domain is None
            else (f"{first}.{last}")
        )
        domain = domain or EMAIL_DOMAINS[int(self.rng.integers(0, len(EMAIL_DOMAINS)))]
        candidate, number = f"{local}@{domain}", 2
        while candidate in self.taken:
            candidate, number = f"{local}{number}@{domain}", number + 1
        self.taken.add(candidate)
        return candidate

    def typo(self, name: str) -> str:
        """One everyday slip (a letter swapped, dropped, doubled or mistyped) that does not
        make another given name (a slip of Mark that reads Mary is no longer a typo)."""
        known = given_name_genders()
        for _ in range(20):
            letters = list(name)
            at = int(self.rng.integers(1, len(letters) - 1)) if len(letters) > 2 else 0
            kind = int(self.rng.integers(0, 4))
            if kind == 0 and at + 1 < len(letters):
                letters[at], letters[at + 1] = letters[at + 1], letters[at]
            elif kind == 1 and len(letters) > 3:
                del letters[at]
            elif kind == 2:
                letters.insert(at, letters[at])
            else:
                letters[at] = str(self.rng.choice(list(_KEYBOARD)))
            result = "".join(letters)
            if result.lower() != name.lower() and result.lower() not in known:
                return result
        return name + "e"


def _households(count: int, rng: np.random.Generator) -> list[list[int]]:
    """Consecutive customers grouped into households (most of size 1)."""
    groups: list[list[int]] = []
    sizes = [s for s, _ in _HOUSEHOLD_SIZES]
    shares = np.array([p for _, p in _HOUSEHOLD_SIZES])
    index = 0
    while index < count:
        size = 1
        if rng.random() < _HOUSEHOLD_SHARE:
            size = int(rng.choice(sizes, p=shares / shares.sum()))
        groups.append(list(range(index, min(index + size, count))))
        index += size
    return groups


def generate_people(
    customers: list[int], first_purchase: dict[int, datetime], *, seed: int, until: datetime
) -> list[DemoPerson]:
    """One person per customer (in the order given), then the planted duplicates."""
    rng = np.random.default_rng(seed)
    make = _Generator(rng)
    people: list[DemoPerson | None] = [None] * len(customers)
    for household in _households(len(customers), rng):
        family = make.last_name()
        home = make.address() if rng.random() < _HAS_ADDRESS else {}
        head_female = bool(rng.random() < 0.5)
        for position, index in enumerate(household):
            female = head_female if position != 1 else not head_female
            if position >= 2:
                female = bool(rng.random() < 0.5)
            first = make.first_name(female)
            last = family
            if position == 1 and rng.random() < _SPOUSE_KEEPS_NAME:
                last = make.last_name()
            customer = customers[index]
            person = DemoPerson(
                first_name=first,
                last_name=last,
                customer=customer,
                created_at=first_purchase[customer],
                organization=None,
                emails=[make.email(first, last)],
                address=dict(home),
                birthday=make.birthday() if rng.random() < _HAS_BIRTHDAY else None,
            )
            if rng.random() < _IN_ORGANIZATION:
                org = int(rng.integers(0, len(COMPANY_NAMES)))
                person.organization = org
                domain = org_domain(COMPANY_NAMES[org])
                person.emails = [make.email(first, last, domain)]
                if rng.random() < _HOLDS_ROLE_ADDRESS and org not in make.role_holder:
                    # Emails belong to one person in Tenure: the first colleague who
                    # answers the role address holds it.
                    make.role_holder[org] = True
                    person.emails.append(f"{make.roles[org]}@{domain}")
                if rng.random() < _AT_OFFICE:
                    person.address = dict(make.offices[org])
            if make.mobiles and rng.random() < 0.045:
                person.phones.append(make.mobiles.pop())
            people[index] = person
    originals = [p for p in people if p is not None]
    return originals + _plant_duplicates(originals, make, until)


def _plant_duplicates(
    originals: list[DemoPerson], make: _Generator, until: datetime
) -> list[DemoPerson]:
    rng = make.rng
    count = round(len(originals) * PLANTED_SHARE)
    chosen = rng.choice(len(originals), size=count, replace=False)
    shares = np.array([p for _, p in _SCENARIOS])
    scenarios = rng.choice(len(_SCENARIOS), size=count, p=shares / shares.sum())
    planted = []
    for index, scenario in zip(chosen.tolist(), scenarios.tolist(), strict=True):
        original = originals[index]
        first, last = original.first_name, original.last_name
        later = original.created_at + timedelta(days=int(rng.integers(20, 700)))
        copy = DemoPerson(
            first_name=first,
            last_name=last,
            customer=original.customer,
            created_at=min(later, until),
            organization=original.organization,
            emails=[original.emails[0]],
            address=dict(original.address),
            duplicate_of=index,
        )
        if scenario in (0, 1, 2) and not original.address:
            original.address = make.address()
            copy.address = dict(original.address)
        if scenario == 0:  # no email, typo in a name, same address
            copy.emails = []
            if rng.random() < 0.5:
                copy.last_name = make.typo(last)
            else:
                copy.first_name = make.typo(first)
        elif scenario == 1:  # no email, nickname (a typo when the name has none)
            copy.emails = []
            options = NICKNAMES.get(first)
            copy.first_name = str(rng.choice(options)) if options else make.typo(first)
        elif scenario == 2:  # second email, same address (and phone, if any)
            copy.phones = list(original.phones)
            options = NICKNAMES.get(first)
            if options and rng.random() < 0.3:
                copy.first_name = str(rng.choice(options))
            copy.emails = [make.email(copy.first_name, last)]
        elif scenario == 3:  # no email, moved, same phone (or birthday when none)
            copy.emails = []
            copy.phones = list(original.phones)
            if not original.phones:
                original.birthday = original.birthday or make.birthday()
                copy.birthday = original.birthday
            copy.address = make.address(avoid_city=original.address.get("city"))
            if rng.random() < 0.3:
                copy.last_name = make.typo(last)
        else:  # second email, moved, same birthday
            original.birthday = original.birthday or make.birthday()
            copy.birthday = original.birthday
            copy.emails = [make.email(first, last)]
            copy.address = make.address(avoid_city=original.address.get("city"))
            if rng.random() < 0.3:
                copy.first_name = make.typo(first)
        planted.append(copy)
    return planted
