"""The floor: what a first script looks like.

``requests``, one page after the other, ``json.loads``, and DuckDB ``executemany``
(row by row inside DuckDB) into an orders table and a lines table, upserting.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.job import Job
from bench.shop import KEY, SECRET

ORDERS_DDL = """CREATE TABLE IF NOT EXISTS orders (
    id BIGINT PRIMARY KEY, number VARCHAR, status VARCHAR, currency VARCHAR,
    created_at TIMESTAMP, modified_at TIMESTAMP, paid_at TIMESTAMP,
    total DECIMAL(18,2), total_tax DECIMAL(18,2), shipping_total DECIMAL(18,2), discount_total DECIMAL(18,2),
    customer_id BIGINT, email VARCHAR, first_name VARCHAR, last_name VARCHAR, city VARCHAR, country VARCHAR,
    payment_method VARCHAR, raw VARCHAR)"""
LINES_DDL = """CREATE TABLE IF NOT EXISTS lines (
    order_id BIGINT, line_id BIGINT, product_id BIGINT, variation_id BIGINT, sku VARCHAR, name VARCHAR,
    quantity INTEGER, price DECIMAL(18,2), subtotal DECIMAL(18,2), total DECIMAL(18,2),
    total_tax DECIMAL(18,2), PRIMARY KEY (order_id, line_id))"""


def _order_row(o: dict[str, Any]) -> list[Any]:
    billing, shipping = o.get("billing") or {}, o.get("shipping") or {}
    return [
        o["id"],
        o.get("number"),
        o.get("status"),
        o.get("currency"),
        o.get("date_created_gmt"),
        o.get("date_modified_gmt"),
        o.get("date_paid_gmt"),
        o.get("total"),
        o.get("total_tax"),
        o.get("shipping_total"),
        o.get("discount_total"),
        o.get("customer_id"),
        billing.get("email"),
        billing.get("first_name"),
        billing.get("last_name"),
        shipping.get("city"),
        shipping.get("country"),
        o.get("payment_method"),
        json.dumps(o),
    ]


def _line_row(order_id: int, li: dict[str, Any]) -> list[Any]:
    return [
        order_id,
        li["id"],
        li.get("product_id"),
        li.get("variation_id"),
        li.get("sku"),
        li.get("name"),
        li.get("quantity"),
        str(li.get("price")),
        li.get("subtotal"),
        li.get("total"),
        li.get("total_tax"),
    ]


def run(job: Job) -> dict[str, Any]:
    import duckdb
    import requests

    t0 = time.perf_counter()
    con = duckdb.connect(job.db)
    con.execute(ORDERS_DDL)
    con.execute(LINES_DDL)
    session = requests.Session()
    session.auth = (KEY, SECRET)
    page, pages, orders, lines = 1, 1, 0, 0
    while page <= pages:
        resp = session.get(job.api + "/orders", params=job.listing_params(page), timeout=60)
        resp.raise_for_status()
        pages = int(resp.headers["X-WP-TotalPages"])
        data = json.loads(resp.content)
        order_rows = [_order_row(o) for o in data]
        line_rows = [_line_row(o["id"], li) for o in data for li in o.get("line_items") or []]
        con.executemany("INSERT OR REPLACE INTO orders VALUES (" + ", ".join("?" * 19) + ")", order_rows)
        if line_rows:
            con.executemany("INSERT OR REPLACE INTO lines VALUES (" + ", ".join("?" * 11) + ")", line_rows)
        orders += len(order_rows)
        lines += len(line_rows)
        page += 1
    seconds = time.perf_counter() - t0
    row = con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM lines)").fetchone()
    con.close()
    assert row is not None
    return {
        "orders": orders,
        "lines": lines,
        "seconds": round(seconds, 3),
        "pages": pages,
        "rows_total": {"orders": int(row[0]), "lines": int(row[1])},
    }
