"""Messaging: email over SMTP, sandboxed templates, outgoing webhooks."""
