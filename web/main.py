"""ASGI entry point for uvicorn (`web.main:app`): settings from the environment.

Settings that cannot be used (e.g. an unsafe GRIDCMD_SECRET_KEY) stop the process here with a plain message:
the server does not start."""

from pydantic import ValidationError

from command.core.settings import Settings, settings_problem
from web.app import create_app

try:
    _settings = Settings()
except ValidationError as _exc:
    raise SystemExit(f"gridcmd: refusing to start: {settings_problem(_exc)}") from None

app = create_app(_settings)
