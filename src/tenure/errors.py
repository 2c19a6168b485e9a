"""Errors every capability raises; the web layer maps them to HTTP statuses."""

from __future__ import annotations


class TenureError(Exception):
    """Base of Tenure's domain errors."""


class NotFound(TenureError):
    """An id that names nothing (HTTP 404)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found")
        self.entity = entity
        self.entity_id = entity_id


class Conflict(TenureError):
    """A write that collides with existing data (HTTP 409)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidInput(TenureError):
    """Input that parses but breaks a rule, reported against its field (HTTP 422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PermissionDenied(TenureError):
    """The actor's role or token scope does not allow this (HTTP 403).

    ``roles`` names the roles that would be allowed (a page says which one is needed).
    """

    def __init__(self, message: str, *, roles: frozenset[str] | None = None) -> None:
        super().__init__(message)
        self.roles = roles
