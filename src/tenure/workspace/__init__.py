"""The workspace itself: its name and whether it holds demo data."""
