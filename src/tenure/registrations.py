"""Start-up wiring: every capability's event reactions, person-page cards and demo data.

A composition root like ``tenure.all_models`` (tables) and ``tenure.web.app`` (routes): it
sits above every capability, so capabilities never import each other to plug in. The web
app factory, the CLI and the test suite call ``register_all()`` once at start-up; the job
runner runs inside the CLI. A process that appends events without it is refused by the
event pipeline (``timeline.pipeline.PipelineNotConfigured``) rather than silently storing
events that move no stage.

A new capability adds its ``register()`` call here.
"""

from __future__ import annotations

from tenure.automation import cards as workflow_cards
from tenure.automation import demo as workflows_demo
from tenure.automation import reactions as automation_reactions
from tenure.automation import triggers as automation_triggers
from tenure.customers import demo as customers_demo
from tenure.identity import demo as identity_demo
from tenure.lifecycle import cards as lifecycle_cards
from tenure.lifecycle import reactions as lifecycle_reactions
from tenure.messaging import cards as messaging_cards
from tenure.messaging.templating import demo as templates_demo
from tenure.profile import builtin as profile_cards
from tenure.retention import cards as retention_cards
from tenure.scores import cards as scores_cards
from tenure.segments import demo as segments_demo
from tenure.summaries import demo as summaries_demo
from tenure.summaries import reactions as summaries_reactions
from tenure.timeline import demo as timeline_demo
from tenure.webhooks import reactions as webhooks_reactions


def register_all() -> None:
    """Register every reaction, card and demo contribution; safe to call more than once."""
    # The event pipeline, in the order the reactions run (each says its own order).
    lifecycle_reactions.register()
    automation_reactions.register()
    summaries_reactions.register()
    webhooks_reactions.register()
    # Person edits (customers.changes), for workflows' field_changed triggers.
    automation_triggers.register()
    # The person page, in the order of the cards (each says its own order).
    profile_cards.register()
    scores_cards.register()
    lifecycle_cards.register()
    retention_cards.register()
    messaging_cards.register()
    workflow_cards.register()
    # The demo workspace, in the order the contributions run (each says its own order).
    identity_demo.register()
    customers_demo.register()
    timeline_demo.register()
    templates_demo.register()
    segments_demo.register()
    workflows_demo.register()
    summaries_demo.register()
