"""What /openapi.json says beyond the routes: the bearer scheme, the error envelope, the
error statuses every operation can answer, and the bodies parsed by hand.

Every API error has one shape (``ErrorOut``): a short ``error`` code, and a ``message``
or, for invalid input, ``errors`` naming each field with its reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from tenure.timeline.schemas import EventIn

BEARER = "bearerAuth"
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

ERROR_STATUSES = {
    "401": "No valid API token (`Authorization: Bearer <token>`).",
    "403": "The token's role or scope does not allow this.",
    "404": "An id in the path or body names nothing.",
    "409": "The change collides with existing data.",
    "413": "The request body is over the route's size limit (the limit is in the message).",
    "422": "Invalid input: `errors` names each field with its reason.",
    "503": "The database stayed busy with other writes past its timeout; nothing changed. "
    "Retry after the seconds in `Retry-After`.",
}

RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer"},
}


class ProblemOut(BaseModel):
    field: str = Field(description="The field, dotted for nested ones (`attributes.plan`).")
    reason: str


class ErrorOut(BaseModel):
    """The body of every API error."""

    error: str = Field(
        description="invalid_input, not_found, conflict, forbidden, unauthenticated, "
        "payload_too_large, bad_request, method_not_allowed, database_busy, ..."
    )
    message: str | None = None
    field: str | None = Field(None, description="The field a conflict is about, if one.")
    errors: list[ProblemOut] | None = Field(None, description="Invalid input, field by field.")
    limit_bytes: int | None = Field(None, description="The limit a too-large body passed.")


def _error_response(description: str, documented: dict[str, Any] | None) -> dict[str, Any]:
    """The envelope, or either of it and what the route documents (POST /events' 422)."""
    schema: dict[str, Any] = ERROR_REF
    existing = ((documented or {}).get("content") or {}).get("application/json", {})
    own = existing.get("schema")
    if own and own.get("$ref") not in (None, "#/components/schemas/HTTPValidationError"):
        schema = {"anyOf": [own, ERROR_REF]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def install_openapi(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        # POST /events parses its body by hand (one object or an array), so EventIn is
        # not reached from a route signature.
        event_schema = EventIn.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(event_schema.pop("$defs", {}))
        schemas["EventIn"] = event_schema
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas["ErrorOut"] = error_schema
        components["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token from `tenure token create`.",
            }
        }
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in operations.values():
                operation["security"] = [{BEARER: []}]
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses[status] = _error_response(description, responses.get(status))
                responses["503"]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
