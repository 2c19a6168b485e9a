"""Query parameters as one pydantic model, validated by the handler itself.

For the hottest list (``GET /api/v1/people``): FastAPI's dependency injection handles each
declared query parameter on every request (introspecting its annotation each time), and
for ten parameters that was a quarter of a list page's server time (bench/read.py). The
model is validated in one call instead; a bad value is the same 422 naming the parameter
(``("query", name)``), and the OpenAPI document lists the parameters from the model.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], request: Request) -> M:
    """The query string as ``model`` (the last value of a repeated parameter, as FastAPI
    takes it); raises ``RequestValidationError`` naming each bad parameter."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """``model``'s fields as OpenAPI query parameters (for a route's ``openapi_extra``)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        description = field_schema.pop("description", None)
        field_schema.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field_schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters
