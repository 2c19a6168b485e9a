"""The JSON API under /api/v1: one module per capability."""

from fastapi import APIRouter

from tenure.web.api import (
    admin,
    analytics,
    events,
    exports,
    imports,
    organizations,
    people,
    people_bulk,
    tasks,
)
from tenure.web.api import duplicates as duplicates_api
from tenure.web.api import home as home_api
from tenure.web.api import jobs as jobs_api
from tenure.web.api import lifecycle as lifecycle_api
from tenure.web.api import messages as messages_api
from tenure.web.api import retention as retention_api
from tenure.web.api import segments as segments_api
from tenure.web.api import templates as templates_api
from tenure.web.api import users as users_api
from tenure.web.api import views as views_api
from tenure.web.api import webhooks as webhooks_api
from tenure.web.api import workflow_reports as workflow_reports_api
from tenure.web.api import workflows as workflows_api
from tenure.web.api import workspace as workspace_api

#: Every API router, each included into the app under ``API_PREFIX`` on its own (web.app):
#: FastAPI scans an included router's routes one by one, at every level of nesting, twice
#: a request, so one ``/api/v1`` router holding the others made every call walk ~150 routes.
#: Bulk people first: ``/people/bulk`` before ``/people/{person_id}``.
API_PREFIX = "/api/v1"
api_routers: list[APIRouter] = [
    people_bulk.router,
    people.router,
    organizations.router,
    tasks.router,
    events.router,
    admin.router,
    imports.router,
    exports.router,
    analytics.router,
    lifecycle_api.router,
    segments_api.router,
    duplicates_api.router,
    retention_api.router,
    workspace_api.router,
    jobs_api.router,
    webhooks_api.router,
    workflows_api.router,
    templates_api.router,
    home_api.router,
    users_api.router,
    views_api.router,
    messages_api.router,
    workflow_reports_api.router,
]
