"""Payments per order, as the shop reported them: method (mapped in [payment_methods]), transaction id,
amount, date; unpaid and partially paid orders flagged."""

from __future__ import annotations

from typing import Any

import duckdb

from fastimport.columns import CLOSED_STATUSES
from fastimport.processing.settings import ProcessingSettings

_SQL = """
SELECT s.name, o.order_id, o.number, o.state, o.shop_status, o.payment_method, o.payment_method_title,
       o.transaction_id, o.total, o.paid_at,
       (SELECT coalesce(sum(p.amount), 0) FROM payments p WHERE p.store_id = o.store_id AND p.order_id = o.order_id),
       (SELECT coalesce(sum(CAST(c.total_ttc AS DECIMAL(18,2))), 0) FROM invoices c WHERE c.store_id = o.store_id
          AND c.order_id = o.order_id AND c.kind = 'credit_note')
FROM orders o JOIN stores s USING (store_id)
WHERE o.shop_status NOT IN ('trash')
ORDER BY o.created_at, s.name, o.order_id
"""


def payments(con: duckdb.DuckDBPyConnection, settings: ProcessingSettings) -> list[dict[str, Any]]:
    out = []
    for r in con.execute(_SQL).fetchall():
        total = r[8]
        paid = r[10] if r[10] else (total if r[9] is not None else 0)
        due = total + r[11] - paid if r[3] in ("invoiced", "shipped") else total - paid
        status = "paid" if paid >= total else ("partially paid" if paid > 0 else "unpaid")
        if r[4] in CLOSED_STATUSES and r[3] in ("pending", "prepared"):
            status = r[4]
        out.append(
            {
                "store": r[0], "order": r[1], "number": r[2], "state": r[3], "shop_status": r[4],
                "method": settings.payment_label(r[5], r[6]), "transaction_id": r[7] or None,
                "total": f"{total:.2f}", "paid": f"{paid:.2f}", "paid_at": r[9].isoformat() if r[9] else None,
                "due": f"{max(due, 0):.2f}", "status": status,
            }
        )  # fmt: skip
    return out
