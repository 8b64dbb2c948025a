"""Shopify Admin REST (versioned path): pacing under the leaky bucket, time-window fan-out, push-backs.

Pacing: Shopify's REST limiter is a leaky bucket per app and shop (Standard plan: 40 calls, 2 leak
per second); every answer says ``X-Shopify-Shop-Api-Call-Limit: used/size``.  The connector keeps
its own model of the bucket, waits before a call that would overflow it (keeping a margin of two
calls for other clients of the same app), and re-reads the level from every answer, so it runs at
the leak rate instead of bouncing off 429s.  The leak rate is taken as size/20, Shopify's ratio on
every plan (40/2, 80/4, 400/20).

Fan-out: cursor pagination (``Link`` + ``page_info``) is sequential, so the range is split into
time windows, sized from ``orders/count.json``, each paged on its own cursor, all within the bucket.
A cursor is keyset pagination: orders created or deleted meanwhile never shift what is read.

Ranges beyond ``BULK_ABOVE`` orders go to a GraphQL bulk operation (``shopify_bulk``), unless the
store's ``mode`` forces ``rest`` or ``bulk``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pyarrow as pa

from fastimport.columns import HASH_COLUMN
from fastimport.errors import AuthError, FetchError, TransientFetchError
from fastimport.io.connector import CatalogItem, Customer, Page
from fastimport.io.fetcher import Fetcher, Request, Response
from fastimport.io.shopify.config import ShopifyStore
from fastimport.io.shopify.spec import SHOPIFY_PAGE, adjust_shopify
from fastimport.ranges import ImportRange

CALL_LIMIT = "X-Shopify-Shop-Api-Call-Limit"
BULK_ABOVE = 25_000  # orders: beyond this a range goes to a bulk operation in "auto" mode
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_PAGE_INFO = re.compile(r"[?&]page_info=([^&>]+)")


class BucketPacer:
    """A client-side model of Shopify's leaky bucket: ``acquire`` before each call."""

    def __init__(self, size: int = 40, margin: int = 2) -> None:
        self.size = size
        self.leak = size / 20
        self.margin = margin
        self.level = 0.0
        self.at = time.monotonic()
        self.waited = 0.0
        self.calls = 0

    def _drain(self) -> None:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.at) * self.leak)
        self.at = now

    async def acquire(self) -> None:
        while True:
            self._drain()
            room = self.size - self.margin
            if self.level + 1 <= room:
                self.level += 1
                self.calls += 1
                return
            delay = (self.level + 1 - room) / self.leak
            self.waited += delay
            await asyncio.sleep(delay)

    def observe(self, header: str | None) -> None:
        """Take the shop's word for the level when it says the bucket is fuller than we think."""
        if not header:
            return
        used_text, _, size_text = header.partition("/")
        try:
            used, size = int(used_text), int(size_text)
        except ValueError:
            return
        if size > 0 and size != self.size:
            self.size, self.leak = size, size / 20
        self._drain()
        self.level = max(self.level, float(used))

    def full(self) -> None:
        self._drain()
        self.level = float(self.size)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ShopifyConnector:
    platform = "shopify"
    page_spec = SHOPIFY_PAGE

    def __init__(self, store: ShopifyStore, pacer: BucketPacer | None = None) -> None:
        self.store = store
        self.token = store.secret("token_env")
        self.api = f"{store.url}/admin/api/{store.api_version}"
        self.pacer = pacer or BucketPacer()
        self.mode_used = "rest"
        self._inventory: dict[str, int] | None = None

    # -- requests ---------------------------------------------------------------------------

    def request(
        self, path: str, params: Iterable[tuple[str, str]] = (), tag: Any = None, body: Any = None
    ) -> Request:
        headers = [("X-Shopify-Access-Token", self.token), ("Accept", "application/json")]
        data = None
        method = "GET"
        if body is not None:
            method = "POST"
            headers.append(("Content-Type", "application/json"))
            data = orjson.dumps(body)
        url = path if path.startswith("http") else self.api + path
        return Request(method, url, tuple(params), tuple(headers), data, tag=tag)

    async def call(self, fetcher: Fetcher, request: Request) -> Response:
        """One paced call: wait for room in the bucket, send, learn the level from the answer."""
        await self.pacer.acquire()
        try:
            response = await fetcher.fetch(request, self.check)
        except TransientFetchError:
            self.pacer.full()
            raise
        return response

    def check(self, response: Response) -> None:
        self.pacer.observe(response.headers.get(CALL_LIMIT))
        status = response.status
        where = f"store '{self.store.name}'"
        if status in (401, 403):
            raise AuthError(
                f"{where}: Shopify refused the access token ({_errors(response)}); check the token in "
                f"{self.store.token_env} and that the app has the read_orders scope",
                store=self.store.name,
                status=status,
            )
        if status == 404 and response.request.url.endswith(("/orders.json", "/orders/count.json")):
            raise FetchError(
                f"{where}: no Shopify Admin API at {self.api} (HTTP 404): check the url "
                f"(https://<shop>.myshopify.com) and api_version '{self.store.api_version}'",
                store=self.store.name,
                status=status,
            )
        if status == 402:
            raise FetchError(
                f"{where}: the Shopify shop is frozen (HTTP 402 Payment Required)", status=status
            )
        if status >= 400:
            raise FetchError(
                f"{where}: Shopify refused the request (HTTP {status}: {_errors(response)})",
                store=self.store.name,
                status=status,
            )
        ctype = response.headers.get("Content-Type", "")
        if "json" not in ctype or status not in (200, 201):
            raise TransientFetchError(
                f"{where}: Shopify answered HTTP {status} with {ctype or 'no content type'} instead of JSON",
                store=self.store.name,
            )
        body = response.body.strip()
        if not (body.startswith(b"{") and body.endswith(b"}")):
            raise TransientFetchError(f"{where}: Shopify sent a truncated answer", store=self.store.name)

    # -- planning ---------------------------------------------------------------------------

    def _filters(self, lo: dt.datetime, hi: dt.datetime, field: str) -> list[tuple[str, str]]:
        name = "created_at" if field == "created" else "updated_at"
        return [("status", "any"), (f"{name}_min", iso(lo)), (f"{name}_max", iso(hi))]

    async def count(self, fetcher: Fetcher, lo: dt.datetime, hi: dt.datetime, field: str) -> int:
        response = await self.call(fetcher, self.request("/orders/count.json", self._filters(lo, hi, field)))
        return int(orjson.loads(response.body)["count"])

    def windows(self, rng: ImportRange, count: int) -> list[tuple[dt.datetime, dt.datetime]]:
        """Split the range into time windows: enough for the fan-out, none smaller than a second.

        Bounds are inclusive on Shopify: window k is [t_k, t_{k+1} - 1 s]; the last one ends at the
        range's end (the importer keeps exactly [start, end) of what comes back).
        """
        pages = max(1, math.ceil(count / self.store.per_page))
        start = rng.start.astimezone(dt.UTC).replace(microsecond=0)
        seconds = max(1, int((rng.end - start).total_seconds()))
        n = max(1, min(pages, self.store.concurrency * 2, seconds))
        step = seconds / n
        edges = [start + dt.timedelta(seconds=round(k * step)) for k in range(n)] + [rng.end]
        out = []
        for k in range(n):
            hi = edges[k + 1] if k == n - 1 else edges[k + 1] - dt.timedelta(seconds=1)
            out.append((edges[k], hi))
        return out

    # -- pagination -------------------------------------------------------------------------

    async def pages(self, fetcher: Fetcher, rng: ImportRange) -> AsyncIterator[Page]:
        total = await self.count(fetcher, rng.start, rng.end, rng.field)
        mode = self.store.mode
        if mode == "bulk" or (mode == "auto" and total > BULK_ABOVE):
            from fastimport.io.shopify.bulk import bulk_pages

            self.mode_used = "bulk"
            async for page in bulk_pages(self, fetcher, rng):
                yield page
            return
        if total == 0:
            return
        queue: asyncio.Queue[Page | BaseException | None] = asyncio.Queue(maxsize=self.store.concurrency * 2)
        windows = self.windows(rng, total)
        counter = iter(range(1, 1 << 62))

        async def walk(lo: dt.datetime, hi: dt.datetime) -> None:
            params: list[tuple[str, str]] = [
                *self._filters(lo, hi, rng.field),
                ("limit", str(self.store.per_page)),
            ]
            request = self.request("/orders.json", params)
            while True:
                response = await self.call(fetcher, request)
                await queue.put(Page(response.body, next(counter), 1))
                cursor = next_page_info(response.headers.get("Link"))
                if cursor is None:
                    return
                request = self.request(
                    "/orders.json", [("limit", str(self.store.per_page)), ("page_info", cursor)]
                )

        async def run(lo: dt.datetime, hi: dt.datetime) -> None:
            try:
                await walk(lo, hi)
            except BaseException as exc:  # handed to the consumer, which raises it
                await queue.put(exc)
                raise
            await queue.put(None)

        # Enough windows in flight to keep the bucket busy; each one's pages come one after the other.
        limit = asyncio.Semaphore(self.store.concurrency)

        async def bounded(lo: dt.datetime, hi: dt.datetime) -> None:
            async with limit:
                await run(lo, hi)

        tasks = [asyncio.ensure_future(bounded(lo, hi)) for lo, hi in windows]
        done = 0
        try:
            while done < len(tasks):
                item = await queue.get()
                if item is None:
                    done += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def adjust(self, orders: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
        return adjust_shopify(orders, lines)

    def rehash(self, orders: pa.Table) -> pa.ChunkedArray:
        return orders.column(HASH_COLUMN)  # adjust leaves the raw JSON and the dates as they are

    # -- catalogue --------------------------------------------------------------------------

    async def _all(self, fetcher: Fetcher, path: str, key: str) -> list[Any]:
        items: list[Any] = []
        request = self.request(path, [("limit", "250")])
        while True:
            response = await self.call(fetcher, request)
            items.extend(orjson.loads(response.body)[key])
            match = _NEXT.search(response.headers.get("Link", ""))
            if match is None:
                return items
            request = self.request(match.group(1))

    async def catalog(self, fetcher: Fetcher) -> list[CatalogItem]:
        items = []
        inventory: dict[str, int] = {}
        for p in await self._all(fetcher, "/products.json", "products"):
            for v in p.get("variants", []):
                if v.get("sku"):
                    inventory[v["sku"]] = int(v["inventory_item_id"])
                items.append(
                    CatalogItem(
                        product_id=int(p["id"]),
                        variation_id=int(v["id"]),
                        sku=v.get("sku") or None,
                        name=p["title"]
                        if v.get("title") == "Default Title"
                        else f"{p['title']} - {v['title']}",
                        price=v.get("price"),
                        tax_class=None,
                        manage_stock=v.get("inventory_management") == "shopify"
                        if "inventory_management" in v
                        else None,
                        stock_quantity=v.get("inventory_quantity"),
                    )
                )
        self._inventory = inventory
        return items

    async def customers(self, fetcher: Fetcher) -> list[Customer]:
        rows = await self._all(fetcher, "/customers.json", "customers")
        return [Customer(int(c["id"]), c.get("email"), c.get("first_name"), c.get("last_name")) for c in rows]

    # -- push-backs -------------------------------------------------------------------------

    async def _post(self, fetcher: Fetcher, path: str, body: Any) -> Any:
        return orjson.loads((await self.call(fetcher, self.request(path, body=body))).body)

    async def set_stock(self, fetcher: Fetcher, sku: str, quantity: int) -> None:
        """SKU -> variant -> inventory item, at the shop's (first active) location."""
        if self._inventory is None or sku not in self._inventory:
            await self.catalog(fetcher)
        assert self._inventory is not None
        item = self._inventory.get(sku)
        if item is None:
            raise FetchError(f"store '{self.store.name}': no Shopify variant has the SKU {sku!r}", sku=sku)
        locations = orjson.loads((await self.call(fetcher, self.request("/locations.json"))).body)[
            "locations"
        ]
        active = [loc for loc in locations if loc.get("active")]
        if not active:
            raise FetchError(f"store '{self.store.name}': the Shopify shop has no active location")
        await self._post(
            fetcher,
            "/inventory_levels/set.json",
            {"location_id": active[0]["id"], "inventory_item_id": item, "available": quantity},
        )

    async def set_status(self, fetcher: Fetcher, order_id: int, status: str) -> None:
        actions = {"cancelled": "cancel", "closed": "close", "completed": "close"}
        if status not in actions:
            raise FetchError(
                f"store '{self.store.name}': Shopify orders can be set to cancelled or closed, not {status!r}"
            )
        await self._post(fetcher, f"/orders/{order_id}/{actions[status]}.json", {})

    async def set_tracking(
        self, fetcher: Fetcher, order_id: int, number: str, company: str | None = None, url: str | None = None
    ) -> None:
        """Fulfil the order's open fulfillment orders with the tracking number."""
        response = await self.call(fetcher, self.request(f"/orders/{order_id}/fulfillment_orders.json"))
        open_orders = [
            fo for fo in orjson.loads(response.body)["fulfillment_orders"] if fo["status"] == "open"
        ]
        if not open_orders:
            raise FetchError(
                f"store '{self.store.name}': order {order_id} has nothing left to fulfil on Shopify",
                order_id=order_id,
            )
        info: dict[str, str] = {"number": number}
        if company:
            info["company"] = company
        if url:
            info["url"] = url
        await self._post(
            fetcher,
            "/fulfillments.json",
            {
                "fulfillment": {
                    "line_items_by_fulfillment_order": [
                        {"fulfillment_order_id": fo["id"]} for fo in open_orders
                    ],
                    "tracking_info": info,
                    "notify_customer": False,
                }
            },
        )


def next_page_info(link: str | None) -> str | None:
    if not link:
        return None
    match = _NEXT.search(link)
    if match is None:
        return None
    cursor = _PAGE_INFO.search(match.group(1))
    return cursor.group(1) if cursor else None


def _errors(response: Response) -> str:
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return "no details"
    if isinstance(body, dict) and body.get("errors"):
        return str(body["errors"])
    return "no details"
