"""Read-side queries: the pending table and the order list, as plain dicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from fastimport.columns import CLOSED_STATUSES
from fastimport.store.db import transaction

_ORDER_LIST = """
SELECT s.name AS store, s.timezone, o.order_id, o.number, o.created_at, o.shop_status, o.state,
       o.total, o.currency, o.line_count, o.customer_id, o.email,
       trim(coalesce(o.first_name, '') || ' ' || coalesce(o.last_name, '')) AS customer,
       o.paid_at, o.payment_method_title, f.unknown_articles, f.unknown_customer,
       (SELECT count(*) FROM order_events e WHERE e.store_id = o.store_id AND e.order_id = o.order_id
         AND e.needs_action) AS actions
FROM orders o
JOIN stores s USING (store_id)
JOIN order_flags f ON f.store_id = o.store_id AND f.order_id = o.order_id
WHERE {where}
ORDER BY o.created_at {direction}, s.name {direction}, o.order_id {direction}
"""


def list_orders(
    con: duckdb.DuckDBPyConnection,
    *,
    stores: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pending_statuses: dict[str, tuple[str, ...]] | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Orders oldest first (or newest first), one page of ``limit`` from ``offset`` when given.

    With ``pending_statuses`` (store -> shop statuses), only pending ones.
    """
    where, params = _filters(stores, since, until, pending_statuses)
    sql = _ORDER_LIST.format(where=where, direction="DESC" if newest_first else "ASC")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if offset:
        sql += f" OFFSET {int(offset)}"
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [_order_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def count_orders(
    con: duckdb.DuckDBPyConnection,
    *,
    stores: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pending_statuses: dict[str, tuple[str, ...]] | None = None,
) -> int:
    """How many orders :func:`list_orders` would list with the same filters."""
    where, params = _filters(stores, since, until, pending_statuses)
    row = con.execute(
        f"SELECT count(*) FROM orders o JOIN stores s USING (store_id) WHERE {where}", params
    ).fetchone()
    return int(row[0]) if row else 0


def _filters(
    stores: Sequence[str] | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    pending_statuses: dict[str, tuple[str, ...]] | None,
) -> tuple[str, list[Any]]:
    where = ["true"]
    params: list[Any] = []
    if stores:
        where.append(f"s.name IN ({', '.join('?' * len(stores))})")
        params += list(stores)
    if since:
        where.append("o.created_at >= ?")
        params.append(since)
    if until:
        where.append("o.created_at < ?")
        params.append(until)
    if pending_statuses is not None:
        where.append("o.state IN ('pending', 'prepared')")
        clauses = []
        for store, statuses in pending_statuses.items():
            if statuses:
                clauses.append(f"(s.name = ? AND o.shop_status IN ({', '.join('?' * len(statuses))}))")
                params += [store, *statuses]
        where.append("(" + (" OR ".join(clauses) or "false") + ")")
    return " AND ".join(where), params


def _order_row(row: dict[str, Any]) -> dict[str, Any]:
    zone = ZoneInfo(row["timezone"])
    warnings = []
    if row["unknown_articles"]:
        n = row["unknown_articles"]
        warnings.append(f"{n} unknown article{'s' if n > 1 else ''}")
    if row["unknown_customer"]:
        warnings.append("unknown customer")
    if row["paid_at"] is None:
        warnings.append("unpaid")
    if row["shop_status"] in CLOSED_STATUSES:
        warnings.append(f"{row['shop_status']} on the shop")
    if row["actions"]:
        warnings.append("shop changed it after invoicing")
    return {
        "store": row["store"],
        "id": row["order_id"],
        "number": row["number"],
        "created_at": row["created_at"].astimezone(zone).isoformat(),
        "shop_status": row["shop_status"],
        "state": row["state"],
        "total": f"{row['total']:.2f}",
        "currency": row["currency"],
        "lines": row["line_count"],
        "customer": row["customer"] or row["email"] or "",
        "guest": row["customer_id"] in (0, None),
        "payment": row["payment_method_title"],
        "warnings": warnings,
    }


def store_catalog(
    con: duckdb.DuckDBPyConnection,
    store_id: int,
    products: list[dict[str, Any]],
    customers: list[dict[str, Any]],
) -> None:
    """Replace the store's catalogue and customers in one transaction (one statement per table)."""
    product_table = pa.Table.from_pylist(products, schema=_PRODUCT_SCHEMA)
    customer_table = pa.Table.from_pylist(customers, schema=_CUSTOMER_SCHEMA)
    con.register("catalog_products", product_table)
    con.register("catalog_customers", customer_table)
    try:
        with transaction(con):
            con.execute("DELETE FROM products WHERE store_id = ?", [store_id])
            con.execute("DELETE FROM customers WHERE store_id = ?", [store_id])
            # A shop can list the same product twice across pages (page drift): keep one.
            con.execute(
                "INSERT INTO products (store_id, product_id, variation_id, sku, name, price, tax_class, manage_stock, "
                "stock_quantity, synced_at) SELECT DISTINCT ON (product_id, variation_id) ?, product_id, variation_id, "
                "sku, name, TRY_CAST(price AS DECIMAL(18,2)), tax_class, manage_stock, stock_quantity, now() "
                "FROM catalog_products",
                [store_id],
            )
            con.execute(
                "INSERT INTO customers (store_id, customer_id, email, first_name, last_name, synced_at) "
                "SELECT DISTINCT ON (customer_id) ?, customer_id, lower(email), first_name, last_name, now() "
                "FROM catalog_customers",
                [store_id],
            )
            con.execute("UPDATE stores SET catalog_synced_at = now() WHERE store_id = ?", [store_id])
    finally:
        con.unregister("catalog_products")
        con.unregister("catalog_customers")


_PRODUCT_SCHEMA = pa.schema(
    [
        ("product_id", pa.int64()),
        ("variation_id", pa.int64()),
        ("sku", pa.string()),
        ("name", pa.string()),
        ("price", pa.string()),
        ("tax_class", pa.string()),
        ("manage_stock", pa.bool_()),
        ("stock_quantity", pa.int64()),
    ]
)
_CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("email", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
    ]
)
