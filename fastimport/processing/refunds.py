"""Refunds the shop made after the till invoiced: each calls for a credit note of exactly what was refunded.

French rule followed: an invoice, once issued, is never altered; a reduction granted after it (a
refund, a commercial gesture) is made by a credit note referencing it (CGI art. 289 I-1 and
art. 272, BOI-TVA-DECLA-30-20-20), carrying the refunded lines when the shop names them, else the
refunded amount spread over the invoice's VAT rates in proportion to their totals.

The till never overwrites an invoiced order: the shop's later version is kept with its
``shop_change_after_invoice`` (or ``till_write_seen``) event.  The refunds it carries, less those already in the version that
was invoiced and those a credit note already answers (its reason names the refund), are proposed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastimport.io.connector import Refund
from fastimport.io.registry import refunds_of
from fastimport.store import raw
from fastimport.store.db import Connection, first_row


def _event_payload(con: Connection, store_id: int, order_id: int) -> bytes | None:
    row = first_row(
        con.execute(
            "SELECT raw_chunk, raw_offset, raw_length FROM order_events WHERE store_id = ? AND order_id = ? AND "
            "raw_chunk IS NOT NULL ORDER BY happened_at DESC, event_id DESC LIMIT 1",
            [store_id, order_id],
        )
    )
    if row is None:
        return None
    return raw.slice_of(con, int(row[0]), int(row[1]), int(row[2]))


def refund_tag(refund: Refund) -> str:
    """What a credit note's reason carries to answer this refund."""
    return f"remboursement {refund.refund_id} sur la boutique"


def refund_proposals(con: Connection) -> list[dict[str, Any]]:
    """Credit notes to make for refunds made on the shop after invoicing (see the module)."""
    rows = con.execute(
        "SELECT DISTINCT i.store_id, s.name, s.platform, i.order_id, i.number FROM invoices i JOIN stores s "
        "USING (store_id) JOIN order_events e ON e.store_id = i.store_id AND e.order_id = i.order_id AND "
        "e.kind IN ('shop_change_after_invoice', 'till_write_seen') WHERE i.kind = 'invoice' "
        "ORDER BY s.name, i.order_id"
    ).fetchall()
    out = []
    for store_id, store, platform, order_id, number in rows:
        left = first_row(
            con.execute(
                "SELECT sum(total_ttc) FROM invoices WHERE number = ? OR (kind = 'credit_note' AND refers_to = ?)",
                [number, number],
            )
        )
        if left is None or left[0] is None or left[0] <= 0:
            continue  # fully credited already (a refund the till's own credit note caused, for one)
        later = _event_payload(con, int(store_id), int(order_id))
        if later is None:
            continue
        before = raw.payload(con, int(store_id), int(order_id))
        known = {r.refund_id for r in refunds_of(str(platform), before)} if before else set()
        reasons = " ".join(
            str(r[0]) for r in con.execute(
                "SELECT reason FROM invoices WHERE kind = 'credit_note' AND refers_to = ?", [number]
            ).fetchall()
        )  # fmt: skip
        for refund in refunds_of(str(platform), later):
            if refund.refund_id in known or refund_tag(refund) in reasons:
                continue
            out.append(_proposal(con, str(store), int(store_id), int(order_id), str(number), refund))
    return out


def _proposal(
    con: Connection, store: str, store_id: int, order_id: int, number: str, refund: Refund
) -> dict[str, Any]:
    reason = refund_tag(refund) + (f" ({refund.reason})" if refund.reason else "")
    lines: list[str] = []
    if refund.lines:
        by_line_id = {
            int(r[0]): int(r[1])
            for r in con.execute(
                "SELECT o.line_id, l.line_no FROM order_lines o JOIN invoices i ON i.store_id = o.store_id AND "
                "i.order_id = o.order_id AND i.number = ? JOIN invoice_lines l ON l.invoice_id = i.invoice_id AND "
                "l.source_line_no = o.line_no AND l.line_kind = 'item' WHERE o.store_id = ? AND o.order_id = ?",
                [number, store_id, order_id],
            ).fetchall()
        }
        named = [(by_line_id.get(li.line_id), li) for li in refund.lines if li.quantity > 0]
        if named and all(no is not None for no, _ in named):
            lines = [f"{no}:{li.quantity}" for no, li in named]
    lines_total = sum((Decimal(li.amount) for li in refund.lines), Decimal(0))
    exact_lines = (
        bool(lines)
        and lines_total == Decimal(refund.amount)
        and _credits_as_refunded(con, number, refund, lines)
    )
    how = f"--lines {' '.join(lines)}" if exact_lines else f"--amount {refund.amount}"
    return {
        "store": store, "order": order_id, "invoice": number, "shop_status": "partially refunded",
        "refund": refund.refund_id, "amount": refund.amount, "lines": lines if exact_lines else [],
        "detail": f"the shop refunded {refund.amount} after invoicing" + (f": {refund.reason}" if refund.reason else ""),
        "command": f'fastimport credit-note {number} {how} --reason "{reason}"',
    }  # fmt: skip


def _credits_as_refunded(con: Connection, number: str, refund: Refund, lines: list[str]) -> bool:
    """Whether ``credit-note --lines`` would credit each line exactly what the shop refunded on it (else the
    refund is proposed as its amount: the money given back is what the credit note must state)."""
    from fastimport.processing.credit import part_of_line

    src = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
        for r in con.execute(
            "SELECT l.line_no, l.quantity, CAST(l.total_ht * 100 AS BIGINT), CAST(l.vat * 100 AS BIGINT) "
            "FROM invoice_lines l JOIN invoices i ON i.invoice_id = l.invoice_id WHERE i.number = ?",
            [number],
        ).fetchall()
    }
    done = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
        for r in con.execute(
            "SELECT l.source_line_no, -sum(l.quantity), -sum(CAST(l.total_ht * 100 AS BIGINT)), "
            "-sum(CAST(l.vat * 100 AS BIGINT)) FROM invoice_lines l JOIN invoices c ON c.invoice_id = l.invoice_id "
            "WHERE c.kind = 'credit_note' AND c.refers_to = ? AND l.source_line_no IS NOT NULL GROUP BY l.source_line_no",
            [number],
        ).fetchall()
    }
    named = [li for li in refund.lines if li.quantity > 0]
    for spec, li in zip(lines, named, strict=True):
        no = int(spec.split(":")[0])
        qty, ht, vat = src[no]
        q_done, ht_done, vat_done = done.get(no, (0, 0, 0))
        left = qty - q_done
        if li.quantity > left:
            return False
        part_ht, part_vat = part_of_line(ht - ht_done, vat - vat_done, li.quantity, left)
        if Decimal(part_ht + part_vat) / 100 != Decimal(li.amount):
            return False
    return True
