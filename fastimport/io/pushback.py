"""Writing back to the shop: the contract every platform fulfils, and two optional capabilities.

The contract (:class:`PushBack`) is one call per article or order.  A platform that can do
better offers a capability the caller discovers with ``isinstance``:

- :class:`BatchStock`: many stock levels in few calls (WooCommerce's ``/products/batch``);
- :class:`ShipmentNotice`: its own way of telling the buyer an order left (WooCommerce: a
  customer note and the "completed" status), instead of a tracking number alone;
- :class:`OrderNewsTeller`: the shop hears back at each step of the till (slip, invoice, shipment,
  credit note, see :class:`OrderNews`) in the platform's own means (statuses, notes, the invoice
  number on the order, tags).  :func:`tell` falls back on ``set_status`` and ``set_tracking``.

:func:`push_stock` and :func:`notify_shipped` pick the best a platform offers, so processing
never needs to know which platform it writes to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import aiohttp

from fastimport.errors import FetchError
from fastimport.io.fetcher import Fetcher


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


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One article's new absolute level, known by the shop's ids and its SKU."""

    product_id: int
    variation_id: int
    sku: str | None
    level: int


@dataclass(frozen=True, slots=True)
class StockAnswer:
    item: StockLevel
    accepted: bool
    error: str | None


@runtime_checkable
class BatchStock(Protocol):
    """Optional: set many stock levels at once; one answer per level, in any order."""

    async def set_stock_batch(self, fetcher: Fetcher, levels: Sequence[StockLevel]) -> list[StockAnswer]: ...


@runtime_checkable
class ShipmentNotice(Protocol):
    """Optional: the platform's own way of marking an order shipped and telling its buyer.

    ``message`` is written for the buyer (carrier, tracking, delivery note number).
    """

    async def notify_shipped(
        self, fetcher: Fetcher, order_id: int, *, carrier: str, tracking: str | None, message: str
    ) -> None: ...


async def push_stock(pusher: PushBack, fetcher: Fetcher, levels: Sequence[StockLevel]) -> list[StockAnswer]:
    """Every level pushed: in batches where the platform offers them, else one call per SKU."""
    if isinstance(pusher, BatchStock):
        return await pusher.set_stock_batch(fetcher, levels)
    answers: list[StockAnswer] = []
    for item in levels:
        if not item.sku:
            answers.append(
                StockAnswer(item, False, "the article has no SKU, which this platform needs to find it")
            )
            continue
        try:
            await pusher.set_stock(fetcher, item.sku, item.level)
            answers.append(StockAnswer(item, True, None))
        except FetchError as exc:
            answers.append(StockAnswer(item, False, exc.message))
    return answers


async def notify_shipped(
    pusher: PushBack, fetcher: Fetcher, order_id: int, *, carrier: str, tracking: str | None, message: str
) -> None:
    """Tell the shop the order left: its own notice where it has one, else the tracking number."""
    if isinstance(pusher, ShipmentNotice):
        await pusher.notify_shipped(fetcher, order_id, carrier=carrier, tracking=tracking, message=message)
    elif tracking:
        await pusher.set_tracking(fetcher, order_id, tracking, company=carrier)


# The steps the shop hears about, in the order they happen.
STEPS: tuple[str, ...] = ("prepared", "invoiced", "shipped", "refunded", "partially_refunded")


@dataclass(frozen=True, slots=True)
class OrderNews:
    """One step of the till to tell the shop about.

    ``status`` is the store's mapping for the step (``[stores.push_statuses]``): None for the
    platform's default, "" for no status change.  ``note`` is written for the buyer, in French.
    """

    step: str
    order_id: int
    document: str | None = None  # the till's document number (invoice, credit note, delivery note)
    status: str | None = None
    note: str | None = None
    invoice_number: str | None = None
    carrier: str | None = None
    tracking: str | None = None
    shop_status: str | None = None  # the order's status as the till last read it


@runtime_checkable
class OrderNewsTeller(Protocol):
    """Optional: tell the shop about one step; returns the order status the shop will now report
    as the till stores it (so the next import does not take the till's own write for a change on the
    shop), or None when the step changes no status."""

    async def tell(self, fetcher: Fetcher, news: OrderNews) -> str | None: ...


async def tell(pusher: PushBack, fetcher: Fetcher, news: OrderNews) -> str | None:
    """Tell the shop about ``news`` the best way its platform offers."""
    if isinstance(pusher, OrderNewsTeller):
        return await pusher.tell(fetcher, news)
    if news.step == "shipped":
        await notify_shipped(
            pusher, fetcher, news.order_id, carrier=news.carrier or "", tracking=news.tracking,
            message=news.note or "",
        )  # fmt: skip
    if news.status:
        await pusher.set_status(fetcher, news.order_id, news.status)
        return news.status
    return None


def session() -> aiohttp.ClientSession:
    """The HTTP session of one push-back run."""
    return aiohttp.ClientSession()
