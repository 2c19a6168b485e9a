"""Streaming exports of people and events: CSV, JSON lines and Parquet."""
