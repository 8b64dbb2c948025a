"""Read-side queries: the pending table and the order list, as plain dicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fastimport.columns import CLOSED_STATUSES
from fastimport.store.db import Connection, first_row, transaction

# Two steps, so a page costs a sort of keys and not the warnings of every order: the page's keys
# (filtered, ordered, cut), then its rows with their warnings, computed for those keys only.  At a
# million stored orders the old single query (a correlated count per row through ``order_flags``)
# took seconds for one page of 50; this takes milliseconds.  The unknown-article and unknown-customer
# tests are those of the ``line_flags`` / ``order_flags`` views (store/schema.py), applied to the page.
_ORDER_PAGE = """
WITH page_keys AS (
    SELECT o.store_id, o.order_id, o.created_at, s.name AS store
    FROM orders o JOIN stores s USING (store_id)
    WHERE {where}
    ORDER BY o.created_at {direction}, {store_tie}o.order_id {direction}
    {cut}
),
page AS MATERIALIZED (
    SELECT k.store, s.timezone, s.catalog_synced_at, o.store_id, o.order_id, o.number, o.created_at,
           o.shop_status, o.state, o.total::VARCHAR AS total, o.currency, o.line_count, o.customer_id, o.email,
           trim(coalesce(o.first_name, '') || ' ' || coalesce(o.last_name, '')) AS customer,
           o.paid_at IS NULL AS unpaid, o.payment_method_title
    FROM page_keys k
    JOIN orders o ON o.store_id = k.store_id AND o.order_id = k.order_id
    JOIN stores s ON s.store_id = k.store_id
),
page_lines AS MATERIALIZED (
    SELECT l.store_id, l.order_id, l.product_id, l.variation_id, l.sku
    FROM order_lines l
    WHERE EXISTS (SELECT 1 FROM page p WHERE p.store_id = l.store_id AND p.order_id = l.order_id)
      AND l.store_id IN (SELECT store_id FROM page WHERE catalog_synced_at IS NOT NULL)
),
unknown_lines AS (
    SELECT l.store_id, l.order_id, count(*) AS unknown_articles
    FROM page_lines l
    WHERE NOT EXISTS (SELECT 1 FROM products pr WHERE pr.store_id = l.store_id AND pr.product_id = l.product_id
                      AND pr.variation_id = l.variation_id AND l.product_id <> 0)
      AND NOT EXISTS (SELECT 1 FROM products pr WHERE pr.store_id = l.store_id AND pr.sku = l.sku
                      AND l.sku <> '')
    GROUP BY l.store_id, l.order_id
),
actions AS (
    SELECT e.store_id, e.order_id, count(*) AS actions
    FROM order_events e
    WHERE e.needs_action AND EXISTS (SELECT 1 FROM page p WHERE p.store_id = e.store_id AND p.order_id = e.order_id)
    GROUP BY e.store_id, e.order_id
)
SELECT p.store, p.timezone, p.order_id, p.number, epoch_us(p.created_at) AS created_us, p.shop_status, p.state,
       p.total, p.currency, p.line_count, p.customer_id, p.email, p.customer, p.unpaid, p.payment_method_title,
       coalesce(u.unknown_articles, 0) AS unknown_articles,
       (p.catalog_synced_at IS NOT NULL AND p.customer_id > 0
        AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.store_id = p.store_id
                        AND c.customer_id = p.customer_id)) AS unknown_customer,
       coalesce(a.actions, 0) AS actions
FROM page p
LEFT JOIN unknown_lines u ON u.store_id = p.store_id AND u.order_id = p.order_id
LEFT JOIN actions a ON a.store_id = p.store_id AND a.order_id = p.order_id
ORDER BY p.created_at {direction}, p.store {direction}, p.order_id {direction}
"""

# Rows of a whole list are read in pages of this many, each after the last key of the one before
# (keyset paging), so memory stays flat however many orders there are.
STREAM_PAGE = 5000
_Key = tuple[int, str, int]  # a row's place in the order: created_at (UTC microseconds), store, order id
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def list_orders(
    con: Connection,
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
    if limit is None and not offset:
        return list(
            iter_orders(
                con,
                stores=stores,
                since=since,
                until=until,
                pending_statuses=pending_statuses,
                newest_first=newest_first,
            )
        )
    where, params = _filters(stores, since, until, pending_statuses)
    cut = (f"LIMIT {int(limit)}" if limit is not None else "LIMIT NULL") + f" OFFSET {int(offset)}"
    one_store = stores is not None and len(stores) == 1
    return [row for row, _ in _page(con, where, params, cut, newest_first, one_store)]


def iter_orders(
    con: Connection,
    *,
    stores: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pending_statuses: dict[str, tuple[str, ...]] | None = None,
    newest_first: bool = False,
    page: int = STREAM_PAGE,
) -> Iterator[dict[str, Any]]:
    """The rows of :func:`list_orders` one at a time, read ``page`` at a time: memory does not grow with N."""
    where, params = _filters(stores, since, until, pending_statuses)
    one_store = stores is not None and len(stores) == 1
    after: _Key | None = None
    op = "<" if newest_first else ">"
    while True:
        page_where, page_params = where, list(params)
        if after is not None:
            # (created_at, store, order_id) strictly after the last row read; the plain bound on
            # created_at first lets DuckDB skip the row groups already read.
            at = "make_timestamp(?)::TIMESTAMPTZ"
            page_where += (
                f" AND o.created_at {op}= {at} AND (o.created_at {op} {at} OR (o.created_at = {at} "
                f"AND (s.name {op} ? OR (s.name = ? AND o.order_id {op} ?))))"
            )
            page_params += [after[0], after[0], after[0], after[1], after[1], after[2]]
        rows = _page(con, page_where, page_params, f"LIMIT {int(page)}", newest_first, one_store)
        for row, _ in rows:
            yield row
        if len(rows) < page:
            return
        after = rows[-1][1]


def _page(
    con: Connection,
    where: str,
    params: list[Any],
    cut: str,
    newest_first: bool,
    one_store: bool,
) -> list[tuple[dict[str, Any], _Key]]:
    """One page of rows, each with its sort key (created_at, store, order id)."""
    direction = "DESC" if newest_first else "ASC"
    # One store selected (the usual till): its name ties nothing, and sorting without it is cheaper.
    store_tie = "" if one_store else f"s.name {direction}, "
    sql = _ORDER_PAGE.format(where=where, direction=direction, cut=cut, store_tie=store_tie)
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    out = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        out.append((_order_row(row), (row["created_us"], row["store"], row["order_id"])))
    return out


def count_orders(
    con: Connection,
    *,
    stores: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    pending_statuses: dict[str, tuple[str, ...]] | None = None,
) -> int:
    """How many orders :func:`list_orders` would list with the same filters."""
    where, params = _filters(stores, since, until, pending_statuses)
    row = first_row(
        con.execute(f"SELECT count(*) FROM orders o JOIN stores s USING (store_id) WHERE {where}", params)
    )
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
    if row["unpaid"]:
        warnings.append("unpaid")
    if row["shop_status"] in CLOSED_STATUSES:
        warnings.append(f"{row['shop_status']} on the shop")
    if row["actions"]:
        warnings.append("shop changed it after invoicing")
    return {
        "store": row["store"],
        "id": row["order_id"],
        "number": row["number"],
        "created_at": (_EPOCH + dt.timedelta(microseconds=row["created_us"])).astimezone(zone).isoformat(),
        "shop_status": row["shop_status"],
        "state": row["state"],
        "total": row["total"],  # DECIMAL(18,2) as text: always two decimals
        "currency": row["currency"],
        "lines": row["line_count"],
        "customer": row["customer"] or row["email"] or "",
        "guest": row["customer_id"] in (0, None),
        "payment": row["payment_method_title"],
        "warnings": warnings,
    }


def store_catalog(
    con: Connection,
    store_id: int,
    products: list[dict[str, Any]],
    customers: list[dict[str, Any]],
) -> None:
    """Replace the store's catalogue and customers in one transaction (one statement per table)."""
    import pyarrow as pa  # here, not at the top: the order lists do without it

    # A price the shop sends that is not a number is stored as unknown (NULL).
    products = [{**p, "price": _price(p.get("price"))} for p in products]
    product_table = pa.Table.from_pylist(products, schema=pa.schema(_PRODUCT_FIELDS))
    customer_table = pa.Table.from_pylist(customers, schema=pa.schema(_CUSTOMER_FIELDS))
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
                "sku, name, CAST(price AS DECIMAL(18,2)), tax_class, manage_stock, stock_quantity, now() "
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


_PRODUCT_FIELDS = [
    ("product_id", "int64"),
    ("variation_id", "int64"),
    ("sku", "string"),
    ("name", "string"),
    ("price", "string"),
    ("tax_class", "string"),
    ("manage_stock", "bool"),
    ("stock_quantity", "int64"),
]
_CUSTOMER_FIELDS = [
    ("customer_id", "int64"),
    ("email", "string"),
    ("first_name", "string"),
    ("last_name", "string"),
]


def _price(value: Any) -> str | None:
    try:
        return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return None
