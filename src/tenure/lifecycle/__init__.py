"""Lifecycle: the stage model, rules that place people in stages, stage history, funnel
analytics (conversion, time in stage) and the journey map.

``actions.evaluate_stages`` is called by event ingestion for the people of each batch;
``actions.evaluate_all_stages`` re-places everyone after a scores refresh.
"""
