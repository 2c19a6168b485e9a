"""Imports every capability's tables so that metadata (and Alembic) sees them all.

A composition root, like ``web.app``: it sits above every capability, so it lives at the top
of the package rather than in ``db`` (which capabilities import).
"""

from tenure.automation import models as automation_models
from tenure.customers import models as customers_models
from tenure.db.base import Base
from tenure.dedup import models as dedup_models
from tenure.home import models as home_models
from tenure.identity import models as identity_models
from tenure.ingest import models as ingest_models
from tenure.jobs import models as jobs_models
from tenure.lifecycle import models as lifecycle_models
from tenure.lists import models as lists_models
from tenure.messaging import models as messaging_models
from tenure.messaging.templating import models as templating_models
from tenure.retention import models as retention_models
from tenure.scores import models as scores_models
from tenure.segments import models as segments_models
from tenure.timeline import models as timeline_models
from tenure.webhooks import models as webhooks_models
from tenure.workspace import models as workspace_models

Base.metadata.info["complete"] = True  # see db.base.complete_metadata

__all__ = [
    "automation_models",
    "customers_models",
    "dedup_models",
    "home_models",
    "identity_models",
    "ingest_models",
    "jobs_models",
    "lifecycle_models",
    "lists_models",
    "messaging_models",
    "retention_models",
    "scores_models",
    "segments_models",
    "templating_models",
    "timeline_models",
    "webhooks_models",
    "workspace_models",
]
