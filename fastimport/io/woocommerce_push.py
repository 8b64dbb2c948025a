"""Push-back to WooCommerce: order status, tracking note, stock levels.

- status: ``PUT /orders/{id}`` with ``{"status": ...}``;
- tracking: ``POST /orders/{id}/notes`` (core WooCommerce has no tracking field; a customer note is seen
  and e-mailed by the buyer);
- stock: ``POST /products/batch`` (simple products) and ``POST /products/{parent}/variations/batch``
  (variations), at most 100 updates per call; each item's answer says whether the shop accepted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from fastimport.config import StoreConfig
from fastimport.errors import FetchError
from fastimport.io.fetcher import Fetcher, Response
from fastimport.io.woocommerce import WooCommerceConnector

BATCH_LIMIT = 100


@dataclass(frozen=True, slots=True)
class StockUpdate:
    product_id: int
    variation_id: int
    level: int


@dataclass(frozen=True, slots=True)
class StockResult:
    update: StockUpdate
    accepted: bool
    error: str | None


def batches(updates: Sequence[StockUpdate]) -> list[tuple[str, list[StockUpdate]]]:
    """(endpoint path, ≤100 updates) per call: simple products together, variations per parent."""
    simple = [u for u in updates if u.variation_id == 0]
    by_parent: dict[int, list[StockUpdate]] = {}
    for u in updates:
        if u.variation_id:
            by_parent.setdefault(u.product_id, []).append(u)
    out = [("/products/batch", simple[i : i + BATCH_LIMIT]) for i in range(0, len(simple), BATCH_LIMIT)]
    for parent, items in sorted(by_parent.items()):
        path = f"/products/{parent}/variations/batch"
        out += [(path, items[i : i + BATCH_LIMIT]) for i in range(0, len(items), BATCH_LIMIT)]
    return out


class WooCommercePush:
    def __init__(self, store: StoreConfig, fetcher: Fetcher) -> None:
        self.store = store
        self.connector = WooCommerceConnector(store)
        self.fetcher = fetcher

    async def _write(self, method: str, path: str, body: Any) -> Any:
        response: Response = await self.fetcher.fetch(
            self.connector.write_request(method, path, body), self._check
        )
        return orjson.loads(response.body)

    def _check(self, response: Response) -> None:
        """A write answers 200 or 201 (created, for notes) with JSON; anything else is judged like a read."""
        if response.status in (200, 201) and "json" in response.headers.get("Content-Type", ""):
            return
        self.connector.check(response)

    async def set_status(self, order_id: int, status: str) -> None:
        await self._write("PUT", f"/orders/{order_id}", {"status": status})

    async def add_note(self, order_id: int, note: str, customer_note: bool = True) -> int:
        answer = await self._write(
            "POST", f"/orders/{order_id}/notes", {"note": note, "customer_note": customer_note}
        )
        return int(answer.get("id", 0)) if isinstance(answer, dict) else 0

    async def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockResult]:
        results: list[StockResult] = []
        for path, items in batches(updates):
            body = {
                "update": [
                    {"id": u.variation_id or u.product_id, "manage_stock": True, "stock_quantity": u.level}
                    for u in items
                ]
            }
            try:
                answer = await self._write("POST", path, body)
            except FetchError as exc:
                results += [StockResult(u, False, exc.message) for u in items]
                continue
            results += _match(items, answer.get("update", []) if isinstance(answer, dict) else [])
        return results


def _match(items: Iterable[StockUpdate], answers: list[Any]) -> list[StockResult]:
    """Pair each update with the shop's per-item answer (by id): accepted when it echoes the level."""
    by_id: dict[int, Any] = {}
    for a in answers:
        if isinstance(a, dict) and a.get("id") is not None:
            by_id.setdefault(int(a["id"]), a)
    out = []
    for u in items:
        a = by_id.get(u.variation_id or u.product_id)
        if a is None:
            out.append(StockResult(u, False, "the shop did not answer for this article"))
        elif "error" in a:
            err = a["error"] if isinstance(a["error"], dict) else {}
            out.append(StockResult(u, False, str(err.get("message") or a["error"])))
        elif a.get("stock_quantity") != u.level:
            out.append(StockResult(u, False, f"the shop kept {a.get('stock_quantity')} instead of {u.level}"))
        else:
            out.append(StockResult(u, True, None))
    return out


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()
