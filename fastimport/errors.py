"""One error language for every room of fastimport.

Every error a user can meet derives from :class:`FastImportError` and carries a
message a shopkeeper can act on.  Errors that may go away on a retry are marked
``transient``; the fetcher's retry loop is the only place that looks at it.
Errors keep their fields as attributes and pickle with them (``__reduce__``),
so they cross process boundaries intact.
"""

from __future__ import annotations

from typing import Any


class FastImportError(Exception):
    """Base of every fastimport error; ``str(err)`` is the plain-words message."""

    transient: bool = False

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[FastImportError], message: str, fields: dict[str, Any]) -> FastImportError:
    return cls(message, **fields)


class ConfigError(FastImportError):
    """The configuration file is missing, unreadable or has a bad value (``key`` names it)."""


class FetchError(FastImportError):
    """The shop could not be read: permanent unless ``transient`` is set."""


class TransientFetchError(FetchError):
    """The shop failed in a way a retry may cure (5xx, 429, timeout, garbled page)."""

    transient = True


class AuthError(FetchError):
    """The shop refused our credentials."""


class ParseError(FastImportError):
    """A page could not be turned into columns; ``path`` names the bad field, e.g. ``$[3].line_items[0].quantity``."""


class StoreError(FastImportError):
    """The local database refused an operation."""


class ProcessingError(FastImportError):
    """A business rule refused an action (invoicing twice, shipping a cancelled order...)."""


class PrintError(FastImportError):
    """A ticket could not be printed; the job stays queued."""


class StoreLockedError(StoreError):
    """Another run holds this store's lock (``store``, ``holder``, ``since``): the store is skipped."""


def explain(exc: Exception) -> tuple[str, str]:
    """A store's failure as (plain-words message, stage): ``fetch``, ``parse``, ``store``, ``config``,
    or ``import`` for an unexpected error (named by its type)."""
    if isinstance(exc, FastImportError):
        stages = (
            (FetchError, "fetch"),
            (ParseError, "parse"),
            (StoreError, "store"),
            (ConfigError, "config"),
        )
        return exc.message, next((stage for kind, stage in stages if isinstance(exc, kind)), "import")
    return f"unexpected error: {type(exc).__name__}: {exc}", "import"
