"""Server-rendered pages, one module per capability."""

from fastapi import APIRouter

from tenure.web.pages import analytics, auth, imports, organizations, people

page_routers: list[APIRouter] = [
    auth.router,
    people.router,
    organizations.router,
    imports.router,
    analytics.router,
]
