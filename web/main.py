"""ASGI entry point for uvicorn (`web.main:app`): settings from the environment."""

from web.app import create_app

app = create_app()
