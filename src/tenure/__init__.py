"""Tenure: customer lifecycle management with a built-in CRM."""

__version__ = "0.1.0"
