"""The navigation bar. A capability adds a page by adding its router to
``tenure.web.pages.page_routers`` and, if it belongs in the bar, a NavItem here."""

from __future__ import annotations

from dataclasses import dataclass

from tenure.identity.models import Role
from tenure.identity.permissions import JOB_ADMINS, WEBHOOK_ADMINS


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    #: Only these roles see the item (None: everyone); the page checks the role itself.
    roles: frozenset[Role] | None = None

    def visible_to(self, role: Role) -> bool:
        return self.roles is None or role in self.roles


NAV: list[NavItem] = [
    NavItem("My work", "/tasks"),
    NavItem("People", "/people"),
    NavItem("Organizations", "/organizations"),
    NavItem("Import", "/imports"),
    NavItem("Analytics", "/analytics"),
    NavItem("At risk", "/at-risk"),
    NavItem("Duplicates", "/duplicates"),
    NavItem("Segments", "/segments"),
    NavItem("Lifecycle", "/lifecycle"),
    NavItem("Templates", "/templates"),
    NavItem("Workflows", "/workflows"),
    NavItem("Outbox", "/messages"),
    NavItem("Jobs", "/jobs", roles=JOB_ADMINS),
    NavItem("Webhooks", "/webhooks", roles=WEBHOOK_ADMINS),
    NavItem("Settings", "/settings"),
]
