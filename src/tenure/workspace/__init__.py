"""The workspace itself: its name, whether it holds demo data, and its clock."""
