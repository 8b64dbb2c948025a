"""The ``[server]`` table: where the till page listens, its language, and the token beyond loopback."""

from __future__ import annotations

import ipaddress
import os
from typing import Literal

import msgspec

from fastimport.config import Config
from fastimport.errors import ConfigError
from fastimport.typed import convert

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServerSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    language: Literal["fr", "en"] = "fr"
    token_env: str | None = None  # the environment variable holding the access token
    page_size: int = 50  # rows of the pending table per page
    print_timeout: float = 5.0  # seconds a button keeps sending tickets before leaving them queued


def server_settings(config: Config) -> ServerSettings:
    settings = convert(config.raw.get("server", {}), ServerSettings, where="server")
    if not 1 <= settings.page_size <= 500:
        raise ConfigError("server.page_size must be between 1 and 500")
    return settings


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_token(settings: ServerSettings, host: str) -> str | None:
    """The token every page and API call needs, or None on loopback without ``token_env``.

    Refuses (ConfigError) a bind beyond loopback without a token, and a ``token_env`` naming an
    empty or unset variable.  The token's value is never part of a message.
    """
    if settings.token_env:
        token = os.environ.get(settings.token_env, "")
        if len(token) < 16:
            raise ConfigError(
                f"server.token_env names {settings.token_env}, which is unset or shorter than 16 characters: "
                "put a long random token in that environment variable"
            )
        return token
    if not is_loopback(host):
        raise ConfigError(
            f"the till page would listen on {host}, beyond this machine, without a token: set [server] "
            "token_env to the name of an environment variable holding a long random token, or listen on 127.0.0.1"
        )
    return None
