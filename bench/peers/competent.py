"""The straightforward script a competent engineer writes in an afternoon.

aiohttp with 16 requests in flight, ``orjson.loads`` per page, columns gathered in Python
lists, one Arrow table per batch of 10,000 orders, and one DuckDB upsert per table per batch
(``INSERT OR REPLACE`` on the primary key), with the raw JSON of each order kept (as fastimport
does). Like fastimport, it reads the refund lines of the orders that list partial refunds
(``/orders/<id>/refunds``: WooCommerce's listing carries no refund line, and an invoice needs them),
so both store the same information. No compiled code of its own, no tricks: the peer fastimport
must stay well ahead of.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import duckdb
import orjson
import pyarrow as pa

from bench.job import Job
from bench.shop import basic_auth

BATCH = 10_000
ORDERS_DDL = """CREATE TABLE IF NOT EXISTS orders (
    id BIGINT PRIMARY KEY, number VARCHAR, status VARCHAR, currency VARCHAR,
    created_at TIMESTAMP, modified_at TIMESTAMP, paid_at TIMESTAMP,
    total DECIMAL(18,2), total_tax DECIMAL(18,2), shipping_total DECIMAL(18,2), discount_total DECIMAL(18,2),
    customer_id BIGINT, email VARCHAR, first_name VARCHAR, last_name VARCHAR, city VARCHAR, country VARCHAR,
    payment_method VARCHAR, raw BLOB)"""
LINES_DDL = """CREATE TABLE IF NOT EXISTS lines (
    order_id BIGINT, line_id BIGINT, product_id BIGINT, variation_id BIGINT, sku VARCHAR, name VARCHAR,
    quantity INTEGER, price DECIMAL(18,2), subtotal DECIMAL(18,2), total DECIMAL(18,2),
    total_tax DECIMAL(18,2), PRIMARY KEY (order_id, line_id))"""
ORDER_FIELDS = ("id", "number", "status", "currency", "date_created_gmt", "date_modified_gmt", "date_paid_gmt",
                "total", "total_tax", "shipping_total", "discount_total", "customer_id")  # fmt: skip
LINE_FIELDS = ("id", "product_id", "variation_id", "sku", "name", "quantity", "price", "subtotal", "total",
               "total_tax")  # fmt: skip


class Batch:
    def __init__(self) -> None:
        self.orders: dict[str, list[Any]] = {k: [] for k in (*ORDER_FIELDS, "email", "first_name", "last_name",
                                                              "city", "country", "payment_method", "raw")}  # fmt: skip
        self.lines: dict[str, list[Any]] = {k: [] for k in ("order_id", *LINE_FIELDS)}
        self.n = 0

    def add(self, page: list[dict[str, Any]]) -> None:
        o_cols, l_cols = self.orders, self.lines
        for o in page:
            for k in ORDER_FIELDS:
                o_cols[k].append(o.get(k))
            billing, shipping = o.get("billing") or {}, o.get("shipping") or {}
            o_cols["email"].append(billing.get("email"))
            o_cols["first_name"].append(billing.get("first_name"))
            o_cols["last_name"].append(billing.get("last_name"))
            o_cols["city"].append(shipping.get("city"))
            o_cols["country"].append(shipping.get("country"))
            o_cols["payment_method"].append(o.get("payment_method"))
            o_cols["raw"].append(orjson.dumps(o))
            for li in o.get("line_items") or []:
                l_cols["order_id"].append(o["id"])
                for k in LINE_FIELDS:
                    l_cols[k].append(li.get(k))
        self.n += len(page)


def _store(con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    orders = pa.table({k: pa.array(v) for k, v in batch.orders.items()})
    lines = pa.table({k: pa.array(v) for k, v in batch.lines.items()})
    con.register("o", orders)
    con.register("l", lines)
    con.execute("BEGIN")
    con.execute(
        "INSERT OR REPLACE INTO orders SELECT id, number, status, currency, date_created_gmt::TIMESTAMP, "
        "date_modified_gmt::TIMESTAMP, date_paid_gmt::TIMESTAMP, total::DECIMAL(18,2), total_tax::DECIMAL(18,2), "
        "shipping_total::DECIMAL(18,2), discount_total::DECIMAL(18,2), customer_id, email, first_name, last_name, "
        "city, country, payment_method, raw FROM o"
    )
    con.execute(
        "INSERT OR REPLACE INTO lines SELECT order_id, id, product_id, variation_id, sku, name, quantity, "
        "price::DECIMAL(18,2), subtotal::DECIMAL(18,2), total::DECIMAL(18,2), total_tax::DECIMAL(18,2) FROM l"
    )
    con.execute("COMMIT")
    con.unregister("o")
    con.unregister("l")


async def _import(job: Job, con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    headers = {"Authorization": basic_auth(), "Accept": "application/json"}
    url = job.api + "/orders"
    loop = asyncio.get_running_loop()
    batch, orders, pages = Batch(), 0, 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=job.concurrency)) as session:

        async def get(page: int) -> tuple[bytes, int]:
            for attempt in range(1, 50):
                async with session.get(url, params=job.listing_params(page), headers=headers) as resp:
                    if resp.status == 200:
                        return await resp.read(), int(resp.headers["X-WP-TotalPages"])
                    if resp.status not in (429, 503):
                        raise RuntimeError(f"page {page}: HTTP {resp.status}")
                await asyncio.sleep(min(0.05 * attempt, 1.0))
            raise RuntimeError(f"page {page}: gave up")

        async def refunds(order_id: int) -> tuple[int, bytes]:
            async with session.get(f"{url}/{order_id}/refunds", headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"refunds of {order_id}: HTTP {resp.status}")
                return order_id, await resp.read()

        body, total_pages = await get(1)
        bodies = [body]
        remaining = iter(range(2, total_pages + 1))
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2 * job.concurrency)

        async def worker() -> None:
            for page in remaining:
                await queue.put((await get(page))[0])

        async def fetch_all() -> None:
            await asyncio.gather(*(worker() for _ in range(job.concurrency)))
            await queue.put(None)

        fetching = asyncio.ensure_future(fetch_all())
        while True:
            body = bodies.pop() if bodies else await queue.get()
            if body is None:
                break
            data = orjson.loads(body)
            wanted = [o["id"] for o in data if o.get("refunds") and o.get("status") != "refunded"]
            if wanted:
                found = dict(await asyncio.gather(*(refunds(oid) for oid in wanted)))
                for o in data:
                    if o["id"] in found:
                        o["refund_details"] = orjson.loads(found[o["id"]])
            batch.add(data)
            orders += len(data)
            pages += 1
            if batch.n >= BATCH:  # the write runs on a thread while pages keep coming
                await loop.run_in_executor(None, _store, con, batch)
                batch = Batch()
        await fetching
        if batch.n:
            await loop.run_in_executor(None, _store, con, batch)
    return orders, pages


def run(job: Job) -> dict[str, Any]:
    con = duckdb.connect(job.db)
    con.execute(ORDERS_DDL)
    con.execute(LINES_DDL)
    t0 = time.perf_counter()
    orders, pages = asyncio.run(_import(job, con))
    seconds = time.perf_counter() - t0
    row = con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM lines)").fetchall()[0]
    con.close()
    return {
        "orders": orders,
        "seconds": round(seconds, 3),
        "pages": pages,
        "rows_total": {"orders": int(row[0]), "lines": int(row[1])},
    }
