"""Customers as the till knows them: one per e-mail per store for guests, by id for registered ones."""

from __future__ import annotations

from typing import Any

from fastimport.store.db import Connection


def customers(con: Connection, store: str | None = None) -> list[dict[str, Any]]:
    """Each customer with their orders: a returning guest (same e-mail, any case) is one customer.

    ``customer`` is ``id:<shop customer id>`` for a registered customer (a guest whose e-mail is a
    registered customer's is that customer), else ``email:<address>``.
    """
    rows = con.execute(
        "SELECT s.name, c.customer_key, bool_and(c.guest), (array_agg(trim(concat_ws(' ', o.first_name, o.last_name)) "
        "ORDER BY o.created_at DESC))[1], (array_agg(o.email ORDER BY o.created_at DESC))[1], count(*), "
        "array_agg(o.order_id ORDER BY o.created_at), "
        "min(o.created_at), max(o.created_at) FROM order_customers c JOIN orders o USING (store_id, order_id) "
        "JOIN stores s USING (store_id) WHERE (? IS NULL OR s.name = ?) GROUP BY s.name, c.customer_key "
        "ORDER BY s.name, min(o.created_at)",
        [store, store],
    ).fetchall()
    return [
        {
            "store": r[0], "customer": r[1], "guest": bool(r[2]), "name": r[3] or None, "email": r[4] or None,
            "orders": int(r[5]), "order_ids": [int(i) for i in r[6]],
            "first_order": r[7].isoformat(), "last_order": r[8].isoformat(),
        }
        for r in rows
    ]  # fmt: skip
