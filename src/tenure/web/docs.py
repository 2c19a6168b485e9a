"""The interactive API reference and the favicon, served from the package: no CDN.

FastAPI's default ``/api/docs`` loads Swagger UI from a CDN, so the page was blank on a
server without internet access; the bundle is vendored in ``static/vendor/swagger-ui``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER_UI = "/static/vendor/swagger-ui"
DOCS_PATH = "/api/docs"


def install_docs(app: FastAPI) -> None:
    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/docs", include_in_schema=False)
    async def docs_elsewhere() -> Response:
        return RedirectResponse(DOCS_PATH, status_code=308)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        # Browsers ask for /favicon.ico on their own (the API docs, a JSON answer).
        return FileResponse(
            STATIC_DIR / "favicon.ico",
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )
