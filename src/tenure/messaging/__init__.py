"""Messaging: email over SMTP, templates, outgoing webhooks (see docs/messaging.md)."""
