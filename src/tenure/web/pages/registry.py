"""The navigation bar. A capability adds a page by adding its router to
``tenure.web.pages.page_routers`` and, if it belongs in the bar, a NavItem here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str


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
]
