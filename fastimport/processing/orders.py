"""``order show``: one order with its lines, customer, payment, shipping, documents, history and comments."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastimport.processing import chain
from fastimport.processing.comments import comments
from fastimport.processing.lifecycle import OrderRef
from fastimport.store.db import Connection


def order_details(con: Connection, order: OrderRef) -> dict[str, Any]:
    key = [order.store_id, order.order_id]
    o = chain.one(
        con,
        "SELECT o.number, o.shop_status, o.state, o.created_at, o.total, o.currency, o.first_name, o.last_name, "
        "o.email, o.phone, o.payment_method_title, o.transaction_id, o.paid_at, o.shipping_method_title, "
        "o.ship_name, o.ship_address, o.ship_postcode, o.ship_city, o.ship_country, o.customer_note, s.timezone "
        "FROM orders o JOIN stores s USING (store_id) WHERE o.store_id = ? AND o.order_id = ?",
        key,
    )
    assert o is not None
    zone = ZoneInfo(str(o[20]))

    def local(v: Any) -> str | None:
        return v.astimezone(zone).isoformat() if v is not None else None

    lines = con.execute(
        "SELECT line_no, sku, name, quantity, total, total_tax FROM order_lines WHERE store_id = ? AND order_id = ? "
        "ORDER BY line_no",
        key,
    ).fetchall()
    docs = con.execute(
        "SELECT kind, number, total_ttc, issued_at, refers_to FROM invoices WHERE store_id = ? AND order_id = ? "
        "ORDER BY invoice_id",
        key,
    ).fetchall()
    ships = con.execute(
        "SELECT number, carrier, tracking, shipped_at, pushed_at, push_error FROM shipments WHERE store_id = ? "
        "AND order_id = ?",
        key,
    ).fetchall()
    events = con.execute(
        "SELECT happened_at, kind, actor, from_state, to_state, detail, needs_action FROM order_events "
        "WHERE store_id = ? AND order_id = ? ORDER BY happened_at, event_id",
        key,
    ).fetchall()
    return {
        "store": order.store, "order": order.order_id, "number": o[0], "shop_status": o[1], "state": o[2],
        "created_at": local(o[3]), "total": f"{o[4]:.2f}", "currency": o[5],
        "customer": " ".join(p for p in (o[6], o[7]) if p), "email": o[8], "phone": o[9], "note": o[19] or None,
        "payment": {"method": o[10], "transaction_id": o[11] or None, "paid_at": local(o[12]),
                    "status": "paid" if o[12] is not None else "unpaid"},
        "shipping": {"method": o[13], "name": o[14],
                     "address": ", ".join(str(p) for p in (o[15], o[16], o[17], o[18]) if p)},
        "lines": [{"line": r[0], "sku": r[1], "name": r[2] or "", "quantity": r[3], "total": f"{r[4]:.2f}",
                   "total_tax": f"{r[5]:.2f}" if r[5] is not None else None} for r in lines],
        "documents": [{"kind": r[0], "number": r[1], "total_ttc": f"{r[2]:.2f}", "issued_at": local(r[3]),
                       "refers_to": r[4]} for r in docs],
        "shipments": [{"number": r[0], "carrier": r[1], "tracking": r[2], "shipped_at": local(r[3]),
                       "pushed_at": local(r[4]), "push_error": r[5]} for r in ships],
        "history": [{"at": local(r[0]), "kind": r[1], "actor": r[2], "from": r[3], "to": r[4], "detail": r[5],
                     "needs_action": r[6]} for r in events],
        "comments": comments(con, order),
    }  # fmt: skip
