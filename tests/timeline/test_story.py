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
