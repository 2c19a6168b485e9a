"""Importing customer data: CSV presets, vCard, JSON lines and email archives, chunk by chunk."""
