"""Order lifecycle: pending → prepared → invoiced → shipped, plus cancelled; each move is an order event.

The shop's own status (``orders.shop_status``) is kept apart.  ``N`` on the
command line is the shop's order id or its display number; with several
stores, ``--store`` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastimport.columns import CLOSED_STATUSES
from fastimport.errors import ProcessingError
from fastimport.store.db import Connection, transaction

STATES = ("pending", "prepared", "invoiced", "shipped", "cancelled")
TRANSITIONS = {
    "pending": ("prepared", "invoiced", "cancelled"),
    "prepared": ("invoiced", "cancelled", "pending"),
    "invoiced": ("shipped",),
    "shipped": (),
    "cancelled": (),
}
# Shop statuses that forbid invoicing: the sale did not happen (or was undone) on the shop.
# The shop will not fulfil these (the words every connector maps its statuses onto), or trashed them.
DEAD_SHOP_STATUSES = (*CLOSED_STATUSES, "trash")


@dataclass(frozen=True, slots=True)
class OrderRef:
    store_id: int
    store: str
    order_id: int
    number: str | None
    state: str
    shop_status: str


def find_order(con: Connection, n: str, store: str | None = None) -> OrderRef:
    """The order whose shop id or number is ``n`` (in ``store`` if given), or a plain-words refusal."""
    params: list[object] = [n]
    where = "(o.number = ?"
    if n.strip().isdigit():
        where += " OR o.order_id = ?"
        params.append(int(n))
    where += ")"
    if store is not None:
        where += " AND s.name = ?"
        params.append(store)
    rows = con.execute(
        "SELECT o.store_id, s.name, o.order_id, o.number, o.state, o.shop_status FROM orders o "
        f"JOIN stores s USING (store_id) WHERE {where} ORDER BY (o.order_id::VARCHAR = ?) DESC, s.name",
        [*params, n],
    ).fetchall()
    if not rows:
        where_txt = f" in store '{store}'" if store else ""
        raise ProcessingError(f"no order {n}{where_txt}: import it first (fastimport import)", order=n)
    stores = {r[1] for r in rows}
    if len(stores) > 1:
        raise ProcessingError(
            f"order {n} exists in several stores ({', '.join(sorted(stores))}): choose one with --store",
            order=n,
        )
    r = rows[0]
    return OrderRef(int(r[0]), str(r[1]), int(r[2]), r[3], str(r[4]), str(r[5]))


def record_event(
    con: Connection,
    order: OrderRef,
    kind: str,
    actor: str,
    detail: str,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO order_events (store_id, order_id, happened_at, kind, actor, from_state, to_state, detail) "
        "VALUES (?, ?, now(), ?, ?, ?, ?, ?)",
        [order.store_id, order.order_id, kind, actor, from_state, to_state, detail],
    )


def move(con: Connection, order: OrderRef, to_state: str, actor: str, detail: str) -> None:
    """Change the local state (inside the caller's transaction) and record the event; refuse a bad move."""
    if to_state not in TRANSITIONS.get(order.state, ()):
        raise ProcessingError(
            f"order {order.order_id} is {order.state}: it cannot become {to_state}", order=order.order_id
        )
    con.execute(
        "UPDATE orders SET state = ?, updated_at = now() WHERE store_id = ? AND order_id = ? AND state = ?",
        [to_state, order.store_id, order.order_id, order.state],
    )
    record_event(con, order, "state", actor, detail, order.state, to_state)


def mark_prepared(con: Connection, order: OrderRef, actor: str) -> None:
    """The preparation slip was printed: pending → prepared (the print room calls this)."""
    with transaction(con):
        move(con, order, "prepared", actor, "preparation slip printed")
