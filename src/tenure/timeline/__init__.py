"""The append-only event log, its ingestion and the customer 360 view."""
