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

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(people_bulk.router)
for module in (people, organizations, tasks, events, admin, imports, exports, analytics):
    api_router.include_router(module.router)
api_router.include_router(lifecycle_api.router)
api_router.include_router(segments_api.router)
api_router.include_router(duplicates_api.router)
api_router.include_router(retention_api.router)
api_router.include_router(workspace_api.router)
api_router.include_router(jobs_api.router)
api_router.include_router(webhooks_api.router)
api_router.include_router(workflows_api.router)
api_router.include_router(templates_api.router)
api_router.include_router(home_api.router)
api_router.include_router(users_api.router)
api_router.include_router(views_api.router)
api_router.include_router(messages_api.router)
api_router.include_router(workflow_reports_api.router)
