"""The templates' part of the demo workspace: the template library, ready to preview."""

from __future__ import annotations

from tenure.messaging.templating.library import seed_library
from tenure.workspace.demo import DemoContext, register_demo_contribution


def add_demo_templates(context: DemoContext) -> None:
    seed_library(context.session)


def register() -> None:
    register_demo_contribution("messaging.templates", add_demo_templates, order=60)
