"""What fastimport knows about one shop platform, in one frozen description.

Each platform package (``fastimport/io/<platform>/``) builds one :class:`Platform` in its
``platform.py`` and :mod:`fastimport.io.registry` names it in one line.  Everything outside
``fastimport/io/`` asks the description, never the platform's name: the configuration reads its
store table from it, processing its push-backs, tickets its display name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastimport.config import StoreConfig
    from fastimport.io.connector import Buyer, Connector, Refund
    from fastimport.io.pushback import PushBack
    from fastimport.io.webhook import WebhookScheme


@dataclass(frozen=True, slots=True)
class PageSize:
    """Orders per listing page: the default, and the most the platform's API accepts."""

    default: int
    maximum: int


@dataclass(frozen=True, slots=True)
class Platform:
    name: str  # the word written in ``platform = "..."`` and stored in the stores table
    display_name: str  # for people: tickets, messages ("WooCommerce")
    # The ``[[stores]]`` table of this platform: a StoreConfig subclass adding its own keys
    # (secrets, auth, API version...) with their defaults; unknown keys are named.
    store: type[StoreConfig]
    # ``connector(store, **options)``: reads orders, catalogue and customers.
    connector: Callable[..., Connector]
    # ``push_back(store)``: stock, status and tracking written back; may also offer the optional
    # capabilities of :mod:`fastimport.io.pushback` (batch stock, shipment notice).
    push_back: Callable[..., PushBack]
    # Reads an order's stored raw JSON into what invoicing needs beyond the columns.
    buyer: Callable[[bytes], Buyer]
    # Shop statuses meaning "paid, to be handled": the default of ``pending_statuses``.
    pending_statuses: tuple[str, ...]
    page_size: PageSize
    # The store keys naming environment variables that hold this platform's secrets.
    secret_keys: tuple[str, ...]
    # The shop status an order moves to once shipped, when the platform has one to set.
    shipped_status: str | None = None
    # ``refunds(payload)``: the refunds an order's stored JSON carries, with those its connector read
    # apart and appended (WooCommerce's /orders/<id>/refunds, PrestaShop's order_slip); None: none read.
    refunds: Callable[[bytes], tuple[Refund, ...]] | None = None
    # ``till_echo(last, new, statuses)``: whether ``new`` differs from the last version seen only in what
    # the till's pushes set (``statuses``: those it set), so the shop's answer to the till is no news.
    till_echo: Callable[[bytes, bytes, frozenset[str]], bool] | None = None
    # How the platform signs and labels the webhooks it pushes (None: it has none); the store
    # table then has a ``webhook_secret_env`` key.
    webhook: WebhookScheme | None = None

    def build(self, raw: Any, where: str) -> StoreConfig:
        """One ``[[stores]]`` table as this platform's StoreConfig; errors start with ``where``."""
        from fastimport.typed import convert

        return convert(raw, self.store, where=where)


class Lazy:
    """A class or function named ``"module:attribute"``, imported when first called or asked for an
    attribute: a platform's description names its connector, push-back and payload readers without
    importing them (and aiohttp, pyarrow) when only the configuration is read."""

    __slots__ = ("_found", "target")

    def __init__(self, target: str) -> None:
        self.target = target
        self._found: Any = None

    def load(self) -> Any:
        if self._found is None:
            import importlib

            module, _, attribute = self.target.partition(":")
            self._found = getattr(importlib.import_module(module), attribute)
        return self._found

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        return f"Lazy({self.target!r})"
