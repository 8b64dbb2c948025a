"""The contract every platform connector fulfils, and the registry that picks one.

A connector knows one platform: its URLs, auth, pagination, rate-limit
headers and field mapping.  It never sees DuckDB or a printer.

The contract, in the order an import uses it:

1. ``pages(fetcher, rng)`` plans the range (counts, time windows, offsets, bulk job) and yields
   the shop's pages of orders as bytes, each order at least once despite page drift;
2. ``page_spec`` maps a page to Arrow columns (the parsing core follows it);
3. optionally ``adjust(orders, lines)`` finishes what a field mapping cannot express (PrestaShop's
   shop-local dates to UTC, a status derived from several fields, amounts after refunds), on the
   parsed columns, before the range filter and the dedup; a connector that fetches refunds apart
   also ``recall``s them from the store and hands back those to remember (``Remembering``);
4. ``catalog`` / ``customers`` read the articles and customers for the unknown-article checks;
5. push-backs (:class:`fastimport.io.pushback.PushBack`): stock, status and tracking written
   back to the shop.

Each platform package (``fastimport/io/<platform>/``) holds its connector, and its
:class:`~fastimport.io.platform.Platform` description names it; :mod:`fastimport.io.registry`
builds the one a store needs (``connector_for``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol, runtime_checkable

import aiohttp
import pyarrow as pa

from fastimport.columns import HASH_COLUMN, PageSpec
from fastimport.config import StoreConfig
from fastimport.io.fetcher import Fetcher
from fastimport.ranges import ImportRange


@dataclass(frozen=True, slots=True)
class Page:
    """One page of orders as the shop sent it."""

    body: bytes
    number: int
    pass_no: int
    # The order columns the connector already scanned (ids, dates, raw bytes and their content hashes, read
    # with its page spec's fields), or None: a re-import settles the page on them instead of scanning the
    # bytes a second time (see rescan).
    scan: pa.Table | None = None


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
    page_spec: PageSpec

    @property
    def store(self) -> StoreConfig:
        """The store's configuration (its platform's StoreConfig subclass)."""
        ...

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
class Rehashing(Protocol):
    """A connector that can tell, from a scan of a page (order id, dates, raw JSON and its hash), the content
    hash each order will have once :meth:`Adjusting.adjust` is done; its dates must come out unadjusted."""

    def rehash(self, orders: pa.Table) -> pa.Array | pa.ChunkedArray:
        """The content hashes after ``adjust`` of the scanned page's orders, in their order."""
        ...


@runtime_checkable
class Remembering(Protocol):
    """A connector that fetches part of each order apart (refunds) and reuses, on a re-import, what it fetched
    for an order the shop still lists as it was (:class:`fastimport.io.refund_lines.FetchedRefunds`)."""

    def recall(self, known: pa.Table) -> None:
        """Start the run from what the store remembers (``order_id``, ``listing_hash``, ``refunds``)."""
        ...

    def remembered(self, orders: pa.Table) -> pa.Table | None:
        """What to remember with a batch's orders, stored in the batch's transaction (None: nothing)."""
        ...


@runtime_checkable
class Scanning(Protocol):
    """A connector that scans each page as it arrives (to find its refunds) and hands the page its scan
    (``Page.scan``) for a re-import to settle on.  ``keep_scans`` False when no page will be settled on a
    scan (a first import): the pages it holds ahead then weigh their bodies only, not their scans too."""

    keep_scans: bool


def rehasher(connector: Connector) -> Callable[[pa.Table], pa.Array | pa.ChunkedArray] | None:
    """How to know a scanned page's final content hashes, or None when only the whole parse can say."""
    if isinstance(connector, Rehashing):
        return connector.rehash
    if isinstance(connector, Adjusting):
        return None
    return _hashes


def _hashes(orders: pa.Table) -> pa.ChunkedArray:
    return orders.column(HASH_COLUMN)


def adjuster(connector: Connector) -> Callable[[pa.Table, pa.Table], tuple[pa.Table, pa.Table]]:
    """The connector's finishing step for parsed pages if it has one, else the identity.

    Decided once per run: a runtime Protocol check on every page costs more than the page's columns.
    """
    if isinstance(connector, Adjusting):
        return connector.adjust
    return _unchanged


def _unchanged(orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
    return orders, lines


@dataclass(frozen=True, slots=True)
class Fee:
    name: str | None
    total: str  # excl. VAT, as the shop wrote it
    total_tax: str
    tax_class: str | None = None


@dataclass(frozen=True, slots=True)
class Buyer:
    """What an order's stored payload says about invoicing it beyond the stored columns.

    Read by each platform's ``Platform.buyer`` from the raw JSON kept at import:
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
    vat_number: str | None = None  # a business buyer's intra-EU VAT number (Factur-X)
    siren: str | None = None  # a French business buyer's SIREN (Factur-X)
    shipping_tax: str | None = None  # None: the shop does not say, derive it from the totals
    fees: tuple[Fee, ...] = ()
    ship_first_name: str | None = None  # the recipient's first name (the stored ship_name is the last name)
    # Refunds the shop made that the order's lines do not show (all taxes included): what the till
    # invoices is net of them (an invoice states what is due); ``refunds_in_total`` says whether the
    # order's stored total still includes them (WooCommerce) or already left them out (Shopify).
    refunded: str | None = None
    refunds_in_total: bool = False


# Each field's slot setter, in field order (see buyer_from).
_BUYER_SETTERS = tuple(getattr(Buyer, f.name).__set__ for f in fields(Buyer))


def buyer_from(values: tuple[Any, ...]) -> Buyer:
    """``Buyer(*values)`` (every field, in order), the same frozen Buyer, its slots set directly: the
    frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, 4.4 µs a buyer, half
    of reading one from an order in an invoice batch (this: 1.6 µs)."""
    buyer = object.__new__(Buyer)
    for set_field, value in zip(_BUYER_SETTERS, values, strict=True):
        set_field(buyer, value)
    return buyer


@dataclass(frozen=True, slots=True)
class RefundLine:
    """Part of a refund tied to one order line (the shop's line id), all taxes included."""

    line_id: int
    quantity: int
    amount: str


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund the shop made on an order (positive ``amount``, all taxes included)."""

    refund_id: int
    amount: str
    reason: str | None = None
    lines: tuple[RefundLine, ...] = ()


def fetcher_for(store: StoreConfig, http: aiohttp.ClientSession) -> Fetcher:
    """A fetcher with the store's concurrency, retries and timeout; errors name the store."""
    return Fetcher(
        http,
        concurrency=store.concurrency,
        retries=store.retries,
        timeout=store.timeout,
        shop=f"store '{store.name}'",
    )
