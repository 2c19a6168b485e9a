"""The timeline in words: items grouped, stage changes from and to, activities."""

from __future__ import annotations

from tenure.timeline.story import tell


def _event(type_, payload=None, items=None, source="api"):
    return {"type": type_, "payload": payload or {}, "items": items or [], "source": source}


def test_order_items_are_grouped_with_quantities():
    items = [{"category": "Rock", "sku": None, "quantity": 1}] * 7 + [
        {"category": "Jazz", "sku": None, "quantity": 2}
    ]
    assert tell(_event("order", items=items)).details == ["7 \u00d7 Rock", "2 \u00d7 Jazz"]


def test_stage_change_shows_from_and_to():
    line = tell(
        _event("stage_changed", {"from_name": "Active", "to_name": "At risk", "reason": "90 days"})
    )
    assert line.headline == "Stage: Active → At risk"
    assert line.details == ["90 days"]
    assert tell(_event("stage_changed", {"to_name": "New"})).headline == "Entered stage New"


def test_segments_are_named():
    assert (
        tell(_event("segment_entered", {"segment_name": "VIP"})).headline == "Entered segment VIP"
    )
    assert tell(_event("segment_exited", {"segment_name": "VIP"})).headline == "Left segment VIP"


def test_logged_call_says_direction_outcome_and_duration():
    payload = {"direction": "inbound", "outcome": "connected", "duration_minutes": 75, "notes": "n"}
    line = tell(_event("call", payload, source="logged"))
    assert (line.headline, line.details, line.quote) == (
        "Inbound call",
        ["connected", "1 h 15 min"],
        "n",
    )


def test_survey_answers_say_the_survey_the_score_and_the_comment():
    nps = tell(_event("survey_answered", {"survey": "nps", "score": 4, "comment": "Late again"}))
    assert (nps.headline, nps.details, nps.quote) == (
        "NPS answer: 4 of 10",
        ["detractor"],
        "“Late again”",
    )
    assert tell(_event("survey_answered", {"survey": "nps", "score": 9})).details == ["promoter"]
    csat = tell(_event("survey_answered", {"survey": "CSAT", "score": 5}))
    assert (csat.headline, csat.details, csat.quote) == ("CSAT answer: 5 of 5", [], None)
    assert tell(_event("survey_answered", {"survey": "ces", "score": 6})).headline == (
        "CES answer: 6 of 7"
    )
    # Another survey, or a score that is no number, still reads sensibly.
    assert tell(_event("survey_answered", {"survey": "onboarding", "score": 3})).headline == (
        "ONBOARDING answer: 3"
    )
    assert tell(_event("survey_answered", {"survey": "nps", "score": "high"})).headline == (
        "NPS answer"
    )


def test_a_converted_referral_names_who_came():
    line = tell(_event("referral_converted", {"referred_name": "Ada Lovelace"}))
    assert (line.headline, line.details) == ("Referral converted", ["brought Ada Lovelace"])
    assert tell(_event("referral_converted")).details == []
