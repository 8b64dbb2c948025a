"""The contract every platform connector fulfils, and the registry that picks one.

A connector knows one platform: its URLs, auth, pagination, rate-limit
headers and field mapping.  It never sees DuckDB or a printer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

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


def connector_for(store: StoreConfig, **options: Any) -> Connector:
    if store.platform == "woocommerce":
        from fastimport.io.woocommerce import WooCommerceConnector

        return WooCommerceConnector(store, **options)
    raise ValueError(f"unknown platform {store.platform!r}")
