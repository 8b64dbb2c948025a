"""Payments per order, as the shop reported them: method (mapped in [payment_methods]), transaction id,
amount, date (in the store's time zone: a payment at 00:34 in Paris is on that Paris day); unpaid and
partially paid orders flagged.  An order cancelled, refunded, failed or voided owes nothing.  Amounts
are in the order's own currency, and sums are per currency (:func:`totals_by_currency`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastimport.columns import CLOSED_STATUSES
from fastimport.processing.settings import ProcessingSettings
from fastimport.store.db import Connection

_SQL = """
SELECT s.name, o.order_id, o.number, o.state, o.shop_status, o.payment_method, o.payment_method_title,
       o.transaction_id, o.total, o.paid_at,
       (SELECT coalesce(sum(p.amount), 0) FROM payments p WHERE p.store_id = o.store_id AND p.order_id = o.order_id),
       (SELECT coalesce(sum(CAST(c.total_ttc AS DECIMAL(18,2))), 0) FROM invoices c WHERE c.store_id = o.store_id
          AND c.order_id = o.order_id AND c.kind = 'credit_note'),
       s.timezone, o.currency
FROM orders o JOIN stores s USING (store_id)
WHERE o.shop_status NOT IN ('trash')
ORDER BY o.created_at, s.name, o.order_id
"""


def payments(con: Connection, settings: ProcessingSettings) -> list[dict[str, Any]]:
    out = []
    for r in con.execute(_SQL).fetchall():
        total = r[8]
        paid = r[10] if r[10] else (total if r[9] is not None else 0)
        due = total + r[11] - paid if r[3] in ("invoiced", "shipped") else total - paid
        status = "paid" if paid >= total else ("partially paid" if paid > 0 else "unpaid")
        if r[3] == "cancelled" or (r[4] in CLOSED_STATUSES and r[3] in ("pending", "prepared")):
            status, due = (r[4] if r[4] in CLOSED_STATUSES else "cancelled"), 0  # nothing is owed
        elif r[4] in CLOSED_STATUSES and paid < total:
            status, due = r[4], 0  # invoiced, then cancelled unpaid on the shop: a credit note, not a debt
        paid_at = r[9].astimezone(ZoneInfo(str(r[12]))).isoformat() if r[9] is not None else None
        out.append(
            {
                "store": r[0], "order": r[1], "number": r[2], "state": r[3], "shop_status": r[4],
                "method": settings.payment_label(r[5], r[6]), "transaction_id": r[7] or None,
                "currency": r[13] or None,
                "total": f"{total:.2f}", "paid": f"{paid:.2f}", "paid_at": paid_at,
                "due": f"{max(due, 0):.2f}", "status": status,
            }
        )  # fmt: skip
    return out


def is_due(row: dict[str, Any]) -> bool:
    """Something is still owed on this order (``payments --unpaid``)."""
    return row["status"] in ("unpaid", "partially paid") and Decimal(row["due"]) > 0


def totals_by_currency(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Total, paid and due summed per currency, never mixed ("?" for orders with no currency)."""
    sums: dict[str, list[Decimal]] = {}
    for r in rows:
        acc = sums.setdefault(r["currency"] or "?", [Decimal(0), Decimal(0), Decimal(0)])
        for i, key in enumerate(("total", "paid", "due")):
            acc[i] += Decimal(r[key])
    return {
        cur: {"total": f"{a[0]:.2f}", "paid": f"{a[1]:.2f}", "due": f"{a[2]:.2f}"}
        for cur, a in sorted(sums.items())
    }
