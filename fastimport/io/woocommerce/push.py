"""Push-back to WooCommerce: order status, tracking note, stock levels.

- status: ``PUT /orders/{id}`` with ``{"status": ...}``;
- tracking: ``POST /orders/{id}/notes`` (core WooCommerce has no tracking field; a customer note is seen
  and e-mailed by the buyer); a shipment adds its note and moves the order to "completed";
- stock: ``POST /products/batch`` (simple products) and ``POST /products/{parent}/variations/batch``
  (variations), at most 100 updates per call; each item's answer says whether the shop accepted it.
  This is the optional :class:`~fastimport.io.pushback.BatchStock` capability; ``set_stock`` by SKU
  finds the article in the catalogue and sends a batch of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

import orjson

from fastimport.errors import FetchError
from fastimport.io.echo import same_but, without
from fastimport.io.fetcher import Fetcher, Response
from fastimport.io.pushback import OrderNews, StockAnswer, StockLevel
from fastimport.io.refund_lines import FETCHED_REFUNDS_KEY
from fastimport.io.woocommerce.config import SHIPPED_STATUS, WooCommerceStore
from fastimport.io.woocommerce.connector import WooCommerceConnector

BATCH_LIMIT = 100
# What each step of the till sets by default ("" : no status change, the note only).  Core
# WooCommerce has no "in preparation" status; a shop with one sets [stores.push_statuses] prepared.
STEP_STATUSES = {"prepared": "", "invoiced": "", "shipped": SHIPPED_STATUS, "refunded": "refunded",
                 "partially_refunded": ""}  # fmt: skip
INVOICE_META_KEY = "_fastimport_invoice_number"
_CLOSED = frozenset({"cancelled", "refunded", "failed", "trash"})


class _Article(Protocol):
    @property
    def product_id(self) -> int: ...
    @property
    def variation_id(self) -> int: ...


A = TypeVar("A", bound=_Article)


def batches(updates: Sequence[A]) -> list[tuple[str, list[A]]]:
    """(endpoint path, ≤100 updates) per call: simple products together, variations per parent."""
    simple = [u for u in updates if u.variation_id == 0]
    by_parent: dict[int, list[A]] = {}
    for u in updates:
        if u.variation_id:
            by_parent.setdefault(u.product_id, []).append(u)
    out = [("/products/batch", simple[i : i + BATCH_LIMIT]) for i in range(0, len(simple), BATCH_LIMIT)]
    for parent, items in sorted(by_parent.items()):
        path = f"/products/{parent}/variations/batch"
        out += [(path, items[i : i + BATCH_LIMIT]) for i in range(0, len(items), BATCH_LIMIT)]
    return out


class WooCommercePush:
    """PushBack, BatchStock, ShipmentNotice and OrderNewsTeller for one WooCommerce store."""

    def __init__(self, store: WooCommerceStore) -> None:
        self.store = store
        self.connector = WooCommerceConnector(store)

    async def _write(self, fetcher: Fetcher, method: str, path: str, body: Any) -> Any:
        response: Response = await fetcher.fetch(
            self.connector.write_request(method, path, body), self._check
        )
        return orjson.loads(response.body)

    def _check(self, response: Response) -> None:
        """A write answers 200 or 201 (created, for notes) with JSON; anything else is judged like a read."""
        if response.status in (200, 201) and "json" in response.headers.get("Content-Type", ""):
            return
        self.connector.check(response)

    async def set_status(self, fetcher: Fetcher, order_id: int, status: str) -> None:
        await self._write(fetcher, "PUT", f"/orders/{order_id}", {"status": status})

    async def add_note(self, fetcher: Fetcher, order_id: int, note: str, customer_note: bool = True) -> int:
        answer = await self._write(
            fetcher, "POST", f"/orders/{order_id}/notes", {"note": note, "customer_note": customer_note}
        )
        return int(answer.get("id", 0)) if isinstance(answer, dict) else 0

    async def set_tracking(
        self, fetcher: Fetcher, order_id: int, number: str, company: str | None = None, url: str | None = None
    ) -> None:
        words = (
            f"Numéro de suivi {number}" + (f" ({company})" if company else "") + (f" : {url}" if url else "")
        )
        await self.add_note(fetcher, order_id, words + ".")

    async def notify_shipped(
        self, fetcher: Fetcher, order_id: int, *, carrier: str, tracking: str | None, message: str
    ) -> None:
        await self.add_note(fetcher, order_id, message)
        await self.set_status(fetcher, order_id, SHIPPED_STATUS)

    async def tell(self, fetcher: Fetcher, news: OrderNews) -> str | None:
        """A note (for the buyer, except the private one of the preparation), the step's status, and
        on invoicing the till's number in the order's meta (``_fastimport_invoice_number``)."""
        status = STEP_STATUSES.get(news.step, "") if news.status is None else news.status
        if news.shop_status in _CLOSED:
            status = ""  # never reopen an order the shop closed
        body: dict[str, Any] = {"status": status} if status else {}
        if news.step == "invoiced" and news.invoice_number:
            body["meta_data"] = [{"key": INVOICE_META_KEY, "value": news.invoice_number}]
        if news.note:
            await self.add_note(fetcher, news.order_id, news.note, customer_note=news.step != "prepared")
        if body:
            await self._write(fetcher, "PUT", f"/orders/{news.order_id}", body)
        return status or None

    async def set_stock(self, fetcher: Fetcher, sku: str, quantity: int) -> None:
        for item in await self.connector.catalog(fetcher):
            if item.sku == sku:
                level = StockLevel(item.product_id, item.variation_id, sku, quantity)
                (answer,) = await self.set_stock_batch(fetcher, [level])
                if not answer.accepted:
                    raise FetchError(f"store '{self.store.name}': {answer.error}", sku=sku)
                return
        raise FetchError(f"store '{self.store.name}': no WooCommerce product has the SKU {sku!r}", sku=sku)

    async def set_stock_batch(self, fetcher: Fetcher, levels: Sequence[StockLevel]) -> list[StockAnswer]:
        results: list[StockAnswer] = []
        for path, items in batches(levels):
            body = {
                "update": [
                    {"id": u.variation_id or u.product_id, "manage_stock": True, "stock_quantity": u.level}
                    for u in items
                ]
            }
            try:
                answer = await self._write(fetcher, "POST", path, body)
            except FetchError as exc:
                results += [StockAnswer(u, False, exc.message) for u in items]
                continue
            results += _match(items, answer.get("update", []) if isinstance(answer, dict) else [])
        return results


# What a push changes on a WooCommerce order: its status (and the dates that follow it), the invoice
# number's meta; moved to "refunded", the shop also records a refund of what was left.
_PUSHED_KEYS = frozenset({"status", "date_modified", "date_modified_gmt", "date_completed", "date_completed_gmt",
                          "date_paid", "date_paid_gmt"})  # fmt: skip
_REFUND_KEYS = frozenset({"refunds", FETCHED_REFUNDS_KEY})


def till_echo(last: bytes, new: bytes, statuses: frozenset[str]) -> bool:
    """Whether ``new`` differs from ``last`` only in what the till's pushes set (:mod:`fastimport.io.echo`)."""
    keys = _PUSHED_KEYS | (_REFUND_KEYS if "refunded" in statuses else frozenset())

    def drop(order: dict[str, Any]) -> dict[str, Any]:
        out = without(order, keys)
        out["meta_data"] = [
            {"key": m.get("key"), "value": m.get("value")}
            for m in order.get("meta_data") or ()
            if isinstance(m, dict) and m.get("key") != INVOICE_META_KEY
        ]
        return out

    return same_but(last, new, drop)


def _match(items: Iterable[StockLevel], answers: list[Any]) -> list[StockAnswer]:
    """Pair each update with the shop's per-item answer (by id): accepted when it echoes the level."""
    by_id: dict[int, Any] = {}
    for a in answers:
        if isinstance(a, dict) and a.get("id") is not None:
            by_id.setdefault(int(a["id"]), a)
    out = []
    for u in items:
        a = by_id.get(u.variation_id or u.product_id)
        if a is None:
            out.append(StockAnswer(u, False, "the shop did not answer for this article"))
        elif "error" in a:
            err = a["error"] if isinstance(a["error"], dict) else {}
            out.append(StockAnswer(u, False, str(err.get("message") or a["error"])))
        elif a.get("stock_quantity") != u.level:
            out.append(StockAnswer(u, False, f"the shop kept {a.get('stock_quantity')} instead of {u.level}"))
        else:
            out.append(StockAnswer(u, True, None))
    return out
