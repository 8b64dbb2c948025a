"""The application keys the till page's modules share."""

from __future__ import annotations

from aiohttp import web

from fastimport.web.database import CONFIG_KEY, DATABASE_KEY
from fastimport.web.i18n import Messages
from fastimport.web.settings import ServerSettings

MESSAGES_KEY = web.AppKey("fastimport.messages", Messages)
SETTINGS_KEY = web.AppKey("fastimport.server_settings", ServerSettings)

__all__ = ["CONFIG_KEY", "DATABASE_KEY", "MESSAGES_KEY", "SETTINGS_KEY"]
