"""Users, roles, API tokens, permissions and the audit log."""
