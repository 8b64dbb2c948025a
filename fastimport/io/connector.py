"""The contract every platform connector fulfils, and the registry that picks one.

A connector knows one platform: its URLs, auth, pagination, rate-limit
headers and field mapping.  It never sees DuckDB or a printer.

The contract, in the order an import uses it:

1. ``pages(fetcher, rng)`` plans the range (counts, time windows, offsets, bulk job) and yields
   the shop's pages of orders as bytes, each order at least once despite page drift;
2. ``page_spec`` maps a page to Arrow columns (the parsing core follows it);
3. optionally ``adjust(orders, lines)`` finishes what a field mapping cannot express (PrestaShop's
   shop-local dates to UTC, a status derived from several fields, amounts after refunds), on the
   parsed columns, before the range filter and the dedup;
4. ``catalog`` / ``customers`` read the articles and customers for the unknown-article checks;
5. push-backs (:class:`PushBack`): stock, status and tracking written back to the shop.

Adding a platform is one module with a class following :class:`Connector`, and one line in
``CONNECTORS``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import aiohttp
import pyarrow as pa

from fastimport.columns import PageSpec
from fastimport.config import StoreConfig
from fastimport.io.fetcher import Fetcher
from fastimport.ranges import ImportRange


@dataclass(frozen=True, slots=True)
class Page:
    """One page of orders as the shop sent it."""

    body: bytes
    number: int
    pass_no: int


@dataclass(frozen=True, slots=True)
class CatalogItem:
    product_id: int
    variation_id: int
    sku: str | None
    name: str | None
    price: str | None
    tax_class: str | None
    manage_stock: bool | None
    stock_quantity: int | None


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: int
    email: str | None
    first_name: str | None
    last_name: str | None


class Connector(Protocol):
    platform: str
    page_spec: PageSpec
    store: StoreConfig

    def pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        """Every page of orders in the range, each order at least once despite page drift."""
        ...

    async def catalog(self, fetcher: Fetcher) -> list[CatalogItem]: ...

    async def customers(self, fetcher: Fetcher) -> list[Customer]: ...


@runtime_checkable
class Adjusting(Protocol):
    """A connector whose parsed columns need a finishing step (called on the parse thread)."""

    def adjust(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        """Return the page's orders and lines with platform specifics resolved; same row order."""
        ...


@runtime_checkable
class PushBack(Protocol):
    """Writes back to the shop; each raises FetchError (or a child) in plain words when refused."""

    async def set_stock(self, fetcher: Fetcher, sku: str, quantity: int) -> None:
        """Set the absolute stock of the article with this SKU."""
        ...

    async def set_status(self, fetcher: Fetcher, order_id: int, status: str) -> None:
        """Move the order to a platform status (a WooCommerce status, Shopify "cancelled" / "closed",
        a PrestaShop order state id)."""
        ...

    async def set_tracking(
        self, fetcher: Fetcher, order_id: int, number: str, company: str | None = None, url: str | None = None
    ) -> None:
        """Attach a parcel tracking number to the order (marks it shipped where the platform does)."""
        ...


def adjuster(connector: Connector) -> Callable[[pa.Table, pa.Table], tuple[pa.Table, pa.Table]]:
    """The connector's finishing step for parsed pages if it has one, else the identity.

    Decided once per run: a runtime Protocol check on every page costs more than the page's columns.
    """
    if isinstance(connector, Adjusting):
        return connector.adjust
    return _unchanged


def _unchanged(orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
    return orders, lines


# platform -> "module:Class"; imported on first use so a store only loads its own platform.
CONNECTORS: dict[str, str] = {
    "woocommerce": "fastimport.io.woocommerce:WooCommerceConnector",
    "shopify": "fastimport.io.shopify:ShopifyConnector",
    "prestashop": "fastimport.io.prestashop:PrestaShopConnector",
}


@dataclass(frozen=True, slots=True)
class Fee:
    name: str | None
    total: str  # excl. VAT, as the shop wrote it
    total_tax: str
    tax_class: str | None = None


@dataclass(frozen=True, slots=True)
class Buyer:
    """What an order's stored payload says about invoicing it beyond the stored columns.

    Read by each platform's mapping module (``BUYERS``), from the raw JSON kept at import:
    the invoicing room never learns a platform's field names.
    """

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    shipping_tax: str | None = None  # None: the shop does not say, derive it from the totals
    fees: tuple[Fee, ...] = ()


# platform -> "module:function" reading a Buyer from one order's raw JSON.
BUYERS: dict[str, str] = {
    "woocommerce": "fastimport.io.woocommerce_spec:buyer",
    "shopify": "fastimport.io.shopify_spec:buyer",
    "prestashop": "fastimport.io.prestashop_spec:buyer",
}


def buyer_of(platform: str, payload: bytes) -> Buyer:
    module_name, _, name = BUYERS[platform].partition(":")
    read: Callable[[bytes], Buyer] = getattr(importlib.import_module(module_name), name)
    return read(payload)


def connector_for(store: StoreConfig, **options: Any) -> Connector:
    target = CONNECTORS.get(store.platform)
    if target is None:
        raise ValueError(f"unknown platform {store.platform!r}")
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    factory: Any = getattr(module, class_name)
    connector: Connector = factory(store, **options)
    return connector


def fetcher_for(store: StoreConfig, http: aiohttp.ClientSession) -> Fetcher:
    """A fetcher with the store's concurrency, retries and timeout; errors name the store."""
    return Fetcher(
        http,
        concurrency=store.concurrency,
        retries=store.retries,
        timeout=store.timeout,
        shop=f"store '{store.name}'",
    )
