"""Lifecycle: the stage model, rules that place people in stages, stage history, funnel
analytics (conversion, time in stage) and the journey map.

``reactions`` registers ``actions.evaluate_stages`` with the event pipeline, which runs it
for the people of every append;
``actions.evaluate_all_stages`` re-places everyone after a scores refresh.
"""
