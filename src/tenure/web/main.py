"""The ASGI app for uvicorn (`tenure serve`), configured from the environment."""

from tenure.web.app import create_app

app = create_app()
