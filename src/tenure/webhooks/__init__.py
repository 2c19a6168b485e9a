"""Outgoing webhooks: subscriptions, signed deliveries by jobs, the delivery log.

Signed per the Standard Webhooks spec (https://www.standardwebhooks.com) with its
reference library ``standardwebhooks``. See docs/webhooks.md.
"""
