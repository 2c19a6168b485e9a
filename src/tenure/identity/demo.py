"""Identity's part of the demo workspace: the staff, one user per role, to log in as."""

from __future__ import annotations

from tenure.identity.actions import create_user
from tenure.identity.models import Role
from tenure.workspace.demo import DemoContext, register_demo_contribution

DEMO_PASSWORD = "tenure-demo"
ADMIN_EMAIL = "admin@demo.tenure.dev"
DEMO_STAFF = (
    (ADMIN_EMAIL, "Ada Admin", Role.admin),
    ("maria.sales@demo.tenure.dev", "Maria Sales", Role.sales),
    ("sam.accounts@demo.tenure.dev", "Sam Accounts", Role.sales),
    ("mo.marketing@demo.tenure.dev", "Mo Marketing", Role.marketing),
    ("sue.support@demo.tenure.dev", "Sue Support", Role.support),
    ("ana.analyst@demo.tenure.dev", "Ana Analyst", Role.analyst),
)


def add_demo_staff(context: DemoContext) -> None:
    for email, name, role in DEMO_STAFF:
        create_user(
            session=context.session, email=email, role=role, password=DEMO_PASSWORD, name=name
        )


def register() -> None:
    # First: the customers' owners are drawn from these users.
    register_demo_contribution("identity.staff", add_demo_staff, order=10)
