"""Server-rendered pages, one module per capability."""

from fastapi import APIRouter

from tenure.web.pages import (
    analytics,
    auth,
    email_links,
    imports,
    organizations,
    people,
    people_bulk,
    people_edit,
    people_views,
    tasks,
)
from tenure.web.pages import duplicates as duplicates_pages
from tenure.web.pages import home as home_pages
from tenure.web.pages import jobs as jobs_pages
from tenure.web.pages import lifecycle as lifecycle_pages
from tenure.web.pages import messaging as messaging_pages
from tenure.web.pages import retention as retention_pages
from tenure.web.pages import segments as segments_pages
from tenure.web.pages import settings as settings_pages
from tenure.web.pages import templates as templates_pages
from tenure.web.pages import users as users_pages
from tenure.web.pages import webhooks as webhooks_pages
from tenure.web.pages import workflow_steps as workflow_steps_pages
from tenure.web.pages import workflows as workflows_pages

page_routers: list[APIRouter] = [
    auth.router,
    people_views.router,  # before people: /people/export.csv is not a person id
    # Before people.router: /people/new and /people/bulk are not /people/{person_id}.
    people_edit.router,
    people_bulk.router,
    people.router,
    organizations.router,
    imports.router,
    analytics.router,
    tasks.router,
]
page_routers.append(lifecycle_pages.router)
page_routers.append(segments_pages.router)
page_routers.append(duplicates_pages.router)
page_routers.append(retention_pages.router)
page_routers.append(jobs_pages.router)
page_routers.append(webhooks_pages.router)
page_routers.append(templates_pages.router)
page_routers.append(home_pages.router)
page_routers.append(settings_pages.router)
page_routers.append(users_pages.router)
page_routers.append(messaging_pages.router)
page_routers.append(workflows_pages.router)
page_routers.append(workflow_steps_pages.router)

#: Pages reached from outside without a login session (the links in emails): no CSRF
#: check, their signed token authorises them.
public_routers: list[APIRouter] = [email_links.router]
