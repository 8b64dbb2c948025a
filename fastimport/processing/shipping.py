"""Shipping: a delivery note (BL, its own series) per shipment, then tracking and status pushed to the shop.

The local record and its push (in the push queue, :mod:`fastimport.processing.pushqueue`) are
committed together; the push is sent at once.  A push that fails is recorded on the shipment
(``push_error``) and the command says so: the shipment stands, the push stays queued and is retried
with backoff, and ``fastimport ship`` (or ``fastimport push retry``) can be run again to retry it now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastimport.config import Config
from fastimport.errors import ProcessingError
from fastimport.processing import chain, lifecycle, numbering, pushqueue
from fastimport.processing.invoicing import DocumentsHook
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection, transaction


@dataclass(frozen=True, slots=True)
class ShipResult:
    number: str
    store: str
    order_id: int
    carrier: str
    tracking: str | None
    pushed: bool
    push_error: str | None
    retried: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "delivery_note": self.number, "store": self.store, "order": self.order_id, "carrier": self.carrier,
            "tracking": self.tracking, "pushed": self.pushed, "push_error": self.push_error,
        }  # fmt: skip


def ship(
    con: Connection,
    config: Config,
    settings: ProcessingSettings,
    order: lifecycle.OrderRef,
    carrier: str | None,
    tracking: str | None,
    actor: str = "till",
    push: bool = True,
    on_documents: DocumentsHook | None = None,
) -> ShipResult:
    """Record the shipment (``on_documents(con, [delivery note])`` runs inside its transaction), then push.

    Run again for a shipment whose push failed, it retries the push only (no new delivery note, no hook).
    """
    existing = chain.one(
        con,
        "SELECT number, carrier, tracking, pushed_at FROM shipments WHERE store_id = ? AND order_id = ?",
        [order.store_id, order.order_id],
    )
    if existing is not None:
        if existing[3] is not None:
            raise ProcessingError(
                f"order {order.order_id} was already shipped ({existing[0]})", order=order.order_id
            )
        number, carrier_name, tracking = str(existing[0]), str(existing[1]), existing[2]
        retried = True
    else:
        number, carrier_name = _record(
            con, settings, order, carrier, tracking, actor, on_documents, push=push
        )
        retried = False
    pushed, error = True, None
    if push:
        pushed, error = _push_now(con, config, order, number, carrier_name, tracking)
        con.execute(
            "UPDATE shipments SET pushed_at = CASE WHEN ? THEN now() END, push_error = ? WHERE number = ?",
            [pushed, error, number],
        )
    return ShipResult(
        number, order.store, order.order_id, carrier_name, tracking, pushed and push, error, retried
    )


def _record(
    con: Connection,
    settings: ProcessingSettings,
    order: lifecycle.OrderRef,
    carrier: str | None,
    tracking: str | None,
    actor: str,
    on_documents: DocumentsHook | None = None,
    *,
    push: bool = True,
) -> tuple[str, str]:
    if order.state == "cancelled" or order.shop_status in lifecycle.DEAD_SHOP_STATUSES:
        raise ProcessingError(
            f"order {order.order_id} is cancelled ({order.state} here, {order.shop_status} on the shop): "
            "it cannot be shipped",
            order=order.order_id,
        )
    if order.state != "invoiced":
        raise ProcessingError(
            f"order {order.order_id} is {order.state}: invoice it before shipping (fastimport invoice "
            f"{order.order_id})",
            order=order.order_id,
        )
    info = chain.one(
        con,
        "SELECT o.shipping_method, o.shipping_method_title, s.timezone, (SELECT number FROM invoices i WHERE "
        "i.store_id = o.store_id AND i.order_id = o.order_id AND i.kind = 'invoice'), "
        "(SELECT coalesce(sum(quantity), 0) FROM order_lines l WHERE l.store_id = o.store_id AND "
        "l.order_id = o.order_id) FROM orders o JOIN stores s USING (store_id) WHERE o.store_id = ? AND o.order_id = ?",
        [order.store_id, order.order_id],
    )
    assert info is not None
    carrier_name = carrier or settings.carrier_for(info[0], info[1])
    if not carrier_name:
        raise ProcessingError(
            f"no carrier for order {order.order_id} (shop shipping method '{info[1] or info[0]}'): give --carrier "
            "or map the method in [carriers]",
            order=order.order_id,
        )
    now = dt.datetime.now(dt.UTC)
    series = numbering.series_for(
        settings.delivery_series, year=now.astimezone(ZoneInfo(str(info[2]))).year, store=order.store
    )
    key = settings.checked_key(con)
    with transaction(con):
        seq, _ = chain.head(con, series)
        seq += 1
        number = numbering.document_number(series, seq)
        row = chain.one(con, "SELECT coalesce(max(shipment_id), 0) + 1 FROM shipments")
        assert row is not None
        con.execute(
            "INSERT INTO shipments (shipment_id, series, seq, number, store_id, order_id, carrier, tracking, "
            "shipped_at, actor, invoice_number, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
            [row[0], series, seq, number, order.store_id, order.order_id, carrier_name, tracking, actor, info[3],
             int(info[4])],
        )  # fmt: skip
        chain.set_head(con, series, "delivery", seq, number)
        lifecycle.move(con, order, "shipped", actor, f"shipped with {carrier_name}, delivery note {number}")
        chain.journal(
            con, key, "shipment", actor, number,
            {"order": order.order_id, "store": order.store, "carrier": carrier_name, "tracking": tracking},
        )  # fmt: skip
        if push:
            pushqueue.enqueue(
                con,
                order.store_id,
                order.order_id,
                "shipped",
                number,
                carrier=carrier_name,
                tracking=tracking,
            )
        if on_documents is not None:
            on_documents(con, [number])
    return number, carrier_name


def _push_now(
    con: Connection,
    config: Config,
    order: lifecycle.OrderRef,
    number: str,
    carrier: str,
    tracking: str | None,
) -> tuple[bool, str | None]:
    """Send the shipment's push at once, with what still waits for this order before it (through the
    push queue: what fails stays queued with backoff).  Returns (pushed, error)."""
    job = chain.one(
        con, "SELECT push_id FROM push_jobs WHERE store_id = ? AND order_id = ? AND step = 'shipped' AND "
        "document = ?", [order.store_id, order.order_id, number],
    )  # fmt: skip
    if job is None:  # shipped with --no-push before: queue it now
        pushqueue.enqueue(
            con, order.store_id, order.order_id, "shipped", number, carrier=carrier, tracking=tracking
        )
    ids = [
        int(r[0])
        for r in con.execute(
            "SELECT push_id FROM push_jobs WHERE store_id = ? AND order_id = ? AND state <> 'sent' ORDER BY push_id",
            [order.store_id, order.order_id],
        ).fetchall()
    ]
    con.execute(
        f"UPDATE push_jobs SET state = 'queued' WHERE push_id IN ({', '.join('?' for _ in ids)})", ids
    )
    report = pushqueue.send_pushes(con, config, ids, force=True)
    row = chain.one(
        con, "SELECT state, last_error FROM push_jobs WHERE store_id = ? AND order_id = ? AND step = 'shipped' "
        "AND document = ?", [order.store_id, order.order_id, number],
    )  # fmt: skip
    if row is not None and row[0] == "sent":
        return True, None
    error = (row[1] if row is not None else None) or (report.errors[0] if report.errors else None)
    return False, error or "an earlier message to the shop about this order is still waiting"
