"""The ``[documents]`` and ``[mail]`` tables of ``fastimport.toml``.

The SMTP password never lives in the file: ``password_env`` (and ``user_env``) name the
environment variables that hold them.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from fastimport.config import Config
from fastimport.errors import ConfigError
from fastimport.typed import convert

DEFAULT_SUBJECT = "{title} {number} - {seller}"
DEFAULT_BODY = (
    "Bonjour {buyer},\n\n"
    "Veuillez trouver ci-joint votre {title_lower} n° {number} du {date}, d'un montant de {total} € TTC.\n\n"
    "Cordialement,\n{seller}\n"
)


class DocumentsSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[documents]``: the logo printed at the top of every A4 document, the late-payment rate."""

    logo: str = ""  # a PNG, JPEG or SVG file; relative paths are read from the configuration's folder
    late_penalty_rate: str = "trois fois le taux d'intérêt légal"
    payment_due: str = "à réception"
    facturx: bool = True  # business buyers get a Factur-X PDF/A-3 (EN 16931)


class MailSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[mail]``: the SMTP server and the French subject and body templates."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    user_env: str = ""
    password_env: str = ""
    timeout: float = 30.0
    # msgspec cannot name a field "from": the TOML key is still ``from``.
    sender: str = msgspec.field(default="", name="from")
    reply_to: str = ""
    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY
    backoff_base: float = 5.0
    backoff_max: float = 900.0

    def require(self) -> MailSettings:
        if not self.host or not self.sender:
            raise ConfigError(
                "sending documents by e-mail needs a [mail] table with host and from "
                '(e.g. host = "smtp.example.fr", from = "Boutique <factures@example.fr>"); nothing was sent',
                key="mail",
            )
        return self

    def credentials(self) -> tuple[str, str] | None:
        if not self.user_env:
            return None
        user, password = os.environ.get(self.user_env), os.environ.get(self.password_env or "")
        if not user or password is None:
            raise ConfigError(
                f"[mail] names the environment variables {self.user_env} and {self.password_env or '?'} "
                "for the SMTP login, and they are not set",
                key="mail.user_env",
            )
        return user, password


def documents_settings(config: Config) -> DocumentsSettings:
    return convert(config.raw.get("documents", {}), DocumentsSettings, where="documents")


def mail_settings(config: Config) -> MailSettings:
    return convert(config.raw.get("mail", {}), MailSettings, where="mail")


def logo_path(config: Config, settings: DocumentsSettings) -> Path | None:
    if not settings.logo:
        return None
    path = Path(settings.logo)
    if not path.is_absolute() and config.source is not None:
        path = Path(config.source).parent / path
    if not path.is_file():
        raise ConfigError(f"[documents] logo: the file {path} does not exist", key="documents.logo")
    return path
