"""Credit notes (avoirs): the only way to correct an invoice.

A credit note has its own continuous series, references the invoice number,
shows negative amounts with the same VAT breakdown, and puts the credited
articles back in stock.  Without ``lines`` it credits whatever of the invoice
is not credited yet (a full cancellation); ``lines`` maps invoice line numbers
to quantities for a partial one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastimport.columns import CLOSED_STATUSES
from fastimport.errors import ProcessingError
from fastimport.processing import chain, money, numbering
from fastimport.processing.invoicing import DocumentsHook, Issued, record_settings
from fastimport.processing.records import FiscalRecord, write_documents
from fastimport.processing.settings import ProcessingSettings
from fastimport.processing.stock import book_documents
from fastimport.store.db import Connection, transaction


def parse_lines(spec: list[str] | None) -> dict[int, int | None] | None:
    """``["2", "3:1"]`` -> {2: None (all), 3: 1}; None when no --lines was given."""
    if not spec:
        return None
    out: dict[int, int | None] = {}
    for part in (p for s in spec for p in s.split(",") if p.strip()):
        line, _, qty = part.strip().partition(":")
        if not line.isdigit() or (qty and not qty.isdigit()) or qty == "0":
            raise ProcessingError(
                f"--lines {part!r}: give invoice line numbers, optionally with a quantity (e.g. 2 or 3:1)"
            )
        out[int(line)] = int(qty) if qty else None
    return out


def _amount(text: str) -> int:
    try:
        cents = money.to_cents(text.strip().replace(",", "."))
    except (ArithmeticError, ValueError):
        cents = 0
    if cents <= 0:
        raise ProcessingError(f"--amount {text!r}: give a positive amount, e.g. 5.00")
    return cents


def _amount_lines(src: list[tuple[Any, ...]], amount: int) -> list[list[Any]]:
    """Credit lines for ``amount`` cents spread over the invoice's VAT rates (by their TTC), one per rate;
    the shares add up to the amount to the cent (largest remainders)."""
    by_rate: dict[int, int] = {}
    for row in src:
        if row[1] != "adjustment":
            by_rate[int(row[8])] = by_rate.get(int(row[8]), 0) + int(row[9]) + int(row[10])
    total = sum(by_rate.values())
    if total <= 0:
        raise ProcessingError("the invoice has nothing to credit an amount against")
    rates = sorted(by_rate, reverse=True)
    shares = {rate: amount * by_rate[rate] // total for rate in rates}
    rest = amount - sum(shares.values())
    for rate in sorted(rates, key=lambda x: amount * by_rate[x] % total, reverse=True)[:rest]:
        shares[rate] += 1
    out: list[list[Any]] = []
    for rate in rates:
        ttc = shares[rate]
        if ttc == 0:
            continue
        vat = money.div_round(ttc * rate, 1000 + rate)
        ht = ttc - vat
        name = f"Remboursement (TVA {money.rate_text(rate)} %)"
        out.append([len(out) + 1, "fee", None, 0, 0, None, name, -1, ht * 100, rate, -ht, -vat, -ttc])
    return out


def part_of_line(ht_left: int, vat_left: int, qty: int, left: int) -> tuple[int, int]:
    """HT and VAT (cents) of ``qty`` of the ``left`` units of a line not credited yet.

    The all-taxes-included share is rounded once, from what is left (the VAT share too; HT is the
    difference): two halves of a 25.80 line are 12.90 and 12.90, never 12.91 then 12.89; a part never
    exceeds what is left, and the last part is exactly the rest, so the credits add up to the line.
    """
    if qty >= left:
        return ht_left, vat_left
    ttc = money.div_round((ht_left + vat_left) * qty, left)
    vat = money.div_round(vat_left * qty, left)
    return ttc - vat, vat


def credit_note(
    con: Connection,
    settings: ProcessingSettings,
    invoice_number: str,
    reason: str,
    lines: dict[int, int | None] | None = None,
    actor: str = "till",
    on_documents: DocumentsHook | None = None,
    amount: str | None = None,
) -> Issued:
    """Issue the credit note in one transaction; ``on_documents(con, [number])`` runs inside it.

    ``amount`` (all taxes included) credits money, not articles: a refund the shop made without
    naming lines, spread over the invoice's VAT rates in proportion to their totals.
    """
    settings.require_seller()
    if not reason or not reason.strip():
        raise ProcessingError("a credit note needs a reason (--reason)")
    key = settings.checked_key(con)
    record_settings(con, settings, key, actor)
    store = chain.one(con, "SELECT store_id FROM invoices WHERE number = ?", [invoice_number])
    chain.check_clock(con, key, dt.datetime.now(dt.UTC), [int(store[0])] if store else [], actor)
    with transaction(con):
        chain.lock(con)
        amount_cents = _amount(amount) if amount is not None else None
        if amount_cents is not None and lines is not None:
            raise ProcessingError("give --lines or --amount, not both")
        issued = _credit(con, settings, key, invoice_number, reason.strip(), lines, actor, amount_cents)
        if on_documents is not None:
            on_documents(con, [issued.number])
    return issued


def _credit(
    con: Connection,
    settings: ProcessingSettings,
    key: bytes,
    number: str,
    reason: str,
    wanted: dict[int, int | None] | None,
    actor: str,
    amount_cents: int | None = None,
) -> Issued:
    inv = chain.one(
        con,
        "SELECT i.invoice_id, i.kind, i.store_id, s.name, s.timezone, i.order_id, i.order_number, i.seller, i.buyer, "
        "i.currency, i.payment_method, i.payment_title, i.transaction_id, epoch_us(i.paid_at), "
        "CAST(i.adjustment * 100 AS BIGINT) FROM invoices i JOIN stores s USING (store_id) WHERE i.number = ?",
        [number],
    )
    if inv is None:
        raise ProcessingError(f"no invoice numbered {number}", invoice=number)
    if inv[1] != "invoice":
        raise ProcessingError(f"{number} is a credit note: only an invoice can be credited", invoice=number)
    src = con.execute(
        "SELECT line_no, line_kind, product_id, variation_id, sku, name, quantity, CAST(unit_price_ht * 10000 AS "
        "BIGINT), CAST(vat_rate * 10 AS INTEGER), CAST(total_ht * 100 AS BIGINT), CAST(vat * 100 AS BIGINT) "
        "FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no",
        [inv[0]],
    ).fetchall()
    done: dict[int, tuple[int, int, int]] = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
        for r in con.execute(
            "SELECT l.source_line_no, -sum(l.quantity), -sum(CAST(l.total_ht * 100 AS BIGINT)), "
            "-sum(CAST(l.vat * 100 AS BIGINT)) FROM invoice_lines l JOIN invoices c USING (invoice_id) "
            "WHERE c.kind = 'credit_note' AND c.refers_to = ? AND l.source_line_no IS NOT NULL "
            "GROUP BY l.source_line_no",
            [number],
        ).fetchall()
    }
    by_no = {int(r[0]): r for r in src}
    if wanted is not None:
        unknown = sorted(set(wanted) - set(by_no))
        if unknown:
            raise ProcessingError(
                f"{number} has no line {', '.join(map(str, unknown))} (it has lines 1 to {len(src)})",
                invoice=number,
            )
    lines: list[list[Any]] = []
    credited = chain.one(
        con, "SELECT coalesce(-sum(CAST(total_ttc * 100 AS BIGINT)), 0) FROM invoices WHERE kind = 'credit_note' "
        "AND refers_to = ?", [number],
    )  # fmt: skip
    invoiced_ttc = sum(int(r[9]) + int(r[10]) for r in src)
    left_ttc = invoiced_ttc - int(credited[0] if credited else 0)
    if amount_cents is not None:
        if amount_cents > left_ttc:
            raise ProcessingError(
                f"{number}: {money.cents(left_ttc)} left to credit, cannot credit {money.cents(amount_cents)}",
                invoice=number,
            )
        lines = _amount_lines(src, amount_cents)
    for no, r in by_no.items():
        if amount_cents is not None:
            break
        if wanted is not None and no not in wanted:
            continue
        qty_all, ht_all, vat_all = int(r[6]), int(r[9]), int(r[10])
        q_done, ht_done, vat_done = done.get(no, (0, 0, 0))
        left = qty_all - q_done
        want = wanted.get(no) if wanted is not None else None
        qty = left if want is None else want
        if qty > left or left <= 0:
            if wanted is None:
                continue
            raise ProcessingError(
                f"line {no} of {number}: {left} left to credit, cannot credit {qty}", invoice=number
            )
        ht, vat = part_of_line(ht_all - ht_done, vat_all - vat_done, qty, left)
        lines.append(
            [
                len(lines) + 1,
                r[1],
                no,
                r[2],
                r[3],
                r[4],
                r[5],
                -qty,
                int(r[7]),
                int(r[8]),
                -ht,
                -vat,
                -(ht + vat),
            ]
        )
    if not lines:
        raise ProcessingError(f"{number} is already fully credited", invoice=number)
    if -sum(line[12] for line in lines) > left_ttc:  # money credited before (an amount) is not credited twice
        raise ProcessingError(
            f"{number}: only {money.cents(left_ttc)} is left to credit (part was credited as an amount): "
            "credit an amount or fewer lines",
            invoice=number,
        )
    vat_by: dict[int, list[int]] = {}
    for line in lines:
        if line[1] == "adjustment":
            continue
        per = vat_by.setdefault(line[9], [line[9], 0, 0])
        per[1] += line[10]
        per[2] += line[11]
    adjustment = sum(line[10] for line in lines if line[1] == "adjustment")
    total_ht = sum(line[10] for line in lines if line[1] != "adjustment")
    total_vat = sum(line[11] for line in lines)
    now = dt.datetime.now(dt.UTC)
    store_name = str(inv[3])
    series = numbering.series_for(
        settings.credit_series, year=now.astimezone(ZoneInfo(str(inv[4]))).year, store=store_name
    )
    seq, prev = chain.head(con, series)
    seq += 1
    header = {
        "kind": "credit_note",
        "series": series,
        "seq": seq,
        "number": numbering.document_number(series, seq),
        "issued_at": chain.epoch_us(now),
        "store": store_name,
        "order_id": int(inv[5]),
        "order_number": inv[6],
        "order_key": None,
        "refers_to": number,
        "reason": reason,
        "seller": inv[7],
        "buyer": inv[8],
        "currency": inv[9],
        "total_ht": total_ht,
        "total_vat": total_vat,
        "adjustment": adjustment,
        "total_ttc": total_ht + total_vat + adjustment,
        "payment_method": inv[10],
        "payment_title": inv[11],
        "transaction_id": inv[12],
        "paid_at": inv[13],
        "line_count": len(lines),
        "actor": actor,
        "prev_signature": prev,
    }
    doc = FiscalRecord(header, lines, sorted(vat_by.values(), reverse=True), store_id=int(inv[2]))
    doc.signature = chain.sign(key, prev, doc.canonical())
    first = write_documents(con, [doc])
    book_documents(con, first, first)
    chain.set_head(con, series, "credit_note", seq, doc.signature)
    full = all(
        int(r[6]) - done.get(int(r[0]), (0, 0, 0))[0] + next((ln[7] for ln in lines if ln[2] == r[0]), 0) == 0
        for r in src
    )
    detail = f"credit note {header['number']} for {number} ({money.cents(header['total_ttc'])}): {reason}"
    con.execute(
        "INSERT INTO order_events (store_id, order_id, happened_at, kind, actor, from_state, to_state, detail) "
        "VALUES (?, ?, now(), 'credit_note', ?, NULL, NULL, ?)",
        [inv[2], inv[5], actor, detail],
    )
    if full:
        # The shop's cancellation that asked for this credit note is now handled.
        con.execute(
            "UPDATE order_events SET needs_action = false WHERE store_id = ? AND order_id = ? AND needs_action",
            [inv[2], inv[5]],
        )
    chain.journal(
        con, key, "credit_note", actor, header["number"],
        {"invoice": number, "total_ttc": money.cents(header["total_ttc"]), "reason": reason, "full": full},
    )  # fmt: skip
    return Issued(
        header["number"],
        "credit_note",
        store_name,
        int(inv[5]),
        money.cents(header["total_ttc"]),
        money.cents(adjustment),
    )


def proposed_credit_notes(con: Connection) -> list[dict[str, Any]]:
    """Invoices whose order the shop cancelled or refunded afterwards (in full, or part of it: see
    :mod:`fastimport.processing.refunds`): each calls for a credit note."""
    from fastimport.processing.refunds import refund_proposals

    return _closed_proposals(con) + refund_proposals(con)


def _closed_proposals(con: Connection) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT DISTINCT s.name, e.order_id, i.number, e.to_state, e.detail FROM order_events e "
        "JOIN stores s USING (store_id) JOIN invoices i ON i.store_id = e.store_id AND i.order_id = e.order_id "
        f"AND i.kind = 'invoice' WHERE e.needs_action AND e.to_state IN {CLOSED_STATUSES} "
        # an invoice already fully credited (its lines' quantities all credited) calls for nothing more
        "AND EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.invoice_id AND l.quantity + coalesce(("
        "SELECT sum(c.quantity) FROM invoice_lines c JOIN invoices ci USING (invoice_id) WHERE ci.kind = "
        "'credit_note' AND ci.refers_to = i.number AND c.source_line_no = l.line_no), 0) > 0) "
        "ORDER BY s.name, e.order_id"
    ).fetchall()
    return [
        {
            "store": r[0],
            "order": r[1],
            "invoice": r[2],
            "shop_status": r[3],
            "detail": r[4],
            "command": f'fastimport credit-note {r[2]} --reason "{r[3]} on the shop"',
        }
        for r in rows
    ]
