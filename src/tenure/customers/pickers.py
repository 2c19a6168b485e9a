"""The choices a person form offers: organizations by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Organization

#: Organizations a picker lists at most (the demo has 30): a select of thousands is no
#: longer a picker; past this a search-as-you-type field would be the way.
MAX_ORGANIZATIONS = 2000


def organization_choices(session: Session) -> list[tuple[int, str]]:
    """``(id, name)`` of organizations, by name."""
    query = (
        select(Organization.id, Organization.name)
        .order_by(Organization.name, Organization.id)
        .limit(MAX_ORGANIZATIONS)
    )
    return [(row.id, row.name) for row in session.execute(query)]
