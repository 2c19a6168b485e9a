"""The template library: good default emails, seeded on first use and in the demo.

Each is a complete, tested template (``tests/messaging/templating`` checks that every one
validates and renders for a person with and without orders, scores and an offer), written
to be sent as is or edited: a welcome, an order follow-up, a win-back built on the next
best action, and a renewal reminder. Optional values are guarded, so they render for
every customer. Seeding is idempotent on ``library_key``: an edited or renamed default is
never replaced, and an archived one never comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.db.session import first_use_write
from tenure.db.types import utcnow
from tenure.messaging.templating.models import MessageTemplate, TemplatePurpose, TemplateVersion

STYLE = """<style>
  body { margin: 0; padding: 0; background: #f4f5f7; }
  .wrap { max-width: 560px; margin: 0 auto; padding: 24px 28px; background: #ffffff;
          font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5;
          color: #1f2933; }
  h1 { font-size: 22px; line-height: 1.3; margin: 0 0 16px; color: #102a43; }
  p { margin: 0 0 14px; }
  .button { display: inline-block; padding: 10px 18px; border-radius: 4px;
            background: #1f6feb; color: #ffffff; text-decoration: none; font-weight: bold; }
  .items { width: 100%; border-collapse: collapse; margin: 0 0 16px; }
  .items td { padding: 6px 0; border-bottom: 1px solid #e4e7eb; }
  .amount { text-align: right; white-space: nowrap; }
  .offer { padding: 12px 16px; background: #f0f7ff; border-left: 4px solid #1f6feb;
           margin: 0 0 16px; }
  .footer { font-size: 12px; color: #616e7c; margin-top: 24px; }
  .footer a { color: #616e7c; }
  @media (max-width: 600px) { .wrap { padding: 16px; } h1 { font-size: 20px; } }
</style>"""

FOOTER_MARKETING = """<p class="footer">You receive this email as a customer of
  {{ workspace.name }}. <a href="{{ unsubscribe_url }}">Unsubscribe</a> at any time,
  in one click.</p>"""
FOOTER_SERVICE = """<p class="footer">This is a service message about your account with
  {{ workspace.name }}.</p>"""
GREETING = "{{ person.first_name or person.name or 'there' }}"


def _page(body: str, footer: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{STYLE}
</head>
<body>
<div class="wrap">
{body.strip()}
{footer}
</div>
</body>
</html>
"""


@dataclass(frozen=True)
class LibraryTemplate:
    key: str
    name: str
    purpose: TemplatePurpose
    description: str
    subject: str
    html: str


WELCOME = LibraryTemplate(
    key="welcome",
    name="Welcome",
    purpose=TemplatePurpose.marketing,
    description="Greets a new customer and says what to expect from you.",
    subject=f"Welcome to {{{{ workspace.name }}}}, {GREETING}",
    html=_page(
        f"""
<h1>Welcome, {GREETING}!</h1>
<p>Thank you for choosing {{{{ workspace.name }}}}. We are glad to have you with us.</p>
{{% if last_order %}}
<p>We have your order of {{{{ last_order.date|date }}}}{{% if last_order.total %}}
  ({{{{ last_order.total|money }}}}){{% endif %}}, and we will let you know as soon as it
  ships.</p>
{{% endif %}}
<p>From time to time we will write with new arrivals picked for you and offers for our
  customers, never more than a few times a month. If there is anything we can help with,
  just reply to this email: a person reads every answer.</p>
<p>Welcome aboard,<br>The {{{{ workspace.name }}}} team</p>
""",
        FOOTER_MARKETING,
    ),
)

ORDER_FOLLOW_UP = LibraryTemplate(
    key="order-follow-up",
    name="Order follow-up",
    purpose=TemplatePurpose.transactional,
    description="A few days after an order: what they bought, and a way to reach you.",
    subject=(
        "{% if last_order %}How is your order of {{ last_order.date|date }}?"
        "{% else %}How are things with {{ workspace.name }}?{% endif %}"
    ),
    html=_page(
        f"""
<h1>Hello {GREETING},</h1>
{{% if last_order %}}
<p>Thank you again for your order of {{{{ last_order.date|date }}}}. We hope everything
  arrived as it should. Here is what you bought:</p>
<table class="items">
{{% for item in last_order.items %}}
  <tr>
    <td>{{{{ item.quantity }}}} &times; {{{{ item.category or item.sku or "item" }}}}</td>
    <td class="amount">{{% if item.unit_price %}}{{{{ item.unit_price|money }}}}{{% endif %}}</td>
  </tr>
{{% endfor %}}
{{% if last_order.total %}}
  <tr><td><strong>Total</strong></td>
    <td class="amount"><strong>{{{{ last_order.total|money }}}}</strong></td></tr>
{{% endif %}}
</table>
{{% else %}}
<p>Thank you for being a customer of {{{{ workspace.name }}}}.</p>
{{% endif %}}
<p>If something is missing, damaged or not what you expected, reply to this email and we
  will put it right, whatever it takes.</p>
{{% if next_best_action %}}
<p class="offer">Customers who bought {{{{ next_best_action.because_bought }}}} often come
  back for {{{{ next_best_action.offer }}}}.</p>
{{% endif %}}
<p>Thank you,<br>The {{{{ workspace.name }}}} team</p>
""",
        FOOTER_SERVICE,
    ),
)

WIN_BACK = LibraryTemplate(
    key="win-back",
    name="Win-back",
    purpose=TemplatePurpose.marketing,
    description="For lapsed or at-risk customers: the one offer most likely to bring them back.",
    subject=f"We miss you, {GREETING}",
    html=_page(
        f"""
<h1>It has been a while, {GREETING}</h1>
{{% if last_order %}}
<p>Your last order with us was on {{{{ last_order.date|date }}}}{{% if order_count > 1 %}},
  one of the {{{{ order_count }}}} you have placed since
  {{{{ first_order_date|date }}}}{{% endif %}}. We would love to see you again.</p>
{{% else %}}
<p>We would love to see you again at {{{{ workspace.name }}}}.</p>
{{% endif %}}
{{% if next_best_action %}}
<div class="offer">
  <p><strong>Picked for you: {{{{ next_best_action.offer }}}}</strong></p>
  <p>You bought {{{{ next_best_action.because_bought }}}}, and customers who did often went
    on to {{{{ next_best_action.offer }}}}. We think it is your next favourite.</p>
</div>
{{% elif popular_items %}}
<div class="offer">
  <p><strong>What other customers love right now:</strong>
    {{{{ popular_items|join(", ") }}}}.</p>
</div>
{{% endif %}}
<p>Reply to this email and tell us what would make you come back: we read every answer.</p>
<p>Hope to see you soon,<br>The {{{{ workspace.name }}}} team</p>
""",
        FOOTER_MARKETING,
    ),
)

RENEWAL_REMINDER = LibraryTemplate(
    key="renewal-reminder",
    name="Renewal reminder",
    purpose=TemplatePurpose.transactional,
    description="Before a subscription or membership renews: what they got, what happens next.",
    subject="Your {{ workspace.name }} membership renews soon",
    html=_page(
        f"""
<h1>Your membership renews soon</h1>
<p>Hello {GREETING},</p>
<p>This is a reminder that your {{{{ workspace.name }}}} membership renews shortly. You do
  not need to do anything to keep it: it renews automatically, on the same terms.</p>
{{% if order_count %}}
<p>Since {{{{ person.customer_since|date }}}} you have placed {{{{ order_count }}}}
  order{{{{ "s" if order_count != 1 else "" }}}}{{% if revenue %}} worth
  {{{{ revenue|money }}}}{{% endif %}} with us. Thank you for your trust.</p>
{{% endif %}}
<p>If you would like to change or cancel your membership, reply to this email before the
  renewal date and we will take care of it.</p>
<p>Kind regards,<br>The {{{{ workspace.name }}}} team</p>
""",
        FOOTER_SERVICE,
    ),
)

LIBRARY: tuple[LibraryTemplate, ...] = (WELCOME, ORDER_FOLLOW_UP, WIN_BACK, RENEWAL_REMINDER)


def _missing(session: Session) -> list[LibraryTemplate]:
    seeded = set(
        session.scalars(
            select(MessageTemplate.library_key).where(MessageTemplate.library_key.is_not(None))
        )
    )
    return [entry for entry in LIBRARY if entry.key not in seeded]


def seed_library(session: Session) -> list[MessageTemplate]:
    """Add the library templates this workspace never had; the ones added. A name already
    taken by a template of the workspace's own is skipped.

    As the built-in segments: ``tenure init`` and the demo seed them in a writer's
    transaction; a first read (the templates list) that finds them missing writes through
    ``first_use_write`` (on SQLite, a transaction that starts with the write lock), and
    two processes doing it at once leave one set (the loser's savepoint breaks the unique
    key and rolls back).
    """
    if not _missing(session):
        return []
    with first_use_write(session):
        return _create(session, _missing(session))


def _create(session: Session, missing: list[LibraryTemplate]) -> list[MessageTemplate]:
    taken = set(session.scalars(select(MessageTemplate.name)))
    created: list[MessageTemplate] = []
    now = utcnow()
    try:
        with session.begin_nested():
            for entry in missing:
                if entry.name in taken:
                    continue
                template = MessageTemplate(
                    name=entry.name,
                    purpose=entry.purpose.value,
                    description=entry.description,
                    archived=False,
                    library_key=entry.key,
                    created_at=now,
                    updated_at=now,
                )
                session.add(template)
                session.flush()
                session.add(
                    TemplateVersion(
                        template_id=template.id,
                        number=1,
                        subject=entry.subject,
                        html=entry.html,
                        created_at=now,
                    )
                )
                created.append(template)
    except IntegrityError:
        return []
    return created
