"""The person page's Next best action card says "computing" while the nightly chain that
mines its rules is pending, like the at-risk and segments pages."""

from __future__ import annotations

from sqlalchemy import update

from tenure.all_tasks import enqueue_nightly
from tenure.identity.actions import create_user
from tenure.jobs.models import Job
from tenure.jobs.queries import pending_toward
from tests.pages import log_in
from tests.retention.history import person


def _card(client, person_id: int) -> str:  # type: ignore[no-untyped-def]
    html = client.get(f"/people/{person_id}").text
    return html.split('id="next-best-action"')[1].split("</section>")[0]


def test_the_next_best_action_card_says_computing_while_the_chain_is_pending(session, client):
    create_user(session=session, email="sue@example.com", role="support", password="sue-pass-1")
    customer = person(session, "Carla Cards")
    session.commit()
    log_in(client, "sue@example.com", "sue-pass-1")
    # Given no rules mined and nothing queued: the card says how to get them
    assert "No rules mined yet" in _card(client, customer)

    # When the nightly chain is queued (its first step, scores, runs first)
    head = enqueue_nightly(session)
    session.commit()
    # Then the card says it is computing: the mining step is in the chain's ``then``
    assert pending_toward(session, "retention.mine_nba")
    card = _card(client, customer)
    assert "Computing" in card and "No rules mined yet" not in card

    # And once the chain is no longer pending, it says how to get them again
    session.execute(update(Job).where(Job.id == head).values(state="cancelled"))
    session.commit()
    assert not pending_toward(session, "retention.mine_nba")
    assert "No rules mined yet" in _card(client, customer)


def test_pending_toward_sees_the_task_itself_and_escapes_its_name(session):
    head = enqueue_nightly(session)
    session.execute(update(Job).where(Job.id == head).values(state="succeeded"))
    session.commit()
    assert not pending_toward(session, "retention.mine_nba")
    assert not pending_toward(session, "retention_mine%")  # LIKE wildcards are literal
    session.add(
        Job(task="retention.mine_nba", idempotency_key="mine-now", state="running", then=[])
    )
    session.commit()
    assert pending_toward(session, "retention.mine_nba")
