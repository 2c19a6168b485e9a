"""Proactive retention: early-warning signals, risk with reasons, alerts, next best action."""
